package bot_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/githubtest"
)

// clock is the bot's injected clock: the real time (GitHub's, in the
// double) moved on by an offset the test sets.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time             { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) set(d time.Duration)        { c.offset.Store(int64(d)) }
func (c *clock) option() func(*bot.Options) { return func(o *bot.Options) { o.Now = c.now } }

// expiryHarness is a harness whose dev environment has the expiry rules
// settings (YAML lines under "- name: dev"), with the bot on clk.
func expiryHarness(t *testing.T, clk *clock, settings string) *harness {
	t.Helper()
	return expiryHarnessWith(t, clk, settings)
}

// expiryHarnessWith is expiryHarness with more options.
func expiryHarnessWith(t *testing.T, clk *clock, settings string, opts ...func(*bot.Options)) *harness {
	t.Helper()
	h := newHarness(t, append([]func(*bot.Options){clk.option()}, opts...)...)
	cfg := exampleFiles(t)["gitvend.yaml"]
	if !strings.Contains(cfg, "- name: dev\n") {
		t.Fatal("the example's gitvend.yaml has no dev environment")
	}
	cfg = strings.Replace(cfg, "- name: dev\n", "- name: dev\n"+settings, 1)
	if _, err := h.gh.Push(context.Background(), repo, githubtest.PushSpec{User: "alice", Branch: "main", Message: "Expiry rules for dev",
		Files: map[string]string{"gitvend.yaml": cfg}}); err != nil {
		t.Fatal(err)
	}
	h.settle()
	return h
}

// mergedRequest opens alice's request with ttl, merges its pull request
// and returns the issue and when GitHub merged it.
func mergedRequest(t *testing.T, h *harness, ttl string) (int, time.Time) {
	t.Helper()
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	h.comment(n, "alice", "/provision set ttl="+ttl)
	h.settle()
	pr := h.onePR(n)
	if _, err := h.gh.MergePullRequest(context.Background(), repo, pr.Number, "carol"); err != nil {
		t.Fatal(err)
	}
	merged := time.Now()
	h.settle()
	if h.issue(n).State != "closed" {
		t.Fatalf("issue #%d still open after the merge", n)
	}
	return n, merged
}

// resync runs b's resync of the repository (h.bot's when b is nil).
func (h *harness) resync(b *bot.Bot) {
	h.t.Helper()
	if b == nil {
		b = h.bot
	}
	if err := b.Resync(context.Background(), repo); err != nil {
		h.t.Fatal(err)
	}
}

