package rollout_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// freezeWindow freezes dev in Berlin from Friday 18:00 to Monday 06:00.
const freezeWindow = `- name: dev
  windows:
  - name: release-freeze
    kind: deny
    schedule: "0 18 * * FRI"
    duration: 60h
    timezone: Europe/Berlin
`

func newWindowFixture(t *testing.T, env *kubetest.Env, c *clock) *sleepFixture {
	t.Helper()
	return newClockFixture(t, env, c, func(files map[string]string) {
		if !strings.Contains(files["gitvend.yaml"], "- name: dev\n") {
			t.Fatal("the example's gitvend.yaml defines no dev environment")
		}
		files["gitvend.yaml"] = strings.Replace(files["gitvend.yaml"], "- name: dev\n", freezeWindow, 1)
	})
}

// mergeShards merges a pull request that sets dev's search shards to n and
// returns the merge commit and the pull request's number.
func (f *sleepFixture) mergeShards(t *testing.T, n string) (string, int) {
	t.Helper()
	ctx := t.Context()
	branch := "shards-" + n
	files := map[string]string{"environments/dev/search-config.yaml": strings.Replace(
		exampleFiles(t)["environments/dev/search-config.yaml"], `"3"`, `"`+n+`"`, 1)}
	if _, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: branch, Message: n + " shards", Files: files}); err != nil {
		t.Fatal(err)
	}
	pr, err := f.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: branch, Title: n + " shards"})
	if err != nil {
		t.Fatal(err)
	}
	sha, err := f.gh.MergePullRequest(ctx, repo, pr, "bob")
	if err != nil {
		t.Fatal(err)
	}
	return sha, pr
}

// statuses are the apply statuses of target dev on sha, in order, as
// "state: description".
func (f *sleepFixture) statuses(t *testing.T, sha string) []string {
	t.Helper()
	all, err := f.gh.Statuses(repo)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, st := range all {
		if st.SHA == sha && st.Context == rollout.StatusPrefix+"dev" {
			out = append(out, st.State+": "+st.Description)
		}
	}
	return out
}

// heldComments are the comments on pull request pr that say it is held.
func (f *sleepFixture) heldComments(t *testing.T, pr int) []string {
	t.Helper()
	is, err := f.gh.Issue(repo, pr)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range is.Comments {
		if strings.Contains(c.Body, "Held by change window") {
			out = append(out, c.Body)
		}
	}
	return out
}

