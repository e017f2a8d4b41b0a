package bot_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// driftWorld is the bot and a rollout of the example repository to a
// real apiserver (target dev: no self-heal), on one GitHub double.
type driftWorld struct {
	*harness
	env  *kubetest.Env
	r    *rollout.Rollout
	ropt rollout.Options
	stop func() // stops the rollout
}

// lostSignal is a standby's relay whose signal never reaches the leader:
// only the record on the drift issue can bring the revert.
type lostSignal struct{ calls int }

func (l *lostSignal) KickRevert(context.Context, string) { l.calls++ }

func newDriftWorld(t *testing.T, reverts func(r *rollout.Rollout) bot.Reverts) *driftWorld {
	t.Helper()
	env := kubetest.ForTest(t)
	w := &driftWorld{env: env}
	w.harness = newHarness(t, func(o *bot.Options) {
		w.ropt = rollout.Options{Clients: o.Clients, Git: o.Git, Branches: map[string]string{repo: "main"},
			Targets: []cluster.Connection{{Config: env.Config(), Target: cluster.Target{Name: "dev", Repository: repo, Environments: []string{"dev"},
				Namespaces: []string{"team-*"}, ClusterScopedKinds: []string{"Namespace"}, Prune: true, DriftInterval: time.Hour,
				InventoryNamespace: cluster.DefaultInventoryNamespace}}},
			Interval: time.Hour, ScratchDir: t.TempDir(), Login: o.Login, Logger: o.Logger}
		r, err := rollout.New(w.ropt)
		if err != nil {
			t.Fatal(err)
		}
		w.r = r
		o.Drift, o.Reverts = r, reverts(r)
	})
	w.run(w.r)
	return w
}

// run runs r as the leader until stop or the end of the test.
func (w *driftWorld) run(r *rollout.Rollout) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	w.stop = func() { cancel(); <-done }
	w.t.Cleanup(w.stop)
}

