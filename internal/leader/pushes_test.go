package leader_test

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/gitvend/gitvend/internal/leader"
)

func newPushes(t *testing.T, cfg *rest.Config, ns, identity string) *leader.Pushes {
	t.Helper()
	p, err := leader.NewPushes(cfg, leader.PushOptions{Namespace: ns, Prefix: "gitvend", Identity: identity})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPushesReachTheLeader: a push signalled on a standby reaches the
// leader's watch within moments, every time, even for the same commit
// (a redelivered webhook); signals sent before the watch started are not
// replayed (the leader reconciles everything when it starts instead).
func TestPushesReachTheLeader(t *testing.T) {
	env := kube.Env(t)
	cfg, ns := env.Config(), env.Namespace(t)
	standby, leading := newPushes(t, cfg, ns, "standby"), newPushes(t, cfg, ns, "leader")
	if err := standby.Signal(t.Context(), "acme/old", "0000"); err != nil {
		t.Fatal(err)
	}
	kicks := make(chan string, 16)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := leading.Watch(ctx, func(repo string) { kicks <- repo }); err != nil {
		t.Fatal(err)
	}
	select {
	case repo := <-kicks:
		t.Fatalf("a signal from before the watch kicked %s", repo)
	case <-time.After(300 * time.Millisecond):
	}
	for i, c := range []struct{ repo, sha string }{{repo, "aaaa"}, {repo, "aaaa"}, {"acme/old", "bbbb"}, {"acme/new", "cccc"}} {
		begin := time.Now()
		if err := standby.Signal(t.Context(), c.repo, c.sha); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-kicks:
			if got != c.repo {
				t.Errorf("signal %d: kicked %s, want %s", i, got, c.repo)
			}
			if d := time.Since(begin); d > time.Second {
				t.Errorf("signal %d reached the leader after %s", i, d)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("signal %d (%s@%s) never reached the leader", i, c.repo, c.sha)
		}
	}
	cancel()
	time.Sleep(100 * time.Millisecond)
	if err := standby.Signal(t.Context(), repo, "dddd"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-kicks:
		t.Errorf("a stopped watch kicked %s", got)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestPushesWatchUnreachable: a watch that cannot list says so
// instead of leaving the leader waiting.
func TestPushesWatchUnreachable(t *testing.T) {
	cfg := &rest.Config{Host: "http://127.0.0.1:1"}
	p := newPushes(t, cfg, "gitvend-system", "x")
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if err := p.Watch(ctx, func(string) {}); err == nil {
		t.Fatal("Watch returned without an error though the API server is unreachable")
	}
}
