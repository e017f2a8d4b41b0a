package rollout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
)

// mergeFiles merges a pull request that writes files on branch and
// returns the merge commit and the pull request's number.
func (f *sleepFixture) mergeFiles(t *testing.T, branch string, files map[string]string) (string, int) {
	t.Helper()
	ctx := t.Context()
	if _, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: branch, Message: branch, Files: files}); err != nil {
		t.Fatal(err)
	}
	pr, err := f.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: branch, Title: branch})
	if err != nil {
		t.Fatal(err)
	}
	sha, err := f.gh.MergePullRequest(ctx, repo, pr, "bob")
	if err != nil {
		t.Fatal(err)
	}
	return sha, pr
}

func berlinAt(t *testing.T) func(day, hour, minute int) time.Time {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return func(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, berlin) }
}

// TestWindowOfTheTargetForOwners: a window the platform team declares on
// the target, limited to the payments team, holds a merge that changes
// payments' objects and not one that changes search's, even when that one
// labels its object as payments' (the owner comes from the path and the
// team map, never a label); the repository's own allow window, open all
// the time, does not weaken the target's.
func TestWindowOfTheTargetForOwners(t *testing.T) {
	env := kubetest.ForTest(t)
	at := berlinAt(t)
	c := &clock{}
	c.set(at(2, 12, 0))
	f := newClockFixture(t, env, c, func(files map[string]string) {
		files["gitvend.yaml"] = strings.Replace(files["gitvend.yaml"], "- name: dev\n", `- name: dev
  windows:
  - {name: always, kind: allow, schedule: "0 0 * * *", duration: 1d}
`, 1)
	})
	f.opts.Targets[0].Windows = []cluster.Window{{Name: "payments-freeze", Kind: "deny", Schedule: "0 18 * * FRI",
		Duration: "60h", TimeZone: "Europe/Berlin", Owners: []string{"payments"}}}
	ctx := context.Background()
	r, _ := f.run(t)
	head := statusHead(t, f.gh)
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, head) == "success" })

	c.set(at(4, 19, 0))
	search := exampleFiles(t)["environments/dev/search-config.yaml"]
	search = strings.Replace(search, `"3"`, `"4"`, 1)
	search = strings.Replace(search, "gitvend.dev/owner: search", "gitvend.dev/owner: payments", 1)
	sha, _ := f.mergeFiles(t, "search-shards", map[string]string{"environments/dev/search-config.yaml": search})
	r.Pushed(ctx, repo, "main", sha)
	waitFor(t, "search's change applied during payments' freeze", func() bool { return statusOf(t, f.gh, sha) == "success" })
	if got := f.get(t, "configmap", "team-search", "search-settings", `{.data.index\.shards}`); got != "4" {
		t.Errorf("search's shards: %s, want 4", got)
	}

	const pdb = "requests/dev/team-payments/payments-api/poddisruptionbudget-payments-api.yaml"
	budget := strings.Replace(exampleFiles(t)[pdb], "maxUnavailable: 1", "maxUnavailable: 2", 1)
	sha, pr := f.mergeFiles(t, "payments-budget", map[string]string{pdb: budget})
	r.Pushed(ctx, repo, "main", sha)
	const held = "pending: held by window payments-freeze until 2026-12-07 05:00 UTC"
	waitFor(t, "payments' change held", func() bool { return count(f.statuses(t, sha), held) == 1 })
	waitFor(t, "the pull request told", func() bool { return len(f.heldComments(t, pr)) == 1 })
	maxUnavailable := func() string {
		return f.get(t, "pdb", "team-payments", "payments-api", "{.spec.maxUnavailable}")
	}
	if got := maxUnavailable(); got != "1" {
		t.Errorf("payments' budget during its freeze: %s, want 1", got)
	}

	c.set(at(7, 6, 0))
	r.Kick(repo)
	waitFor(t, "payments' change applied after the freeze", func() bool { return statusOf(t, f.gh, sha) == "success" })
	if got := maxUnavailable(); got != "2" {
		t.Errorf("payments' budget after its freeze: %s, want 2", got)
	}
}