func (w *driftWorld) kubectl(args ...string) {
	w.t.Helper()
	if out, err := w.env.Kubectl(context.Background(), args...).CombinedOutput(); err != nil {
		w.t.Fatalf("kubectl %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (w *driftWorld) live(kind, ns, name, path string) string {
	w.t.Helper()
	out, err := w.env.Kubectl(context.Background(), "get", kind, name, "-n", ns, "-o", "jsonpath="+path).CombinedOutput()
	if err != nil {
		w.t.Fatalf("get %s %s/%s: %v: %s", kind, ns, name, err, out)
	}
	return string(out)
}

func (w *driftWorld) driftIssue() githubtest.Issue {
	w.t.Helper()
	all, err := w.gh.Issues(repo)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, is := range all {
		if is.Title == "Drift on target dev" {
			return is
		}
	}
	return githubtest.Issue{}
}

func (w *driftWorld) applied(sha string) bool {
	all, err := w.gh.Statuses(repo)
	if err != nil {
		w.t.Fatal(err)
	}
	state := ""
	for _, st := range all {
		if st.SHA == sha && st.Context == rollout.StatusPrefix+"dev" {
			state = st.State
		}
	}
	return state == "success"
}

func (w *driftWorld) head() string {
	w.t.Helper()
	b, err := w.gh.Branches(context.Background(), repo)
	if err != nil {
		w.t.Fatal(err)
	}
	return b["main"]
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// adoptPR is the open pull request of an adopt branch, if any.
func (w *driftWorld) adoptPRs() []githubtest.PullRequest {
	var out []githubtest.PullRequest
	for _, pr := range w.pulls() {
		if strings.HasPrefix(pr.Head, bot.AdoptBranchPrefix) {
			out = append(out, pr)
		}
	}
	return out
}

// TestAdoptFromTheDriftIssue: on the drift issue, a live image is adopted
// into the request's image parameter and a live label no parameter sets
// as a patch in the environment root, in one pull request whose body
// shows those values and whose checks pass; once merged and applied, the
// object no longer drifts. A hidden value is refused with why and is
// never written anywhere; someone who may not request gets one refusal,
// however often they ask; and an adopt pull request whose drift is gone
// (reverted, with the closing webhook lost while gitvend was down) is
// closed with a comment when gitvend resyncs.
func TestAdoptFromTheDriftIssue(t *testing.T) {
	w := newDriftWorld(t, func(r *rollout.Rollout) bot.Reverts { return r })
	ctx := context.Background()
	eventually(t, "the first apply", func() bool { return w.applied(w.head()) })

	w.kubectl("set", "image", "deployment/payments-api", "-n", "team-payments", "app=ghcr.io/acme/payments:1.4.3")
	w.kubectl("label", "deployment/payments-api", "-n", "team-payments", "--overwrite", "app.kubernetes.io/name=payments")
	w.kubectl("set", "env", "statefulset/ledger-db", "-n", "team-payments", "POSTGRES_DB=stolen-db-name")
	var drift githubtest.Issue
	eventually(t, "the drift issue", func() bool {
		drift = w.driftIssue()
		return drift.State == "open" && strings.Contains(drift.Body, "Deployment team-payments/payments-api") &&
			strings.Contains(drift.Body, "StatefulSet team-payments/ledger-db") && strings.Contains(drift.Body, "app.kubernetes.io/name")
	})
	w.settle()

	// A reader asks twice: one refusal, nothing else.
	w.comment(drift.Number, "bob", "/provision revert")
	w.comment(drift.Number, "bob", "/provision adopt")
	w.settle()
	refusals := 0
	for _, c := range w.botComments(drift.Number) {
		if strings.Contains(c, "refused-bob") {
			refusals++
		}
		if strings.Contains(c, "gitvend:revert ") {
			t.Errorf("a refused person's revert was recorded:\n%s", c)
		}
	}
	if refusals != 1 || len(w.adoptPRs()) != 0 {
		t.Errorf("%d refusals of bob, %d adopt pull requests; want 1 and 0", refusals, len(w.adoptPRs()))
	}

	// A hidden value is not adopted.
	w.comment(drift.Number, "alice", "/provision adopt object=StatefulSet/team-payments/ledger-db")
	w.settle()
	if prs := w.adoptPRs(); len(prs) != 0 {
		t.Fatalf("an adopt pull request for a hidden value: %+v", prs)
	}
	var refusedHidden bool
	for _, c := range w.botComments(drift.Number) {
		refusedHidden = refusedHidden || strings.Contains(c, "nothing of StatefulSet/team-payments/ledger-db on target dev can be adopted") && strings.Contains(c, "hidden")
		if strings.Contains(c, "stolen-db-name") {
			t.Errorf("a reply shows the hidden value:\n%s", c)
		}
	}
	if !refusedHidden {
		t.Errorf("no reply says the hidden value is not adopted: %q", w.botComments(drift.Number))
	}

	// The Deployment: its image into the parameter, its label as a patch.
	// The comment's webhook is lost: the resync answers it.
	w.settle()
	w.gh.DropWebhooks(1)
	w.comment(drift.Number, "alice", "/provision adopt object=Deployment/team-payments/payments-api")
	w.settle()
	if prs := w.adoptPRs(); len(prs) != 0 {
		t.Fatalf("an adopt pull request before the resync: %+v", prs)
	}
	if err := w.bot.Resync(ctx, repo); err != nil {
		t.Fatal(err)
	}
	w.settle()
	prs := w.adoptPRs()
	if len(prs) != 1 {
		t.Fatalf("%d adopt pull requests, want 1", len(prs))
	}
	pr := prs[0]
	for _, want := range []string{"parameter `image` = `\"ghcr.io/acme/payments:1.4.3\"`", "`metadata.labels[app.kubernetes.io/name]` = `\"payments\"`", "#" + strconv.Itoa(drift.Number)} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("the pull request body does not show %s:\n%s", want, pr.Body)
		}
	}
	files := w.files(pr.HeadSHA)
	if !strings.Contains(files["requests/dev/team-payments/payments-api.yaml"], "image: ghcr.io/acme/payments:1.4.3") ||
		!strings.Contains(files["requests/dev/team-payments/payments-api/deployment-payments-api.yaml"], "image: ghcr.io/acme/payments:1.4.3") {
		t.Errorf("the request and its render do not hold the live image")
	}
	patch := files["environments/dev/adopted/deployment-team-payments-payments-api.yaml"]
	if !strings.Contains(patch, "/metadata/labels/app.kubernetes.io~1name") || !strings.Contains(patch, "value: payments") {
		t.Errorf("patch file:\n%s", patch)
	}
	if !strings.Contains(files["environments/dev/kustomization.yaml"], "path: adopted/deployment-team-payments-payments-api.yaml") {
		t.Errorf("the environment root does not name the patch:\n%s", files["environments/dev/kustomization.yaml"])
	}
	for name, run := range w.checkRuns(pr.HeadSHA) {
		if run.Conclusion != "success" && run.Conclusion != "neutral" {
			t.Errorf("check %s on the adopt pull request: %s %s: %s\n%s\n%+v", name, run.Status, run.Conclusion, run.Title, run.Summary, run.Annotations)
		}
	}
	if len(w.checkRuns(pr.HeadSHA)) == 0 {
		t.Error("the adopt pull request was not checked")
	}
	sha, err := w.gh.MergePullRequest(ctx, repo, pr.Number, "alice")
	if err != nil {
		t.Fatal(err)
	}
	w.r.Pushed(ctx, repo, "main", sha)
	eventually(t, "the merge applied", func() bool { return w.applied(sha) })
	// The merge applies Git to the whole target: the adopted values stay,
	// the rest is undone, and the issue closes.
	eventually(t, "the drift issue to close after the merge", func() bool { return w.driftIssue().State == "closed" })
	if got := w.live("statefulset", "team-payments", "ledger-db", `{.spec.template.spec.containers[0].env[?(@.name=="POSTGRES_DB")].value}`); got != "app" {
		t.Errorf("POSTGRES_DB after the merge: %q", got)
	}
	if got := w.live("deployment", "team-payments", "payments-api", "{.spec.template.spec.containers[0].image}"); got != "ghcr.io/acme/payments:1.4.3" {
		t.Errorf("live image after the merge: %s", got)
	}

	// An adopt pull request whose drift goes away while gitvend misses
	// the issue's closing: closed at the next resync.
	w.kubectl("label", "service/payments-api", "-n", "team-payments", "--overwrite", "app.kubernetes.io/name=payments")
	eventually(t, "the Service drifting", func() bool {
		d := w.driftIssue()
		return d.State == "open" && strings.Contains(d.Body, "Service team-payments/payments-api")
	})
	w.settle()
	w.comment(drift.Number, "alice", "/provision adopt object=Service/team-payments/payments-api")
	w.settle()
	var second githubtest.PullRequest
	for _, p := range w.adoptPRs() {
		if p.State == "open" {
			second = p
		}
	}
	if second.Number == 0 {
		t.Fatalf("no adopt pull request for the Service: %q", w.botComments(drift.Number))
	}
	w.gh.SetWebhookFilter(func(d githubtest.Delivery) bool { return !(d.Event == "issues" && d.Action == "closed") })
	w.comment(drift.Number, "alice", "/provision revert")
	eventually(t, "the drift issue to close", func() bool { return w.driftIssue().State == "closed" })
	w.settle()
	w.gh.SetWebhookFilter(nil)
	if is := w.issue(second.Number); is.State != "open" {
		t.Fatalf("the adopt pull request closed before gitvend heard of the drift's end: %s", is.State)
	}
	if err := w.bot.Resync(ctx, repo); err != nil {
		t.Fatal(err)
	}
	is := w.issue(second.Number)
	if is.State != "closed" {
		t.Fatalf("the adopt pull request of a drift gone is %s after a resync", is.State)
	}
	var said bool
	for _, c := range is.Comments {
		said = said || c.User == w.gh.BotLogin() && strings.Contains(c.Body, "The drift this adopts is gone")
	}
	if !said {
		t.Errorf("the closed adopt pull request does not say why: %+v", is.Comments)
	}
	if got := w.live("service", "team-payments", "payments-api", `{.metadata.labels.app\.kubernetes\.io/name}`); got != "payments-api" {
		t.Errorf("the Service's label after the revert of the target: %q", got)
	}
}

// TestRevertReachesANewLeader: a revert taken on a replica whose signal
// to the leader is lost waits as a record on the drift issue; the leader
// that starts next carries it out, once, and the issue closes; a target
// that does not heal itself is reverted all the same.
func TestRevertReachesANewLeader(t *testing.T) {
	relay := &lostSignal{}
	w := newDriftWorld(t, func(*rollout.Rollout) bot.Reverts { return relay })
	eventually(t, "the first apply", func() bool { return w.applied(w.head()) })
	w.kubectl("set", "image", "deployment/payments-api", "-n", "team-payments", "app=ghcr.io/acme/payments:9.9.9")
	var drift githubtest.Issue
	eventually(t, "the drift issue", func() bool {
		drift = w.driftIssue()
		return drift.State == "open" && strings.Contains(drift.Body, "Deployment team-payments/payments-api")
	})
	w.settle()
	w.comment(drift.Number, "alice", "/provision revert object=Deployment/team-payments/payments-api")
	w.settle()
	if relay.calls != 1 {
		t.Errorf("the revert was handed on %d times, want 1", relay.calls)
	}
	record := func() string {
		for _, c := range w.botComments(drift.Number) {
			if strings.Contains(c, "gitvend:revert target=dev object=Deployment/team-payments/payments-api") {
				return c
			}
		}
		return ""
	}
	if !strings.Contains(record(), "state=pending") {
		t.Fatalf("no pending revert recorded: %q", w.botComments(drift.Number))
	}
	// The old leader never hears of it; a new one starts.
	w.stop()
	if got := w.live("deployment", "team-payments", "payments-api", "{.spec.template.spec.containers[0].image}"); got != "ghcr.io/acme/payments:9.9.9" {
		t.Fatalf("reverted before any leader read the record: %s", got)
	}
	next, err := rollout.New(w.ropt)
	if err != nil {
		t.Fatal(err)
	}
	w.run(next)
	eventually(t, "the revert done by the new leader", func() bool { return strings.Contains(record(), "state=done") })
	eventually(t, "the drift issue to close", func() bool { return w.driftIssue().State == "closed" })
	if got := w.live("deployment", "team-payments", "payments-api", "{.spec.template.spec.containers[0].image}"); got != "ghcr.io/acme/payments:1.4.2" {
		t.Errorf("image after the revert: %s", got)
	}
	if c := record(); strings.Count(c, "Reverted ") != 1 {
		t.Errorf("the record says the revert ran %d times:\n%s", strings.Count(c, "Reverted "), c)
	}
}
