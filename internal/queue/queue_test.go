package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/retry"
)

// classifiedErr is an error that says whether it is terminal.
type classifiedErr struct{ terminal bool }

func (e classifiedErr) Error() string  { return fmt.Sprintf("terminal=%v", e.terminal) }
func (e classifiedErr) Terminal() bool { return e.terminal }

var (
	// unavailable is an error nobody marked: retryable.
	unavailable = errors.New("service unavailable")
	// badInput is marked terminal.
	badInput = retry.Terminal(errors.New("bad input"))
	// gitFailure is what a fetch through go-git returns when the server
	// answers 502.
	gitFailure = fmt.Errorf("fetch https://github.com/acme/infra.git: %w",
		plumbing.NewUnexpectedError(errors.New(`unexpected requesting "https://github.com/acme/infra.git/info/refs" status code: 502`)))
)

// lockedBuffer is a log sink safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness runs a queue for one test and stops it at the end.
type harness struct {
	q    *Queue
	reg  *prometheus.Registry
	logs *lockedBuffer
	ran  chan struct{}
}

func start(t *testing.T, opts Options, run bool) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry(), logs: &lockedBuffer{}, ran: make(chan struct{})}
	opts.Registerer = h.reg
	opts.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.InitialBackoff == 0 {
		opts.InitialBackoff = time.Millisecond
	}
	h.q = New(opts)
	if run {
		h.run(t)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.q.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return h
}

func (h *harness) run(t *testing.T) {
	go func() {
		defer close(h.ran)
		if err := h.q.Run(context.Background()); err != nil {
			t.Errorf("run: %v", err)
		}
	}()
}

func (h *harness) jobs(outcome string) int {
	return int(value(h.q.metrics.jobs.WithLabelValues(outcome)))
}