// TestWindowLetsSelfHealOn: a window with selfHeal: true lets a target
// that heals itself heal drift inside the window.
func TestWindowLetsSelfHealOn(t *testing.T) {
	env := kubetest.ForTest(t)
	at := berlinAt(t)
	c := &clock{}
	c.set(at(2, 12, 0))
	f := newClockFixture(t, env, c, func(files map[string]string) {
		files["gitvend.yaml"] = strings.Replace(files["gitvend.yaml"], "- name: dev\n",
			strings.Replace(freezeWindow, "    timezone: Europe/Berlin\n", "    timezone: Europe/Berlin\n    selfHeal: true\n", 1), 1)
	})
	f.opts.Targets[0].SelfHeal = true
	f.opts.Targets[0].DriftInterval = 2 * time.Second
	r, _ := f.run(t)
	head := statusHead(t, f.gh)
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, head) == "success" })

	c.set(at(4, 19, 0))
	r.Kick(repo)
	time.Sleep(time.Second)
	kubectl(t, env, "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge", "-p", `{"data":{"index.shards":"9"}}`)
	waitFor(t, "healed inside the window", func() bool {
		return f.get(t, "configmap", "team-search", "search-settings", `{.data.index\.shards}`) == "3"
	})
}

// TestWindowDriftAfterARestartMidHold: a process that starts while a merge
// is held watches the commit last applied: drift made by hand is reported
// at once, self-heal waits for the window's end, and then the held merge
// is applied.
func TestWindowDriftAfterARestartMidHold(t *testing.T) {
	env := kubetest.ForTest(t)
	at := berlinAt(t)
	c := &clock{}
	c.set(at(2, 12, 0))
	f := newWindowFixture(t, env, c)
	f.opts.Targets[0].SelfHeal = true
	f.opts.Targets[0].DriftInterval = 2 * time.Second
	ctx := context.Background()
	shards := func() string { return f.get(t, "configmap", "team-search", "search-settings", `{.data.index\.shards}`) }
	r, stop := f.run(t)
	head := statusHead(t, f.gh)
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, head) == "success" })

	c.set(at(4, 19, 0))
	sha, _ := f.mergeShards(t, "4")
	r.Pushed(ctx, repo, "main", sha)
	waitFor(t, "the merge held", func() bool { return statusOf(t, f.gh, sha) == "pending" })

	// Saturday: a new process, and a change by hand.
	stop()
	c.set(at(5, 12, 0))
	r, _ = f.run(t)
	time.Sleep(time.Second)
	kubectl(t, env, "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge", "-p", `{"data":{"index.shards":"9"}}`)
	waitFor(t, "the drift reported after the restart", func() bool { return issuesTitled(t, f.gh, "Drift on target dev") == 1 })
	time.Sleep(3 * time.Second)
	if got := shards(); got != "9" {
		t.Errorf("shards healed during the freeze: %s, want the hand-set 9", got)
	}
	if got := statusOf(t, f.gh, sha); got != "pending" {
		t.Errorf("the held merge: %s, want pending", got)
	}

	c.set(at(7, 6, 0))
	r.Kick(repo)
	waitFor(t, "the held merge applied after the window", func() bool { return statusOf(t, f.gh, sha) == "success" })
	if got := shards(); got != "4" {
		t.Errorf("shards after the window: %s, want the merge's 4", got)
	}
}

// TestSleepDuringAWindow: sleep goes on while a window holds a merge (the
// commit last applied is what sleeps); a window with sleep: hold keeps
// the workloads as they are until it ends.
func TestSleepDuringAWindow(t *testing.T) {
	env := kubetest.ForTest(t)
	at := berlinAt(t)
	for _, tt := range []struct {
		name, setting string
		asleep        bool
	}{
		{"sleep goes on by default", "", true},
		{"sleep: hold", "    sleep: hold\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{}
			c.set(at(2, 12, 0))
			f := newClockFixture(t, env, c, func(files map[string]string) {
				files["gitvend.yaml"] = strings.Replace(files["gitvend.yaml"], "- name: dev\n", freezeWindow+tt.setting, 1) + sleepConfig
			})
			f.opts.Targets[0].InventoryNamespace = "inventory-" + strings.ReplaceAll(strings.ReplaceAll(tt.name, ":", ""), " ", "-")
			ctx := context.Background()
			replicas := func() string { return f.get(t, "statefulset", "team-payments", "ledger-db", "{.spec.replicas}") }
			r, _ := f.run(t)
			head := statusHead(t, f.gh)
			waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, head) == "success" })

			// Friday 18:30: the freeze is on, a merge is held.
			c.set(at(4, 18, 30))
			sha, _ := f.mergeShards(t, "4")
			r.Pushed(ctx, repo, "main", sha)
			waitFor(t, "the merge held", func() bool { return statusOf(t, f.gh, sha) == "pending" })

			// Friday 19:00: the sleep schedule says sleep.
			c.set(at(4, 19, 0))
			r.Kick(repo)
			if tt.asleep {
				waitFor(t, "asleep while the merge is held", func() bool { return replicas() == "0" })
				return
			}
			time.Sleep(2 * time.Second)
			if got := replicas(); got != "1" {
				t.Fatalf("ledger-db replicas in a window with sleep: hold: %s, want 1", got)
			}
			// Monday 06:00, the window ends; the schedule still says sleep
			// until 08:00.
			c.set(at(7, 6, 0))
			r.Kick(repo)
			waitFor(t, "asleep once the window ends", func() bool { return replicas() == "0" })
		})
	}
}