func count(list []string, prefix string) int {
	n := 0
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// TestWindowHoldsMergesUntilItEnds: a merge during a deny window is not
// applied: its status is pending, held until the window's end, and its
// pull request is told once when it goes out; a restart in the middle
// holds it still; a second merge in the window is held too; at the
// window's end only the newest merge is applied, once, and the next
// process finds it applied.
func TestWindowHoldsMergesUntilItEnds(t *testing.T) {
	env := kubetest.ForTest(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, berlin) }
	c := &clock{}
	c.set(at(2, 12, 0)) // Wednesday noon: no window
	f := newWindowFixture(t, env, c)
	ctx := context.Background()
	shards := func() string { return f.get(t, "configmap", "team-search", "search-settings", `{.data.index\.shards}`) }

	r, stop := f.run(t)
	head := statusHead(t, f.gh)
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, head) == "success" })

	// Friday 19:00: the freeze is on; a merge waits.
	c.set(at(4, 19, 0))
	first, pr1 := f.mergeShards(t, "4")
	r.Pushed(ctx, repo, "main", first)
	const held = "pending: held by window release-freeze until 2026-12-07 05:00 UTC"
	waitFor(t, "the first merge held", func() bool { return count(f.statuses(t, first), held) == 1 })
	waitFor(t, "the first pull request told", func() bool { return len(f.heldComments(t, pr1)) == 1 })
	if got := f.heldComments(t, pr1)[0]; !strings.Contains(got, "after 2026-12-07 05:00 UTC") || !strings.Contains(got, "`dev`") {
		t.Errorf("the held comment does not say when and where:\n%s", got)
	}
	r.Kick(repo)
	time.Sleep(time.Second)
	if got := shards(); got != "3" {
		t.Errorf("shards during the freeze: %s, want 3", got)
	}
	if got := f.statuses(t, first); count(got, "success") != 0 || count(got, "pending: applying") != 0 {
		t.Errorf("the held merge was applied: %q", got)
	}

	// Saturday noon, gitvend restarts: the merge is found held again, and
	// told no second time.
	stop()
	c.set(at(5, 12, 0))
	r, stop = f.run(t)
	r.Kick(repo)
	time.Sleep(time.Second)
	if got := shards(); got != "3" {
		t.Errorf("shards after a restart in the freeze: %s, want 3", got)
	}
	if n := len(f.heldComments(t, pr1)); n != 1 {
		t.Errorf("%d held comments on #%d after a restart, want 1", n, pr1)
	}

	// A second merge in the window is held too.
	second, pr2 := f.mergeShards(t, "5")
	r.Pushed(ctx, repo, "main", second)
	waitFor(t, "the second merge held", func() bool { return count(f.statuses(t, second), held) == 1 })
	waitFor(t, "the second pull request told", func() bool { return len(f.heldComments(t, pr2)) == 1 })
	if got := shards(); got != "3" {
		t.Errorf("shards with two merges held: %s, want 3", got)
	}
	// The status page lists both, in order.
	var listed []string
	for _, h := range r.Held() {
		listed = append(listed, h.Target+" "+h.Revision+" "+h.Window+" "+h.Until.Format(time.RFC3339))
	}
	want := []string{"dev " + first + " release-freeze 2026-12-07T05:00:00Z", "dev " + second + " release-freeze 2026-12-07T05:00:00Z"}
	if strings.Join(listed, "\n") != strings.Join(want, "\n") {
		t.Errorf("held on the status page:\n%s\nwant\n%s", strings.Join(listed, "\n"), strings.Join(want, "\n"))
	}

	// Monday 06:00, the freeze ends (Run wakes then; the test's clock does
	// not move by itself, so the wake is a kick): the newest merge is
	// applied, once.
	stop()
	c.set(at(7, 6, 0))
	r, stop = f.run(t)
	waitFor(t, "the newest merge applied", func() bool { return statusOf(t, f.gh, second) == "success" })
	if got := shards(); got != "5" {
		t.Errorf("shards after the freeze: %s, want 5", got)
	}
	if h := r.Held(); len(h) != 0 {
		t.Errorf("held after the freeze: %+v", h)
	}
	// The older held merge is settled with the newest: nothing stays
	// pending.
	settledWith := fmt.Sprintf("success: applied with %.7s", second)
	waitFor(t, "the older held merge settled", func() bool { return count(f.statuses(t, first), settledWith) == 1 })
	r.Kick(repo)
	time.Sleep(time.Second)
	stop()
	// A process that stopped before settling (its held status is the
	// App's last word on the older merge again): the next one settles it.
	gh, err := f.opts.Clients.ForRepo(ctx, "acme", "infra")
	if err != nil {
		t.Fatal(err)
	}
	if err := gh.SetStatus(ctx, "acme", "infra", first, rollout.StatusPrefix+"dev", "pending", held[len("pending: "):], ""); err != nil {
		t.Fatal(err)
	}
	_, stop = f.run(t)
	waitFor(t, "the older held merge settled after a restart", func() bool { return count(f.statuses(t, first), settledWith) == 2 })
	stop()
	if got := f.statuses(t, second); count(got, "success") != 1 {
		t.Errorf("statuses of the newest merge: %q, want one success", got)
	}
	if got := f.statuses(t, first); count(got, "pending: applying") != 0 || count(got, "success") != 2 {
		t.Errorf("the older held merge was applied on its own, or not settled: %q", got)
	}
}

// TestWindowDriftReportedHealedAfter: on a target that heals itself,
// drift during a deny window is reported at once and healed when the
// window ends.
func TestWindowDriftReportedHealedAfter(t *testing.T) {
	env := kubetest.ForTest(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, berlin) }
	c := &clock{}
	c.set(at(2, 12, 0))
	f := newWindowFixture(t, env, c)
	f.opts.Targets[0].SelfHeal = true
	shards := func() string { return f.get(t, "configmap", "team-search", "search-settings", `{.data.index\.shards}`) }

	r, _ := f.run(t)
	head := statusHead(t, f.gh)
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, head) == "success" })

	// Friday 19:00: someone edits by hand during the freeze. It is
	// reported and left alone.
	c.set(at(4, 19, 0))
	r.Kick(repo)
	time.Sleep(time.Second)
	kubectl(t, env, "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge", "-p", `{"data":{"index.shards":"9"}}`)
	waitFor(t, "the drift reported", func() bool { return issuesTitled(t, f.gh, "Drift on target dev") == 1 })
	time.Sleep(2 * time.Second)
	if got := shards(); got != "9" {
		t.Errorf("shards healed during the freeze: %s, want the hand-set 9", got)
	}

	// Monday 06:00: the window ends and the drift is healed.
	c.set(at(7, 6, 0))
	r.Kick(repo)
	waitFor(t, "healed after the freeze", func() bool { return shards() == "3" })
}

