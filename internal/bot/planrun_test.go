package bot_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/rollout"
	"k8s.io/client-go/rest"
)

// planFingerprints are the hashes that stand for hidden values.
var planFingerprints = regexp.MustCompile(`#[0-9a-f]{8}`)

// planChange is a pull request's change to the dev environment: a value
// changed (hidden), an object added, the search-pr-42 request's three
// objects removed (past a threshold of 2), and an object in a namespace
// the target refuses.
func planChange(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	root := "environments/dev/"
	k := files[root+"kustomization.yaml"]
	settings := files[root+"search-config.yaml"]
	if !strings.Contains(k, "search-pr-42\n") || !strings.Contains(settings, `index.shards: "3"`) {
		t.Fatal("the example repository changed; the plan test needs its dev root")
	}
	return map[string]string{
		root + "kustomization.yaml": strings.Replace(k, "  - ../../requests/dev/team-search/search-pr-42\n", "", 1),
		root + "search-config.yaml": strings.Replace(settings, `index.shards: "3"`, `index.shards: "5"`, 1) + `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: search-synonyms
  namespace: team-search
  labels:
    gitvend.dev/owner: search
data:
  synonyms: "car,automobile"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: sneaky
  namespace: kube-system
  labels:
    gitvend.dev/owner: search
`,
	}
}

// TestPlanOnThePullRequest: a pull request's head is planned on the live
// cluster (created, changed with hidden values, pruned, refused; an
// unreachable target said plainly), writing nothing; its prune past the
// threshold fails the plan run until someone allowed confirms it (a
// stranger's confirmation is refused once and changes nothing); a push
// needs a new confirmation; after the merge the rollout prunes past the
// threshold only when the merged head was confirmed.
func TestPlanOnThePullRequest(t *testing.T) {
	env := kubetest.ForTest(t)
	ctx := context.Background()
	dev := cluster.Target{Name: "dev", Repository: repo, Environments: []string{"dev"}, Namespaces: []string{"team-*"},
		ClusterScopedKinds: []string{"Namespace"}, Prune: true, MaxPrune: 2, DriftInterval: time.Hour,
		InventoryNamespace: cluster.DefaultInventoryNamespace}
	dead := dev
	dead.Name = "dead"
	var r *rollout.Rollout
	planner := &countingPlanner{}
	h := newHarness(t, func(o *bot.Options) {
		var err error
		r, err = rollout.New(rollout.Options{Clients: o.Clients, Git: o.Git, Branches: map[string]string{repo: ""},
			Targets:    []cluster.Connection{{Target: dev, Config: env.Config()}, {Target: dead, Config: &rest.Config{Host: "https://127.0.0.1:1"}}},
			ScratchDir: t.TempDir(), PlanTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		planner.p = r
		o.Planner = planner
	})
	if err := h.gh.SetPermission(repo, "dave", "maintain"); err != nil {
		t.Fatal(err)
	}
	// The default branch as applied: what the pull request is planned against.
	base, err := reconcile.Desired(ctx, "../../examples/desired-state", dev)
	if err != nil {
		t.Fatal(err)
	}
	rec := r.Reconciler("dev")
	if _, err := rec.Apply(ctx, base, "base"); err != nil {
		t.Fatal(err)
	}
	before := liveVersions(t, env)

	head, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "shrink-search", Files: planChange(t, h.files("main"))})
	if err != nil {
		t.Fatal(err)
	}
	n, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: "shrink-search", Title: "Shrink search"})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	run := h.checkRuns(head)[bot.CheckPlan]
	if run.Conclusion != "failure" || !strings.HasPrefix(run.Title, "prune needs confirmation") {
		t.Fatalf("plan run: %s %q, want failure: prune needs confirmation\n%s", run.Conclusion, run.Title, run.Summary)
	}
	if after := liveVersions(t, env); after != before {
		t.Errorf("planning changed the cluster:\nbefore %s\nafter  %s", before, after)
	}
	// The section of dev is the plan's own text, line by line.
	objs, err := reconcile.Desired(ctx, writeTree(t, h, head), dev)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rec.Plan(ctx, objs, "")
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	_ = p.WriteText(&text)
	summary := planFingerprints.ReplaceAllString(run.Summary, "#fp")
	for _, line := range strings.Split(strings.TrimSpace(text.String()), "\n")[1:] {
		if strings.HasPrefix(line, "prune needs confirmation") {
			continue
		}
		if want := "`" + planFingerprints.ReplaceAllString(strings.TrimSpace(line), "#fp") + "`"; !strings.Contains(summary, want) {
			t.Errorf("plan run lacks %s\n%s", want, run.Summary)
		}
	}
	for _, want := range []string{"+ ConfigMap/team-search/search-synonyms", "data[index.shards]:", "(values hidden)",
		"- Service/team-search/search-pr-42", "! ConfigMap/kube-system/sneaky", "### Target `dead`", "could not be asked",
		"`/provision confirm-prune`"} {
		if !strings.Contains(run.Summary, want) {
			t.Errorf("plan run lacks %q:\n%s", want, run.Summary)
		}
	}
	if strings.Contains(run.Summary, "automobile") || strings.Contains(run.Summary, `"5"`) {
		t.Errorf("plan run shows a hidden value:\n%s", run.Summary)
	}

	// bob may not request: his confirmation is refused once, and changes
	// nothing; no cluster is asked for it.
	planned := planner.calls.Load()
	h.comment(n, "bob", "/provision confirm-prune")
	h.comment(n, "bob", "/provision confirm-prune")
	h.settle()
	if got := planner.calls.Load() - planned; got != 0 {
		t.Errorf("a stranger's confirmation planned %d times, want none", got)
	}
	if got := confirmations(t, h.gh, head); got != 0 {
		t.Fatalf("a stranger's confirmation set %d statuses", got)
	}
	if refusals := countContaining(h.botComments(n), "bob"); refusals != 1 {
		t.Errorf("bob got %d refusals, want 1: %q", refusals, h.botComments(n))
	}
	// carol may request but does not maintain: her label confirms nothing.
	if err := h.gh.AddLabels(ctx, repo, n, "carol", cluster.ConfirmPrune); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if got := confirmations(t, h.gh, head); got != 0 {
		t.Fatalf("a label by someone who does not maintain the repository set %d statuses", got)
	}
	if run := h.checkRuns(head)[bot.CheckPlan]; run.Conclusion != "failure" {
		t.Errorf("plan run after refused confirmations: %s", run.Conclusion)
	}

	// A writer's own status of the confirmation's name confirms nothing.
	if err := h.gh.PostStatus(ctx, repo, githubtest.StatusSpec{User: "carol", SHA: head, State: "success", Context: cluster.ConfirmPrune}); err != nil {
		t.Fatal(err)
	}
	// Merged unconfirmed, the rollout refuses to prune past the threshold.
	if _, err := h.gh.MergePullRequest(ctx, repo, n, "carol"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if err := r.Sync(ctx, repo); err == nil {
		t.Log("sync finished")
	}
	if !exists(t, env, "service", "search-pr-42") {
		t.Fatal("an unconfirmed prune past the threshold was applied after the merge")
	}

	// The next pull request that changes dev still prunes them (they wait
	// in the inventory): alice confirms it by comment,
	// a push asks again, and dave's label confirms the new head.
	settings := h.files("main")["environments/dev/search-config.yaml"]
	settings = settings[:strings.Index(settings, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sneaky")]
	more := func(shards string) map[string]string {
		return map[string]string{"environments/dev/search-config.yaml": strings.Replace(settings, `index.shards: "5"`, `index.shards: "`+shards+`"`, 1)}
	}
	head2, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "more", Files: more("6")})
	if err != nil {
		t.Fatal(err)
	}
	n2, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: "more", Title: "More"})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	if run := h.checkRuns(head2)[bot.CheckPlan]; run.Conclusion != "failure" {
		t.Fatalf("plan of a pull request while objects wait to be pruned: %s %q", run.Conclusion, run.Title)
	}
	h.comment(n2, "alice", "/provision confirm-prune")
	h.settle()
	// Confirmed, the run no longer fails; it is neutral, never failing, for
	// the target that cannot be reached.
	if run := h.checkRuns(head2)[bot.CheckPlan]; run.Conclusion != "neutral" || !strings.Contains(run.Summary, "Prune confirmed") {
		t.Fatalf("plan run after alice's confirmation: %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
	if got := confirmations(t, h.gh, head2); got != 1 {
		t.Fatalf("alice's confirmation set %d statuses, want 1", got)
	}
	head3, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "more", Files: more("7")})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	if run := h.checkRuns(head3)[bot.CheckPlan]; run.Conclusion != "failure" {
		t.Fatalf("plan run of a push after the confirmation: %s, want failure until confirmed again", run.Conclusion)
	}
	if err := h.gh.AddLabels(ctx, repo, n2, "dave", cluster.ConfirmPrune); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if run := h.checkRuns(head3)[bot.CheckPlan]; run.Conclusion != "neutral" || !strings.Contains(run.Summary, "confirmed by @dave") {
		t.Fatalf("plan run after the maintainer's label: %s %q", run.Conclusion, run.Title)
	}
	if _, err := h.gh.MergePullRequest(ctx, repo, n2, "carol"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	_ = r.Sync(ctx, repo)
	if exists(t, env, "service", "search-pr-42") {
		t.Fatal("the confirmed prune was not applied after the merge")
	}
}

