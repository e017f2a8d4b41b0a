package rollout_test

import (
	"context"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// TestShardedRolloutAppliesOnlyOwnedTargets: a sharded rollout leaves a
// target alone (no apply, no status) until it owns it, applies it at once
// when it starts owning it, and once the ownership has ended (Own
// returned) applies no new commit to it.
func TestShardedRolloutAppliesOnlyOwnedTargets(t *testing.T) {
	env := kubetest.ForTest(t)
	f := startWith(t, env, func(o *rollout.Options) { o.Sharded = true })
	gh, r := f.gh, f.r
	head := f.head(t)
	time.Sleep(2 * time.Second)
	if got := statusOf(t, gh, head); got != "" {
		t.Fatalf("status %q on the head before the target is owned, want none", got)
	}
	if err := env.Kubectl(t.Context(), "get", "namespace", "team-search").Run(); err == nil {
		t.Fatal("the target was applied before it was owned")
	}

	ctx, cancel := context.WithCancel(context.Background())
	owned := make(chan struct{})
	go func() {
		defer close(owned)
		r.Own(ctx, "dev")
	}()
	t.Cleanup(func() { cancel(); <-owned })
	waitFor(t, "status success on the head once owned", func() bool { return statusOf(t, gh, head) == "success" })
	cancel()
	select {
	case <-owned:
	case <-time.After(10 * time.Second):
		t.Fatal("Own did not return after its context ended")
	}

	sha, err := gh.Push(t.Context(), repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "A ConfigMap",
		Files: map[string]string{"environments/dev/extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: team-search\n"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Pushed(t.Context(), repo, "main", sha)
	time.Sleep(2 * time.Second)
	if got := statusOf(t, gh, sha); got != "" {
		t.Errorf("status %q on a commit pushed after the ownership ended, want none", got)
	}
}
