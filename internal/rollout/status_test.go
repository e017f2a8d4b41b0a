package rollout_test

import (
	"context"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// A process started again after the head was applied does not apply it
// again, so it has no apply of its own to show; it finds drift, and its
// view of the target shows that drift with the last apply read from
// GitHub, not "not applied yet". It says when it synced and syncs next.
func TestRestartedLeaderShowsLastApplyAndDrift(t *testing.T) {
	env := kubetest.ForTest(t)
	f := start(t, env)
	head := f.head(t)
	waitFor(t, "status success on the head", func() bool { return statusOf(t, f.gh, head) == "success" })

	again, err := rollout.New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Targets(); len(got) != 1 || got[0] != "dev" {
		t.Errorf("targets: %v", got)
	}
	if _, ok := again.NextSync("dev"); ok {
		t.Error("a process that has not synced tells when it syncs next")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = again.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the restarted process's first sync", func() bool { _, ok := again.NextSync("dev"); return ok })
	if p, _ := again.NextSync("dev"); p.Next.Sub(p.Last) != time.Hour {
		t.Errorf("next sync %v after the last %v, want the interval", p.Next, p.Last)
	}

	kubectl(t, env, "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge", "-p", `{"data":{"index.shards":"9"}}`)
	waitFor(t, "the restarted process to see the drift", func() bool {
		v, _, err := again.TargetView(context.Background(), "dev")
		return err == nil && len(v.Drift) > 0
	})
	v, ok, err := again.TargetView(context.Background(), "dev")
	if err != nil || !ok || v.Revision != head || v.State != "success" || v.Elsewhere || len(v.Drift) != 1 {
		t.Errorf("the restarted process's view of dev: %+v, %v, %v", v, ok, err)
	}
}