// countingPlanner counts the plans it is asked for.
type countingPlanner struct {
	p     bot.Planner
	calls atomic.Int64
}

func (c *countingPlanner) Plan(ctx context.Context, repo string, base, head reconcile.Checkout) []*reconcile.Plan {
	c.calls.Add(1)
	return c.p.Plan(ctx, repo, base, head)
}

// confirmations counts gitvend's own prune confirmations on sha.
func confirmations(t *testing.T, gh *githubtest.Server, sha string) int {
	t.Helper()
	sts, err := gh.Statuses(repo)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, st := range sts {
		if st.SHA == sha && st.Context == cluster.ConfirmPrune && st.State == "success" && st.Creator == gh.BotLogin() {
			n++
		}
	}
	return n
}

func countContaining(list []string, s string) int {
	n := 0
	for _, e := range list {
		if strings.Contains(e, s) {
			n++
		}
	}
	return n
}

// writeTree writes the files of ref into a directory.
func writeTree(t *testing.T, h *harness, ref string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range h.files(ref) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func exists(t *testing.T, env *kubetest.Env, kind, name string) bool {
	t.Helper()
	return env.Kubectl(context.Background(), "get", "-n", "team-search", kind, name).Run() == nil
}

// liveVersions lists the resourceVersion of every object of the kinds
// the example applies, and of gitvend's inventory.
func liveVersions(t *testing.T, env *kubetest.Env) string {
	t.Helper()
	out, err := env.Kubectl(context.Background(), "get", "namespaces,configmaps,services,deployments,ingresses,cronjobs,roles,rolebindings,networkpolicies,events",
		"-A", "-o", `jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}={.metadata.resourceVersion} {end}`).Output()
	if err != nil {
		t.Fatalf("kubectl get: %v", err)
	}
	return string(out)
}
