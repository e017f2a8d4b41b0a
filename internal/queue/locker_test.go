package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memLocker is a lock per key shared by several queues, as the replicas
// of one deployment share Leases: a Lock while another queue holds the key
// waits up to wait and then fails.
type memLocker struct {
	wait time.Duration

	mu      sync.Mutex
	holders map[string]string // key → the queue that holds it
	refused atomic.Int32
	lose    chan string // keys whose lock is lost now (cancels the holder's context)
	cancels map[string]context.CancelCauseFunc
}

var errHeld = errors.New("held by another replica")

func newMemLocker(wait time.Duration) *memLocker {
	return &memLocker{wait: wait, holders: map[string]string{}, cancels: map[string]context.CancelCauseFunc{}}
}

// For returns the Locker one queue (named who) uses.
func (m *memLocker) For(who string) Locker { return replicaLocker{m, who} }

type replicaLocker struct {
	m   *memLocker
	who string
}

func (r replicaLocker) Lock(ctx context.Context, key string) (context.Context, func(), error) {
	m := r.m
	deadline := time.Now().Add(m.wait)
	for {
		m.mu.Lock()
		if _, held := m.holders[key]; !held {
			m.holders[key] = r.who
			jctx, cancel := context.WithCancelCause(ctx)
			m.cancels[key] = cancel
			m.mu.Unlock()
			return jctx, func() {
				m.mu.Lock()
				defer m.mu.Unlock()
				if m.holders[key] != r.who {
					panic(fmt.Sprintf("%s released %s held by %s", r.who, key, m.holders[key]))
				}
				delete(m.holders, key)
				delete(m.cancels, key)
				cancel(nil)
			}, nil
		}
		m.mu.Unlock()
		if time.Now().After(deadline) {
			m.refused.Add(1)
			return nil, nil, fmt.Errorf("lock %s: %w", key, errHeld)
		}
		time.Sleep(time.Millisecond)
	}
}

// loseLock cancels the context of key's holder, as a Lease taken over
// after failed renewals would.
func (m *memLocker) loseLock(key string, cause error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.cancels[key]; c != nil {
		c(cause)
	}
}