// restarted is a new bot process on the same GitHub, as after a restart.
func (h *harness) restarted() *bot.Bot {
	h.t.Helper()
	o := h.opts
	o.Registerer = prometheus.NewRegistry()
	b, err := bot.New(o)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// commentsWith are the bot's comments on issue n that contain s.
func (h *harness) commentsWith(n int, s string) []string {
	var out []string
	for _, c := range h.botComments(n) {
		if strings.Contains(c, s) {
			out = append(out, c)
		}
	}
	return out
}

// expiryPRs are the pull requests labelled gitvend/expiry.
func (h *harness) expiryPRs() []githubtest.PullRequest {
	var out []githubtest.PullRequest
	for _, p := range h.pulls() {
		for _, l := range p.Labels {
			if l == bot.ExpiryLabel {
				out = append(out, p)
			}
		}
	}
	return out
}

// TestExpiryWarnsOnceThenRemovesOnce: a request with ttl=48h is warned
// once within the environment's expiryWarning, shown on the status page,
// and at expiry, which falls due while gitvend is down, the restarted
// process opens the same removal /provision destroy would, labelled as an
// expiry, once over two resyncs and another restart. Without autoMerge it
// stays open.
func TestExpiryWarnsOnceThenRemovesOnce(t *testing.T) {
	clk := &clock{}
	h := expiryHarness(t, clk, "  maxTTL: 7d\n  expiryWarning: 2h\n")
	n, merged := mergedRequest(t, h, "48h")

	h.resync(nil)
	if got := h.commentsWith(n, "expires on"); len(got) != 0 {
		t.Fatalf("warned two days early: %q", got)
	}
	ex := h.bot.Expiries()
	if len(ex) != 1 || ex[0].Issue != n || ex[0].Name != "orders" || ex[0].Environment != "dev" {
		t.Fatalf("status page expiries: %+v", ex)
	}
	if d := ex[0].Due.Sub(merged.Add(48 * time.Hour)); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("due %s, want 48h after the merge at %s", ex[0].Due, merged)
	}

	// Within the warning window: one warning, however many resyncs.
	clk.set(46*time.Hour + time.Minute)
	h.resync(nil)
	h.resync(nil)
	h.settle()
	warnings := h.commentsWith(n, "expires on")
	if len(warnings) != 1 {
		t.Fatalf("warnings: %q", warnings)
	}
	for _, want := range []string{"**orders** expires on " + ex[0].Due.Format("2006-01-02 15:04") + " UTC", "(in 2 hours)",
		"48h after its pull request was merged", "`/provision extend ttl=7d`", "at most 7d in dev", "opens the pull request that removes it."} {
		if !strings.Contains(warnings[0], want) {
			t.Errorf("warning lacks %q:\n%s", want, warnings[0])
		}
	}
	if len(h.expiryPRs()) != 0 {
		t.Fatal("an expiry pull request before the expiry")
	}

	// gitvend is down when the request falls due: nothing is delivered.
	h.gh.SetWebhookFilter(func(githubtest.Delivery) bool { return false })
	clk.set(50 * time.Hour)
	up := h.restarted()
	h.resync(up)
	h.resync(up)
	h.resync(h.restarted())
	h.gh.SetWebhookFilter(nil)
	h.resync(nil)
	h.settle()

	prs := h.expiryPRs()
	if len(prs) != 1 {
		t.Fatalf("expiry pull requests: %+v", prs)
	}
	removal := prs[0]
	if removal.State != "open" || removal.Merged || !strings.HasPrefix(removal.Title, "gitvend: remove orders") || removal.Head != bot.BranchPrefix+itoa(n) {
		t.Fatalf("expiry pull request: %+v", removal)
	}
	for p := range h.files(removal.Head) {
		if strings.HasPrefix(p, "requests/dev/team-payments/orders") {
			t.Errorf("the removal keeps %s", p)
		}
	}
	if runs := h.checkRuns(removal.HeadSHA); len(runs) != 2 {
		t.Errorf("check runs on the removal: %+v", runs)
	}
	if got := h.commentsWith(n, "expired on"); len(got) != 1 || !strings.Contains(got[0], "#"+itoa(removal.Number)+" removes it") {
		t.Errorf("expired comments: %q", got)
	}
	if got := h.commentsWith(n, "expires on"); len(got) != 1 {
		t.Errorf("warnings after the expiry: %q", got)
	}
	if got := h.commentsWith(n, "#"+itoa(removal.Number)+" removes **orders**"); len(got) != 1 {
		t.Errorf("status after expiry: %q", h.botComments(n))
	}
	// Someone closes the removal unmerged: the same expiry never opens
	// another, in this process or the next.
	if err := h.gh.CloseIssue(context.Background(), repo, removal.Number, "alice"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.resync(nil)
	h.resync(h.restarted())
	h.settle()
	for _, p := range h.pulls() {
		if p.State == "open" {
			t.Errorf("a pull request was opened again: %+v", p)
		}
	}
	if got := h.commentsWith(n, "expired on"); len(got) != 1 {
		t.Errorf("expired comments after the close: %q", got)
	}
}

// TestExtend: /provision extend by someone who may request in the
// environment moves the expiry, counted from the comment; by someone with
// write permission outside the owning team, or a stranger, it changes
// nothing; an extension past maxTTL is refused with the field error.
func TestExtend(t *testing.T) {
	clk := &clock{}
	h := expiryHarness(t, clk, "  maxTTL: 7d\n")
	if err := h.gh.SetPermission(repo, "mallory", "none"); err != nil {
		t.Fatal(err)
	}
	n, merged := mergedRequest(t, h, "48h")
	h.resync(nil)
	due := h.bot.Expiries()[0].Due

	h.comment(n, "mallory", "/provision extend ttl=7d")
	h.comment(n, "carol", "/provision extend ttl=7d")
	h.comment(n, "alice", "/provision extend ttl=30d")
	h.settle()
	h.resync(nil)
	if got := h.bot.Expiries(); len(got) != 1 || !got[0].Due.Equal(due) {
		t.Fatalf("expiry after refused extensions: %+v, want %s", got, due)
	}
	if got := h.commentsWith(n, "only members of team payments"); len(got) != 1 || !strings.Contains(got[0], "@carol") {
		t.Errorf("carol's refusal: %q", h.botComments(n))
	}
	if got := h.commentsWith(n, "30d is longer than dev allows; at most 7d"); len(got) != 1 {
		t.Errorf("alice's too long extension: %q", h.botComments(n))
	}
	for _, c := range h.issue(n).Comments {
		if c.User == "mallory" && len(c.Reactions) > 0 {
			t.Errorf("mallory's comment got reactions: %+v", c.Reactions)
		}
	}
	if got := h.commentsWith(n, "@mallory"); len(got) > 1 {
		t.Errorf("more than one reply to mallory: %q", got)
	}

	// Alice's extension counts from her comment.
	h.comment(n, "alice", "/provision extend ttl=72h")
	wrote := time.Now()
	h.settle()
	h.resync(nil)
	got := h.bot.Expiries()
	if len(got) != 1 || got[0].Due.Sub(wrote.Add(72*time.Hour)).Abs() > 5*time.Second {
		t.Fatalf("expiry after alice's extension: %+v, want about %s (merged %s)", got, wrote.Add(72*time.Hour), merged)
	}
	if c := h.commentsWith(n, "now expires on "+got[0].Due.Format("2006-01-02 15:04")+" UTC, 72h after this comment"); len(c) != 1 {
		t.Errorf("reply to the extension: %q", h.botComments(n))
	}
	// The old expiry passes: nothing happens.
	clk.set(49 * time.Hour)
	h.resync(nil)
	h.settle()
	if prs := h.expiryPRs(); len(prs) != 0 {
		t.Fatalf("removed at the old expiry: %+v", prs)
	}
	// The new one opens the removal.
	clk.set(73 * time.Hour)
	h.resync(nil)
	h.settle()
	if prs := h.expiryPRs(); len(prs) != 1 || prs[0].State != "open" {
		t.Fatalf("expiry pull requests at the new expiry: %+v", prs)
	}
}

// TestTTLRules: an environment that requires a ttl refuses a request
// without one, and one whose ttl passes maxTTL, with the field error.
func TestTTLRules(t *testing.T) {
	clk := &clock{}
	h := expiryHarness(t, clk, "  requireTTL: true\n  maxTTL: 3d\n")
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	if got := h.commentsWith(n, "spec.ttl: is required in dev; give one such as ttl=3d"); len(got) != 1 {
		t.Fatalf("no ttl: %q", h.botComments(n))
	}
	if len(h.pulls()) != 0 {
		t.Fatal("a pull request without the ttl dev requires")
	}
	h.comment(n, "alice", "/provision set ttl=4d")
	h.settle()
	if got := h.commentsWith(n, "spec.ttl: 4d is longer than dev allows; at most 3d"); len(got) != 1 {
		t.Fatalf("too long a ttl: %q", h.botComments(n))
	}
	if len(h.pulls()) != 0 {
		t.Fatal("a pull request with a ttl past maxTTL")
	}
	h.comment(n, "alice", "/provision set ttl=3d")
	h.settle()
	if pr := h.onePR(n); !strings.Contains(h.files(pr.Head)["requests/dev/team-payments/orders.yaml"], "ttl: 3d") {
		t.Errorf("the request record lacks its ttl:\n%s", h.files(pr.Head)["requests/dev/team-payments/orders.yaml"])
	}
}

// TestExpiryAutoMerge: in an environment with autoMerge, the expiry's
// removal is merged through the API once gitvend's checks passed, once.
func TestExpiryAutoMerge(t *testing.T) {
	clk := &clock{}
	h := expiryHarness(t, clk, "  autoMerge: true\n")
	n, _ := mergedRequest(t, h, "1h")
	clk.set(2 * time.Hour)
	h.resync(nil)
	h.settle()
	h.resync(nil)
	h.settle()
	prs := h.expiryPRs()
	if len(prs) != 1 || !prs[0].Merged || prs[0].MergedBy != h.gh.BotLogin() {
		t.Fatalf("expiry pull requests: %+v", prs)
	}
	if _, ok := h.files("main")["requests/dev/team-payments/orders.yaml"]; ok {
		t.Error("the merged expiry left the request in main")
	}
	if got := h.commentsWith(n, "expired on"); len(got) != 1 || !strings.Contains(got[0], "merged once its checks pass") {
		t.Errorf("expired comment: %q", got)
	}
	// Removed, the request expires no more.
	if got := h.bot.Expiries(); len(got) != 0 {
		t.Errorf("expiries after the removal: %+v", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestExpiryAutoMergeNeedsPassingChecks: an expiry's removal whose policy
// check fails (main broke a policy meanwhile) is left open, however many
// resyncs pass.
func TestExpiryAutoMergeNeedsPassingChecks(t *testing.T) {
	clk := &clock{}
	h := expiryHarness(t, clk, "  autoMerge: true\n")
	mergedRequest(t, h, "1h")
	bad := `apiVersion: v1
kind: Pod
metadata:
  name: search-settings
  namespace: team-search
  labels:
    app.kubernetes.io/name: search-settings
    gitvend.dev/owner: search
spec:
  containers:
  - name: x
    image: quay.io/elsewhere/x:1
`
	if _, err := h.gh.Push(context.Background(), repo, githubtest.PushSpec{User: "alice", Branch: "main", Message: "A pod from another registry",
		Files: map[string]string{"environments/dev/search-config.yaml": bad}}); err != nil {
		t.Fatal(err)
	}
	h.settle()
	clk.set(2 * time.Hour)
	h.resync(nil)
	h.settle()
	h.resync(nil)
	h.settle()
	prs := h.expiryPRs()
	if len(prs) != 1 {
		t.Fatalf("expiry pull requests: %+v", prs)
	}
	if runs := h.checkRuns(prs[0].HeadSHA); runs[bot.CheckPolicy].Conclusion != "failure" {
		t.Fatalf("the removal's policy run: %+v", runs[bot.CheckPolicy])
	}
	if prs[0].Merged || prs[0].State != "open" {
		t.Errorf("merged although its policy check failed: %+v", prs[0])
	}
}

// TestExpiryAutoMergeOnlyItsOwnCommit: the expiry's removal waits, its
// policy check failing (main broke a policy meanwhile). Someone with
// write access pushes a commit of their own onto the removal's branch
// that swaps the offending Pod for a ConfigMap: every check on that head
// passes. gitvend merges only the removal it proposed, never a head
// someone else wrote, so the swapped file never reaches main unreviewed.
func TestExpiryAutoMergeOnlyItsOwnCommit(t *testing.T) {
	clk := &clock{}
	h := expiryHarness(t, clk, "  autoMerge: true\n")
	mergedRequest(t, h, "1h")
	bad := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: search-settings\n  namespace: team-search\n  labels:\n    app.kubernetes.io/name: search-settings\n    gitvend.dev/owner: search\nspec:\n  containers:\n  - name: x\n    image: quay.io/elsewhere/x:1\n"
	if _, err := h.gh.Push(context.Background(), repo, githubtest.PushSpec{User: "alice", Branch: "main", Message: "A pod from another registry",
		Files: map[string]string{"environments/dev/search-config.yaml": bad}}); err != nil {
		t.Fatal(err)
	}
	h.settle()
	clk.set(2 * time.Hour)
	h.resync(nil)
	h.settle()
	prs := h.expiryPRs()
	if len(prs) != 1 || prs[0].Merged {
		t.Fatalf("expiry pull requests before the push: %+v", prs)
	}
	mended := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: search-settings\n  namespace: team-search\n  labels:\n    app.kubernetes.io/name: search-settings\n    gitvend.dev/owner: search\ndata:\n  a: b\n"
	pushed, err := h.gh.Push(context.Background(), repo, githubtest.PushSpec{User: "carol", Branch: prs[0].Head, Message: "Mend the pod, and one more thing",
		Files: map[string]string{"environments/dev/search-config.yaml": mended}})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	if runs := h.checkRuns(pushed); runs[bot.CheckPolicy].Conclusion != "success" {
		t.Fatalf("the pushed head's policy run: %+v (the attack needs it to pass)", runs[bot.CheckPolicy])
	}
	for i := 0; i < 2; i++ {
		h.resync(nil)
		h.settle()
	}
	if strings.Contains(h.files("main")["environments/dev/search-config.yaml"], "kind: ConfigMap") {
		t.Fatal("a commit pushed onto the expiry's branch by someone else was merged without review")
	}
}