// TestWindowLetsExpiryRemovalThrough: in a window with expiry: allow, the
// removal of an expired request that gitvend merged (its own
// gitvend/expiry-removal status on the merge) is applied at once; the
// same status set by a person, or a removal that changes more than the
// expired request, waits for the window.
func TestWindowLetsExpiryRemovalThrough(t *testing.T) {
	env := kubetest.ForTest(t)
	at := berlinAt(t)
	c := &clock{}
	c.set(at(2, 12, 0))
	f := newClockFixture(t, env, c, func(files map[string]string) {
		files["gitvend.yaml"] = strings.Replace(files["gitvend.yaml"], "- name: dev\n", freezeWindow+"    expiry: allow\n", 1)
	})
	ctx := context.Background()
	r, _ := f.run(t)
	head := statusHead(t, f.gh)
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, head) == "success" })
	gh, err := f.opts.Clients.ForRepo(ctx, "acme", "infra")
	if err != nil {
		t.Fatal(err)
	}
	exists := func() bool {
		out, _ := f.env.Kubectl(ctx, "get", "cronjob", "nightly-reindex", "-n", "team-search", "--ignore-not-found", "-o", "name").CombinedOutput()
		return strings.TrimSpace(string(out)) != ""
	}

	// Friday 19:00: the removal of nightly-reindex, merged.
	c.set(at(4, 19, 0))
	const dir = "requests/dev/team-search/nightly-reindex"
	root := exampleFiles(t)["environments/dev/kustomization.yaml"]
	removal := githubtest.PushSpec{User: "carol", Branch: "remove-nightly-reindex", Message: "gitvend: remove nightly-reindex",
		Files:  map[string]string{"environments/dev/kustomization.yaml": strings.Replace(root, "  - ../../"+dir+"\n", "", 1)},
		Delete: []string{dir + ".yaml", dir + "/kustomization.yaml", dir + "/cronjob-nightly-reindex.yaml"}}
	if _, err := f.gh.Push(ctx, repo, removal); err != nil {
		t.Fatal(err)
	}
	pr, err := f.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: removal.Branch, Title: removal.Message})
	if err != nil {
		t.Fatal(err)
	}
	sha, err := f.gh.MergePullRequest(ctx, repo, pr, "bob")
	if err != nil {
		t.Fatal(err)
	}
	// A person's status of the context is not gitvend's: held.
	if err := f.gh.SetPermission(repo, "carol", "write"); err != nil {
		t.Fatal(err)
	}
	if err := f.gh.PostStatus(ctx, repo, githubtest.StatusSpec{User: "carol", SHA: sha, State: "success",
		Context: cluster.ExpiryRemoval, Description: "dev/team-search/nightly-reindex"}); err != nil {
		t.Fatal(err)
	}
	r.Pushed(ctx, repo, "main", sha)
	waitFor(t, "the removal held", func() bool { return statusOf(t, f.gh, sha) == "pending" })
	time.Sleep(time.Second)
	if !exists() {
		t.Fatal("a person's expiry-removal status let the removal through")
	}
	// gitvend's own, naming another request: held.
	if err := gh.SetStatus(ctx, "acme", "infra", sha, cluster.ExpiryRemoval, "success", "dev/team-search/search-pr-42", ""); err != nil {
		t.Fatal(err)
	}
	r.Kick(repo)
	time.Sleep(2 * time.Second)
	if !exists() || statusOf(t, f.gh, sha) != "pending" {
		t.Fatal("a removal of objects of another request than the one named went through")
	}
	// gitvend's own, naming the request: applied inside the window.
	if err := gh.SetStatus(ctx, "acme", "infra", sha, cluster.ExpiryRemoval, "success", "dev/team-search/nightly-reindex", ""); err != nil {
		t.Fatal(err)
	}
	r.Kick(repo)
	waitFor(t, "the removal applied inside the window", func() bool { return statusOf(t, f.gh, sha) == "success" })
	waitFor(t, "the expired request's CronJob pruned", func() bool { return !exists() })

	// A merge that changes more than a removal waits, whatever its status.
	more, _ := f.mergeShards(t, "4")
	if err := gh.SetStatus(ctx, "acme", "infra", more, cluster.ExpiryRemoval, "success", "dev/team-search/nightly-reindex", ""); err != nil {
		t.Fatal(err)
	}
	r.Pushed(ctx, repo, "main", more)
	waitFor(t, "a change held although marked", func() bool { return statusOf(t, f.gh, more) == "pending" })
}