// value reads a counter or gauge.
func value(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		panic(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recv waits for a value on ch with a deadline.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func TestPerKeyOrderAndExclusion(t *testing.T) {
	h := start(t, Options{Workers: 4, Capacity: 1000}, false)
	const perKey = 50
	keys := []string{"acme/a", "acme/b", "acme/c"}
	var mu sync.Mutex
	got := map[string][]int{}
	active := map[string]*atomic.Int32{}
	var overlaps atomic.Int32
	for _, k := range keys {
		active[k] = &atomic.Int32{}
	}
	var done sync.WaitGroup
	for i := range perKey {
		for _, k := range keys {
			done.Add(1)
			err := h.q.Add(k, fmt.Sprint(i), func(context.Context) error {
				defer done.Done()
				if active[k].Add(1) > 1 {
					overlaps.Add(1)
				}
				defer active[k].Add(-1)
				mu.Lock()
				got[k] = append(got[k], i)
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	h.run(t)
	done.Wait()
	want := make([]int, perKey)
	for i := range want {
		want[i] = i
	}
	for _, k := range keys {
		if d := cmp.Diff(want, got[k]); d != "" {
			t.Errorf("order of %s (-want +got):\n%s", k, d)
		}
	}
	if n := overlaps.Load(); n > 0 {
		t.Errorf("%d times two jobs of one key ran at once", n)
	}
	waitFor(t, "succeeded count", func() bool { return h.jobs(OutcomeSucceeded) == perKey*len(keys) })
}

func TestKeysRunConcurrently(t *testing.T) {
	h := start(t, Options{Workers: 2}, true)
	aStarted, bStarted := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 2)
	// Each job waits for the other to start: with one job at a time this
	// would never finish.
	_ = h.q.Add("a", "1", func(ctx context.Context) error {
		close(aStarted)
		_ = recv(t, bStarted, "b to start")
		errs <- nil
		return nil
	})
	_ = h.q.Add("b", "1", func(ctx context.Context) error {
		close(bStarted)
		_ = recv(t, aStarted, "a to start")
		errs <- nil
		return nil
	})
	recv(t, errs, "job a")
	recv(t, errs, "job b")
}

func TestCapacity(t *testing.T) {
	h := start(t, Options{Workers: 1, Capacity: 3}, false)
	var ran atomic.Int32
	job := func(context.Context) error { ran.Add(1); return nil }
	for i := range 3 {
		if err := h.q.Add("k", fmt.Sprint(i), job); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	err := h.q.Add("other", "4", job)
	if !errors.Is(err, ErrFull) {
		t.Fatalf("add beyond capacity: got %v, want ErrFull", err)
	}
	if got := value(h.q.metrics.depth); got != 3 {
		t.Errorf("depth gauge = %v, want 3", got)
	}
	if h.jobs(OutcomeRejected) != 1 {
		t.Errorf("rejected = %d, want 1", h.jobs(OutcomeRejected))
	}
	h.run(t)
	waitFor(t, "three jobs", func() bool { return ran.Load() == 3 })
	waitFor(t, "room again", func() bool { return h.q.Add("k", "5", job) == nil })
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name         string
		errs         []error // the job's result per attempt; nil afterwards
		wantAttempts int
		wantOutcome  string
	}{
		{"succeeds after two retryable errors", []error{unavailable, fmt.Errorf("wrapped: %w", classifiedErr{false})}, 3, OutcomeSucceeded},
		{"terminal error is attempted once", []error{badInput}, 1, OutcomeFailed},
		{"wrapped terminal error is attempted once", []error{fmt.Errorf("sync: %w", badInput)}, 1, OutcomeFailed},
		{"error type saying terminal is attempted once", []error{classifiedErr{true}}, 1, OutcomeFailed},
		{"git error is retried", []error{gitFailure}, 2, OutcomeSucceeded},
		{"joined errors, one retryable, are retried", []error{errors.Join(badInput, unavailable)}, 2, OutcomeSucceeded},
		{"joined terminal errors are attempted once", []error{errors.Join(badInput, classifiedErr{true})}, 1, OutcomeFailed},
		{"gives up after MaxAttempts", []error{unavailable, gitFailure, unavailable, unavailable}, 3, OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, Options{Workers: 2, MaxAttempts: 3, MaxBackoff: 5 * time.Millisecond}, true)
			var attempts atomic.Int32
			var order []string
			var mu sync.Mutex
			note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
			done := make(chan struct{})
			_ = h.q.Add("k", "first", func(ctx context.Context) error {
				n := int(attempts.Add(1))
				note(fmt.Sprintf("first#%d", n))
				if n <= len(tt.errs) {
					return tt.errs[n-1]
				}
				return nil
			})
			// A later job of the same key waits for every attempt of the first.
			_ = h.q.Add("k", "second", func(ctx context.Context) error { note("second"); close(done); return nil })
			recv(t, done, "second job")
			waitFor(t, "both outcomes", func() bool { return h.jobs(OutcomeSucceeded)+h.jobs(OutcomeFailed) == 2 })
			var want []string
			for i := 1; i <= tt.wantAttempts; i++ {
				want = append(want, fmt.Sprintf("first#%d", i))
			}
			mu.Lock()
			got := append([]string(nil), order...)
			mu.Unlock()
			if d := cmp.Diff(append(want, "second"), got); d != "" {
				t.Errorf("attempts (-want +got):\n%s", d)
			}
			if r := int(value(h.q.metrics.retries)); r != tt.wantAttempts-1 {
				t.Errorf("retries = %d, want %d", r, tt.wantAttempts-1)
			}
			if h.jobs(tt.wantOutcome) < 1 {
				t.Errorf("no job counted as %s", tt.wantOutcome)
			}
		})
	}
}

func TestPanicIsRecovered(t *testing.T) {
	h := start(t, Options{Workers: 1}, true)
	_ = h.q.Add("k", "boom", func(context.Context) error { panic("kaboom") })
	done := make(chan struct{})
	_ = h.q.Add("k", "after", func(context.Context) error { close(done); return nil })
	recv(t, done, "the job after the panic (same worker, same key)")
	waitFor(t, "panic counted", func() bool { return h.jobs(OutcomePanicked) == 1 })
	logs := h.logs.String()
	for _, want := range []string{"level=ERROR", `msg="job panicked"`, "panic=kaboom", "key=k", "job=boom", "stack="} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// TestJobDeadline runs a job that would run for as long as it is let: it
// is cancelled at its deadline, counted and logged, and not tried again;
// the next job of its key runs.
func TestJobDeadline(t *testing.T) {
	h := start(t, Options{Workers: 1, JobTimeout: 50 * time.Millisecond, MaxAttempts: 3}, true)
	var attempts atomic.Int32
	cause := make(chan error, 3)
	start := time.Now()
	_ = h.q.Add("k", "endless", func(ctx context.Context) error {
		attempts.Add(1)
		<-ctx.Done()
		cause <- context.Cause(ctx)
		return fmt.Errorf("build: %w", ctx.Err())
	})
	done := make(chan struct{})
	_ = h.q.Add("k", "after", func(context.Context) error { close(done); return nil })
	recv(t, done, "the job after the one that timed out")
	waitFor(t, "timeout counted", func() bool { return h.jobs(OutcomeTimedOut) == 1 })
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the deadline took %s", d)
	}
	if got := recv(t, cause, "the cause"); !errors.Is(got, ErrDeadline) {
		t.Errorf("cause of the job's context = %v, want ErrDeadline", got)
	}
	if n := attempts.Load(); n != 1 || h.jobs(OutcomeFailed) != 0 || value(h.q.metrics.retries) != 0 {
		t.Errorf("attempts %d, failed %d, retries %v; want one attempt, counted as timed out only", n, h.jobs(OutcomeFailed), value(h.q.metrics.retries))
	}
	logs := h.logs.String()
	for _, want := range []string{"level=ERROR", `msg="job ran past its deadline and was cancelled; not retried"`, "job=endless", "timeout=50ms", "job deadline exceeded"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestJobDeadlineDefault(t *testing.T) {
	if got := New(Options{}).opts.JobTimeout; got != DefaultJobTimeout {
		t.Errorf("default job timeout = %s, want %s", got, DefaultJobTimeout)
	}
}

func TestJobContextCarriesLogger(t *testing.T) {
	h := start(t, Options{}, true)
	done := make(chan struct{})
	_ = h.q.Add("acme/infra", "delivery-1", func(ctx context.Context) error {
		logctx.LoggerFrom(ctx).Info("inside")
		close(done)
		return nil
	})
	recv(t, done, "job")
	if logs := h.logs.String(); !strings.Contains(logs, "msg=inside key=acme/infra job=delivery-1 attempt=1") {
		t.Errorf("job log line lacks its attributes:\n%s", logs)
	}
}

func TestShutdownFinishesInFlightAndAbandonsWaiting(t *testing.T) {
	h := start(t, Options{Workers: 1}, true)
	started, release := make(chan struct{}), make(chan struct{})
	var finished, ranLater atomic.Bool
	_ = h.q.Add("k", "in-flight", func(ctx context.Context) error {
		close(started)
		<-release
		finished.Store(ctx.Err() == nil)
		return nil
	})
	for i := range 2 {
		_ = h.q.Add("k", fmt.Sprint(i), func(context.Context) error { ranLater.Store(true); return nil })
	}
	recv(t, started, "in-flight job")
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- h.q.Shutdown(ctx)
	}()
	waitFor(t, "waiting jobs abandoned", func() bool { return h.q.Stats().Waiting == 0 })
	if err := h.q.Add("k", "late", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("add while shutting down: %v, want ErrClosed", err)
	}
	close(release)
	if err := recv(t, shut, "shutdown"); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	recv(t, h.ran, "Run to return")
	if !finished.Load() || ranLater.Load() {
		t.Errorf("in-flight finished = %v (want true), waiting ran = %v (want false)", finished.Load(), ranLater.Load())
	}
	if d := cmp.Diff(Stats{Workers: 1, Capacity: 1000, Abandoned: 2}, h.q.Stats()); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}
	if h.jobs(OutcomeAbandoned) != 2 || !strings.Contains(h.logs.String(), "queue stopping") {
		t.Errorf("abandoned = %d; logs:\n%s", h.jobs(OutcomeAbandoned), h.logs.String())
	}
}

func TestShutdownDeadlineCancelsJobs(t *testing.T) {
	h := start(t, Options{Workers: 1}, true)
	started, cancelled := make(chan struct{}), make(chan struct{})
	_ = h.q.Add("k", "slow", func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	})
	recv(t, started, "slow job")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the deadline has already passed
	err := h.q.Shutdown(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 jobs still running") {
		t.Errorf("shutdown past its deadline: %v", err)
	}
	recv(t, cancelled, "the job's context to be cancelled")
	recv(t, h.ran, "Run to return")
}

func TestRunContextCancelIsHardStop(t *testing.T) {
	q := New(Options{Workers: 1, InitialBackoff: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- q.Run(ctx) }()
	started := make(chan struct{})
	_ = q.Add("k", "retrying", func(context.Context) error { close(started); return unavailable })
	recv(t, started, "job")
	waitFor(t, "the retry to be scheduled", func() bool { return q.Stats().Waiting == 1 })
	cancel()
	if err := recv(t, ran, "Run to return"); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Stats{Workers: 1, Capacity: 1000, Abandoned: 1}, q.Stats()); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}
	if err := q.Run(context.Background()); err == nil {
		t.Error("a stopped queue ran again")
	}
	if err := q.Shutdown(context.Background()); err != nil {
		t.Errorf("second shutdown: %v", err)
	}
}

func TestShutdownWithoutRun(t *testing.T) {
	q := New(Options{})
	_ = q.Add("k", "1", func(context.Context) error { return nil })
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q.Stats().Abandoned != 1 || !errors.Is(q.Add("k", "2", nil), ErrClosed) {
		t.Errorf("stats = %+v", q.Stats())
	}
}

func TestMetricsRegistered(t *testing.T) {
	h := start(t, Options{}, false)
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		n += len(f.GetMetric())
	}
	// depth, running, retries, lock waits and six outcome series; the
	// histogram has no series before the first job.
	if n != 10 {
		t.Errorf("series = %d, want 10", n)
	}
}
