package rollout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// TestShardedTargetTakenBackIsNotAppliedAgain: a replica that gives a
// target up keeps nothing of it (no desired objects, no comparisons);
// when it takes the target back after another replica applied a newer
// commit, it finds that commit applied and only watches it: the commit
// has one pending and one success status, from its one apply.
func TestShardedTargetTakenBackIsNotAppliedAgain(t *testing.T) {
	env := kubetest.ForTest(t)
	f := startWith(t, env, func(o *rollout.Options) { o.Sharded = true })
	gh, a := f.gh, f.r
	b := anotherReplica(t, f)
	own := func(r *rollout.Rollout) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.Own(ctx, "dev")
		}()
		stopped := false
		stop = func() {
			if !stopped {
				stopped = true
				cancel()
				<-done
			}
		}
		t.Cleanup(stop)
		return stop
	}

	stopA := own(a)
	waitFor(t, "a applies the head", func() bool { return statusOf(t, gh, f.head(t)) == "success" })
	if desired, _ := a.Reconciler("dev").Holds(); desired == 0 {
		t.Fatal("the owner keeps no desired object to check drift against")
	}
	stopA()
	if desired, seen := a.Reconciler("dev").Holds(); desired != 0 || seen != 0 {
		t.Errorf("after giving dev up, a keeps %d desired objects and %d comparisons, want none", desired, seen)
	}

	stopB := own(b)
	sha, err := gh.Push(t.Context(), repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "A ConfigMap",
		Files: map[string]string{"environments/dev/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: team-search\n"}})
	if err != nil {
		t.Fatal(err)
	}
	b.Pushed(t.Context(), repo, "main", sha)
	waitFor(t, "b applies the new commit", func() bool { return statusOf(t, gh, sha) == "success" })
	stopB()

	own(a)
	waitFor(t, "a watches dev again", func() bool { desired, _ := a.Reconciler("dev").Holds(); return desired > 0 })
	a.Pushed(t.Context(), repo, "main", sha)
	time.Sleep(2 * time.Second)
	all, err := gh.Statuses(repo)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, st := range all {
		if st.SHA == sha && st.Context == rollout.StatusPrefix+"dev" {
			states = append(states, st.State)
		}
	}
	if strings.Join(states, ",") != "pending,success" {
		t.Errorf("statuses of the new commit: %v, want one pending then one success (applied once, by b)", states)
	}
}

// anotherReplica runs a second rollout with f's options until the test
// ends, as another replica would.
func anotherReplica(t *testing.T, f *fixture) *rollout.Rollout {
	t.Helper()
	r, err := rollout.New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		_ = r.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-ran })
	return r
}