// TestWindowApplyNow: a merge a window holds is applied at once when
// gitvend's own apply-now status is on it (the bot sets it for someone
// allowed); a status of that context set by a person changes nothing.
func TestWindowApplyNow(t *testing.T) {
	env := kubetest.ForTest(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, berlin) }
	c := &clock{}
	c.set(at(2, 12, 0))
	f := newWindowFixture(t, env, c)
	ctx := context.Background()
	shards := func() string { return f.get(t, "configmap", "team-search", "search-settings", `{.data.index\.shards}`) }
	r, _ := f.run(t)
	head := statusHead(t, f.gh)
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, head) == "success" })

	c.set(at(4, 19, 0))
	sha, _ := f.mergeShards(t, "4")
	r.Pushed(ctx, repo, "main", sha)
	waitFor(t, "the merge held", func() bool { return statusOf(t, f.gh, sha) == "pending" })

	if err := f.gh.SetPermission(repo, "carol", "write"); err != nil {
		t.Fatal(err)
	}
	if err := f.gh.PostStatus(ctx, repo, githubtest.StatusSpec{User: "carol", SHA: sha, State: "success",
		Context: cluster.ApplyNow, Description: "apply-now by @carol: trust me"}); err != nil {
		t.Fatal(err)
	}
	r.Kick(repo)
	time.Sleep(2 * time.Second)
	if got := shards(); got != "3" || statusOf(t, f.gh, sha) != "pending" {
		t.Fatalf("a person's apply-now status applied the held merge: shards %s, status %s", got, statusOf(t, f.gh, sha))
	}

	gh, err := f.opts.Clients.ForRepo(ctx, "acme", "infra")
	if err != nil {
		t.Fatal(err)
	}
	if err := gh.SetStatus(ctx, "acme", "infra", sha, cluster.ApplyNow, "success", "apply-now by @alice: the checkout fix cannot wait", ""); err != nil {
		t.Fatal(err)
	}
	r.Kick(repo)
	waitFor(t, "the merge applied at once", func() bool { return statusOf(t, f.gh, sha) == "success" })
	if got := shards(); got != "4" {
		t.Errorf("shards after apply-now: %s, want 4", got)
	}
}

// TestMergeCannotLiftItsOwnFreeze: a merge during a freeze that removes
// the window from gitvend.yaml, along with a change, is held by the
// window of the commit applied; it goes out when that window ends.
func TestMergeCannotLiftItsOwnFreeze(t *testing.T) {
	env := kubetest.ForTest(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, berlin) }
	c := &clock{}
	c.set(at(2, 12))
	f := newWindowFixture(t, env, c)
	ctx := context.Background()
	shards := func() string { return f.get(t, "configmap", "team-search", "search-settings", `{.data.index\.shards}`) }
	r, stop := f.run(t)
	defer func() { stop() }()
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, statusHead(t, f.gh)) == "success" })

	c.set(at(4, 19)) // Friday 19:00: the freeze is on
	onMain, err := f.gh.Files(ctx, repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	cfg := onMain["gitvend.yaml"]
	unfrozen := strings.Replace(cfg, freezeWindow, "- name: dev\n", 1)
	if unfrozen == cfg {
		t.Fatal("the window is not in gitvend.yaml")
	}
	files := map[string]string{"gitvend.yaml": unfrozen, "environments/dev/search-config.yaml": strings.Replace(
		exampleFiles(t)["environments/dev/search-config.yaml"], `"3"`, `"9"`, 1)}
	if _, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "thaw", Message: "No freeze, 9 shards", Files: files}); err != nil {
		t.Fatal(err)
	}
	pr, err := f.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: "thaw", Title: "No freeze"})
	if err != nil {
		t.Fatal(err)
	}
	sha, err := f.gh.MergePullRequest(ctx, repo, pr, "bob")
	if err != nil {
		t.Fatal(err)
	}
	r.Pushed(ctx, repo, "main", sha)
	waitFor(t, "the merge held", func() bool {
		return count(f.statuses(t, sha), "pending: held by window release-freeze until 2026-12-07 05:00 UTC") == 1
	})
	r.Kick(repo)
	time.Sleep(time.Second)
	if got := shards(); got != "3" {
		t.Errorf("shards after a merge that removed the window during it: %s, want 3", got)
	}
	stop()
	c.set(at(7, 6)) // Monday 06:00: the window ends
	r, stop = f.run(t)
	waitFor(t, "the merge applied after the window", func() bool { return statusOf(t, f.gh, sha) == "success" })
	if got := shards(); got != "9" {
		t.Errorf("shards after the window: %s, want 9", got)
	}
}
