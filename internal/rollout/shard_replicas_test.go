package rollout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/leader"
	"github.com/gitvend/gitvend/internal/rollout"
)

// TestShardedReplicasApplyATargetOnceAndHandItOver: two replicas with
// sharded rollouts and target Leases: the target is applied by one of them
// only (one pending and one success status on the head); when its owner
// stops, the other takes the target over and reports the drift that
// follows.
func TestShardedReplicasApplyATargetOnceAndHandItOver(t *testing.T) {
	env := kubetest.ForTest(t)
	f := startWith(t, env, func(o *rollout.Options) { o.Sharded = true })
	gh := f.gh
	r2 := anotherReplica(t, f)

	ns := env.Namespace(t)
	replica := func(identity string, r *rollout.Rollout) (*leader.Shards, context.CancelFunc) {
		s, err := leader.NewShards(env.Config(), leader.ShardOptions{Namespace: ns, Prefix: "gitvend", Kind: "target", Identity: identity,
			LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = s.Run(ctx, []string{"dev"}, r.Own)
		}()
		stop := func() { cancel(); <-done }
		t.Cleanup(stop)
		return s, stop
	}
	a, stopA := replica("a", f.r)
	b, stopB := replica("b", r2)

	head := f.head(t)
	waitFor(t, "status success on the head", func() bool { return statusOf(t, gh, head) == "success" })
	all, err := gh.Statuses(repo)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, st := range all {
		if st.SHA == head && st.Context == rollout.StatusPrefix+"dev" {
			states = append(states, st.State)
		}
	}
	if strings.Join(states, ",") != "pending,success" {
		t.Errorf("statuses of the apply: %v, want one pending then one success (one replica applying)", states)
	}
	if len(a.Held())+len(b.Held()) != 1 {
		t.Fatalf("a holds %v, b holds %v: want dev held once", a.Held(), b.Held())
	}
	owner, other, stop := a, b, stopA
	if len(b.Held()) == 1 {
		owner, other, stop = b, a, stopB
	}
	stop()
	waitFor(t, "the other replica to take dev over", func() bool { return len(other.Held()) == 1 })
	if len(owner.Held()) != 0 {
		t.Fatalf("the stopped replica still holds %v", owner.Held())
	}
	kubectl(t, env, "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge", "-p", `{"data":{"index.shards":"9"}}`)
	waitFor(t, "a drift issue from the new owner", func() bool {
		return issueTitled(t, gh, "Drift on target dev").State == "open"
	})
}
