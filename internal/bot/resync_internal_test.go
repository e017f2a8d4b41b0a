package bot

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// recordingQueue notes the keys of the jobs added, running none.
type recordingQueue struct {
	mu   sync.Mutex
	keys []string
}

func (q *recordingQueue) Add(key, _ string, _ func(context.Context) error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.keys = append(q.keys, key)
	return nil
}

func (q *recordingQueue) added() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.keys)
}

// TestRunResyncOfQueuesOneRepository: the resync of one repository (the
// share of a replica holding its Lease) is queued at once and every
// interval, for that repository only, and stops with its context.
func TestRunResyncOfQueuesOneRepository(t *testing.T) {
	b := &Bot{log: slog.New(slog.DiscardHandler)}
	q := &recordingQueue{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.RunResyncOf(ctx, q, 50*time.Millisecond, "acme/infra")
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(q.added()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	got := q.added()
	if len(got) < 3 {
		t.Fatalf("%d resyncs queued, want one at once and one per interval", len(got))
	}
	for _, k := range got {
		if k != "acme/infra" {
			t.Fatalf("queued a resync of %q, want acme/infra only: %v", k, got)
		}
	}
	n := len(q.added())
	time.Sleep(150 * time.Millisecond)
	if len(q.added()) != n {
		t.Error("resyncs queued after the context ended")
	}
}