// TestLockerKeepsKeysApartAcrossQueues runs the same keys on two queues
// sharing one locker, as two replicas receiving alternate webhooks do:
// jobs of one key never overlap, every job runs exactly once, and a job
// refused the lock many times is retried without losing attempts.
func TestLockerKeepsKeysApartAcrossQueues(t *testing.T) {
	locks := newMemLocker(0)
	opts := func(who string) Options {
		return Options{Workers: 4, MaxAttempts: 1, MaxBackoff: 5 * time.Millisecond, Locker: locks.For(who)}
	}
	a, b := start(t, opts("a"), true), start(t, opts("b"), true)

	const keys, perKey = 3, 40
	var mu sync.Mutex
	running := map[string]string{}
	ran := map[string]int{}
	var overlaps atomic.Int32
	var wg sync.WaitGroup
	for i := range keys * perKey {
		key, id := fmt.Sprintf("acme/infra#%d", i%keys), fmt.Sprintf("job-%d", i)
		q, who := a, "a"
		if i%2 == 1 {
			q, who = b, "b"
		}
		wg.Add(1)
		err := q.q.Add(key, id, func(ctx context.Context) error {
			defer wg.Done()
			mu.Lock()
			if other, busy := running[key]; busy {
				overlaps.Add(1)
				t.Errorf("%s runs on %s while %s runs it", key, who, other)
			}
			running[key] = who
			ran[id]++
			mu.Unlock()
			time.Sleep(3 * time.Millisecond)
			mu.Lock()
			delete(running, key)
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	recv(t, done, "every job")
	if overlaps.Load() > 0 {
		t.Fatalf("%d overlaps", overlaps.Load())
	}
	for i := range keys * perKey {
		if n := ran[fmt.Sprintf("job-%d", i)]; n != 1 {
			t.Errorf("job-%d ran %d times, want 1", i, n)
		}
	}
	if locks.refused.Load() == 0 {
		t.Fatal("no Lock was ever refused: the test did not make the queues contend")
	}
	// MaxAttempts is 1: had a refused Lock counted as an attempt, jobs
	// would have failed instead of running.
	for _, h := range []*harness{a, b} {
		if n := h.jobs(OutcomeFailed); n != 0 {
			t.Errorf("%d jobs failed", n)
		}
	}
	if waits := value(a.q.metrics.lockWaits) + value(b.q.metrics.lockWaits); int(waits) != int(locks.refused.Load()) {
		t.Errorf("gitvend_queue_lock_waits_total counted %v waits, the locker refused %d", waits, locks.refused.Load())
	}
}

// TestLockHeldElsewhereWaitsForRelease: a job whose key another replica
// holds for longer than every backoff the queue would allow a failing job
// still runs, once, after the release.
func TestLockHeldElsewhereWaitsForRelease(t *testing.T) {
	locks := newMemLocker(time.Millisecond)
	h := start(t, Options{MaxAttempts: 2, MaxBackoff: 2 * time.Millisecond, Locker: locks.For("a")}, true)
	_, release, err := locks.For("b").Lock(context.Background(), "acme/infra")
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	if err := h.q.Add("acme/infra", "resync", func(context.Context) error { runs.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "many refusals", func() bool { return locks.refused.Load() >= 10 })
	if runs.Load() != 0 {
		t.Fatal("the job ran while another replica held its key")
	}
	// Between tries the refused job waits; during a try it holds a worker
	// (Stats counts it as running while it takes its key's lock).
	waitFor(t, "the refused job to wait between tries", func() bool {
		st := h.q.Stats()
		return st.Waiting == 1 && st.Running == 0
	})
	release()
	waitFor(t, "the job to run", func() bool { return runs.Load() == 1 })
	waitFor(t, "the job to be counted", func() bool { return h.jobs(OutcomeSucceeded) == 1 })
	if n := h.jobs(OutcomeFailed) + h.jobs(OutcomeAbandoned); n != 0 {
		t.Errorf("%d jobs failed or abandoned", n)
	}
}

// TestLockLostCancelsJob: the job's context is the locker's, so a lock lost
// while the job runs stops it, and the queue tries it again.
func TestLockLostCancelsJob(t *testing.T) {
	locks := newMemLocker(time.Millisecond)
	h := start(t, Options{MaxAttempts: 3, Locker: locks.For("a")}, true)
	lost := errors.New("lease lost")
	started := make(chan struct{}, 2)
	var attempts atomic.Int32
	err := h.q.Add("acme/infra#1", "hook", func(ctx context.Context) error {
		if attempts.Add(1) > 1 {
			return nil
		}
		started <- struct{}{}
		<-ctx.Done()
		if !errors.Is(context.Cause(ctx), lost) {
			t.Errorf("cause %v, want the lock's", context.Cause(ctx))
		}
		return ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	recv(t, started, "the first attempt")
	locks.loseLock("acme/infra#1", lost)
	waitFor(t, "the retry to succeed", func() bool { return h.jobs(OutcomeSucceeded) == 1 })
	if n := attempts.Load(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

// TestLockRefusedWhileStoppingIsAbandoned: a job put back during shutdown
// is abandoned (the next resync does its work), never run without its lock.
func TestLockRefusedWhileStoppingIsAbandoned(t *testing.T) {
	locks := newMemLocker(50 * time.Millisecond)
	h := start(t, Options{Locker: locks.For("a")}, true)
	_, release, err := locks.For("b").Lock(context.Background(), "acme/infra")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var runs atomic.Int32
	if err := h.q.Add("acme/infra", "resync", func(context.Context) error { runs.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the job to wait for its lock", func() bool { return h.q.Stats().Running == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.q.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 0 {
		t.Fatal("the job ran without its lock")
	}
	if st := h.q.Stats(); st.Abandoned != 1 {
		t.Fatalf("stats %+v, want 1 abandoned", st)
	}
}
