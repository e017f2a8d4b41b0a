package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/retry"
)

// ErrFull is returned (wrapped) by Add when Capacity jobs are waiting.
var ErrFull = errors.New("queue full")

// ErrClosed is returned (wrapped) by Add once Shutdown has begun.
var ErrClosed = errors.New("queue closed")

// ErrDeadline is the cause of a job's context when the job ran longer
// than Options.JobTimeout; the job's error wraps it.
var ErrDeadline = errors.New("job deadline exceeded")

// DefaultJobTimeout is how long one attempt of a job may run by default.
const DefaultJobTimeout = 10 * time.Minute

// Options configure a Queue. Zero values take the defaults named.
type Options struct {
	// Workers is how many jobs run at once (default 1).
	Workers int
	// Capacity is how many jobs may wait (default 1000).
	Capacity int
	// Logger receives the queue's log lines (default: discarded).
	Logger *slog.Logger
	// Registerer gets the queue's metrics (nil: not registered).
	Registerer prometheus.Registerer
	// MaxAttempts bounds how often a job whose errors are retryable (see
	// package retry) runs, the first attempt included (default 5; 1 turns
	// retries off). A job whose error is terminal runs once.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry (default 1s); each
	// further wait is about twice the one before, with jitter.
	InitialBackoff time.Duration
	// MaxBackoff caps one wait (default 1m).
	MaxBackoff time.Duration
	// JobTimeout bounds one attempt of a job (default DefaultJobTimeout):
	// its context is cancelled then, with cause ErrDeadline. A job that
	// fails past it is logged, counted (outcome timed_out) and not tried
	// again: the same input would take as long again. A job that ignores
	// its context keeps its worker until it returns.
	JobTimeout time.Duration
	// Locker, when set, is asked for the lock of a job's key before each
	// attempt and told to release it once the attempt returned, so that
	// replicas sharing the work never run jobs of one key at once (nil:
	// no lock; one process keeps its own keys apart).
	Locker Locker
}

// Locker keeps the jobs of one key from running in two processes at once.
// The queue asks for the lock before each attempt of a job and releases it
// once the attempt has returned.
type Locker interface {
	// Lock takes the lock of key, waiting a bounded time for it. It
	// returns a context derived from ctx that is cancelled should the lock
	// be lost while the job runs, and the release, to be called once. An
	// error means the job must not run now: the queue puts it back and
	// tries again after a backoff, without counting an attempt.
	Lock(ctx context.Context, key string) (context.Context, func(), error)
}

// Stats is a snapshot of the queue for status pages and tests.
type Stats struct {
	Workers   int `json:"workers"`
	Capacity  int `json:"capacity"`
	Waiting   int `json:"waiting"`   // accepted, not running (waiting for a worker or a retry)
	Running   int `json:"running"`   // running now, or taking its key's lock
	Abandoned int `json:"abandoned"` // dropped by Shutdown or a cancelled Run
}

// state is where a Queue is in its life.
type state int

const (
	stateIdle     state = iota // created, Run not called
	stateRunning               // workers started
	stateStopping              // Shutdown or cancelled Run: no new jobs, in-flight ones finishing
	stateStopped               // workers gone
)

// Queue is a bounded, keyed work queue. Its methods are safe for
// concurrent use.
type Queue struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics

	mu        sync.Mutex
	cond      *sync.Cond
	state     state
	lanes     map[string]*lane
	ready     []*lane // lanes with a job to run and none running, in arrival order
	waiting   int
	running   int
	abandoned int
	timers    map[*item]*time.Timer // jobs waiting to be retried
	jobCtx    context.Context
	cancel    context.CancelFunc
	done      chan struct{} // closed when the workers have stopped
}

// lane holds the jobs of one key in arrival order.
type lane struct {
	key   string
	items []*item
	// busy is true while one of the lane's jobs runs or waits to be retried.
	busy bool
}

// item is one accepted job.
type item struct {
	lane    *lane
	id      string
	job     func(ctx context.Context) error
	attempt int
	backoff *backoff.ExponentialBackOff
}

// New returns a Queue; call Run to start its workers. Jobs added before Run
// wait for it.
func New(opts Options) *Queue {
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	if opts.Capacity < 1 {
		opts.Capacity = 1000
	}
	if opts.MaxAttempts < 1 {
		opts.MaxAttempts = 5
	}
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = DefaultJobTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{
		opts:    opts,
		log:     log,
		metrics: newMetrics(opts.Registerer),
		lanes:   map[string]*lane{},
		timers:  map[*item]*time.Timer{},
		done:    make(chan struct{}),
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues job under key; id names it in logs (a delivery id, for
// example). It returns an error wrapping ErrFull when Capacity jobs are
// waiting, or ErrClosed once the queue is shutting down; it never blocks.
//
// The job's context is cancelled when the attempt runs longer than
// JobTimeout, or the queue stops without a graceful shutdown or the
// shutdown's deadline passes; it carries a logger
// (logctx.LoggerFrom) with the job's key, id and attempt.
func (q *Queue) Add(key, id string, job func(ctx context.Context) error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.state >= stateStopping:
		return fmt.Errorf("queue job %s for %s: %w", id, key, ErrClosed)
	case q.waiting >= q.opts.Capacity:
		q.metrics.jobs.WithLabelValues(OutcomeRejected).Inc()
		return fmt.Errorf("queue job %s for %s: %w (%d waiting)", id, key, ErrFull, q.waiting)
	}
	l := q.lanes[key]
	if l == nil {
		l = &lane{key: key}
		q.lanes[key] = l
	}
	l.items = append(l.items, &item{lane: l, id: id, job: job})
	q.setWaiting(q.waiting + 1)
	if !l.busy && len(l.items) == 1 {
		q.pushReady(l)
	}
	return nil
}

// Run starts the workers and blocks until Shutdown has stopped them or ctx
// is cancelled. Cancelling ctx is the hard stop: running jobs see their
// context cancelled, waiting jobs are abandoned, and Run returns once the
// workers have returned.
func (q *Queue) Run(ctx context.Context) error {
	q.mu.Lock()
	if q.state != stateIdle {
		q.mu.Unlock()
		return errors.New("run queue: already started or shut down")
	}
	q.state = stateRunning
	q.jobCtx, q.cancel = context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range q.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.work()
		}()
	}
	q.mu.Unlock()
	go func() {
		wg.Wait()
		q.cancel()
		q.mu.Lock()
		q.state = stateStopped
		q.mu.Unlock()
		close(q.done)
	}()
	select {
	case <-q.done:
	case <-ctx.Done():
		q.stop()
		<-q.done
	}
	return nil
}

// Shutdown stops the queue gracefully: Add refuses new jobs, waiting jobs
// are abandoned (the bot's resync does their work later), and jobs in
// flight may finish until ctx is done, when their context is cancelled and
// Shutdown returns an error saying how many were still running.
func (q *Queue) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	if q.state == stateIdle {
		q.abandonLocked()
		q.state = stateStopped
		q.mu.Unlock()
		return nil
	}
	q.mu.Unlock()
	q.stop()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		q.mu.Lock()
		n := q.running
		q.mu.Unlock()
		q.cancel()
		return fmt.Errorf("shut down queue: %d jobs still running: %w", n, ctx.Err())
	}
}

// stop moves a running queue to stopping: waiting jobs are abandoned and
// idle workers return.
func (q *Queue) stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.state != stateRunning {
		return
	}
	q.state = stateStopping
	n := q.abandonLocked()
	q.log.Info("queue stopping", "abandoned", n, "running", q.running)
	q.cond.Broadcast()
}

// abandonLocked drops every waiting job and returns how many there were.
func (q *Queue) abandonLocked() int {
	n := q.waiting
	for it, t := range q.timers {
		t.Stop()
		delete(q.timers, it)
	}
	q.lanes = map[string]*lane{}
	q.ready = nil
	q.abandoned += n
	q.metrics.jobs.WithLabelValues(OutcomeAbandoned).Add(float64(n))
	q.setWaiting(0)
	return n
}

// Stats returns a snapshot of the queue.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Stats{Workers: q.opts.Workers, Capacity: q.opts.Capacity, Waiting: q.waiting, Running: q.running, Abandoned: q.abandoned}
}

func (q *Queue) setWaiting(n int) {
	q.waiting = n
	q.metrics.depth.Set(float64(n))
}

func (q *Queue) pushReady(l *lane) {
	q.ready = append(q.ready, l)
	q.cond.Signal()
}

// work runs jobs until the queue stops.
func (q *Queue) work() {
	for {
		it := q.next()
		if it == nil {
			return
		}
		ctx := q.jobCtx
		release := func() {}
		if q.opts.Locker != nil {
			var err error
			ctx, release, err = q.opts.Locker.Lock(ctx, it.lane.key)
			if err != nil {
				q.putBack(it, err)
				continue
			}
		}
		a := q.runAttempt(ctx, it)
		release()
		q.finish(it, a)
	}
}

// putBack returns a job whose key's lock could not be taken to the head
// of its lane, to be tried again after a backoff; it did not run, so no
// attempt is counted and it is never dropped while the queue runs.
func (q *Queue) putBack(it *item, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.running--
	q.metrics.running.Set(float64(q.running))
	q.metrics.lockWaits.Inc()
	log := q.log.With("key", it.lane.key, "job", it.id, "attempt", it.attempt+1)
	if q.state != stateRunning {
		log.Warn("job not run: its key is locked elsewhere and the queue is stopping", "err", err)
		q.abandoned++
		q.metrics.jobs.WithLabelValues(OutcomeAbandoned).Inc()
		q.release(it.lane)
		return
	}
	// The lock is waited for at an even pace (the Locker's wait already
	// bounds each try), not with the growing backoff of a failing job.
	wait := q.opts.InitialBackoff + rand.N(q.opts.InitialBackoff/2+1)
	q.schedule(it, wait)
	log.Debug("job's key is locked elsewhere; trying again", "err", err, "in", wait)
}

// attempt is how one attempt of a job ended.
type attempt struct {
	err      error
	panicked bool
	timedOut bool // ran past JobTimeout
}

// next waits for a job and marks its lane busy; nil means stop.
func (q *Queue) next() *item {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ready) == 0 && q.state == stateRunning {
		q.cond.Wait()
	}
	if q.state != stateRunning {
		return nil
	}
	l := q.ready[0]
	q.ready[0] = nil
	q.ready = q.ready[1:]
	it := l.items[0]
	l.items[0] = nil
	l.items = l.items[1:]
	l.busy = true
	q.setWaiting(q.waiting - 1)
	q.running++
	q.metrics.running.Set(float64(q.running))
	return it
}

// runAttempt runs one attempt of a job within its deadline, turning a
// panic into an error.
func (q *Queue) runAttempt(base context.Context, it *item) (a attempt) {
	it.attempt++
	ctx, log := logctx.With(logctx.WithLogger(base, q.log), "key", it.lane.key, "job", it.id, "attempt", it.attempt)
	ctx, cancel := context.WithTimeoutCause(ctx, q.opts.JobTimeout, ErrDeadline)
	defer cancel()
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			a.err, a.panicked = fmt.Errorf("job panicked: %v", r), true
			log.Error("job panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		if a.err != nil && !a.panicked && errors.Is(context.Cause(ctx), ErrDeadline) {
			a.timedOut = true
			a.err = retry.Terminal(fmt.Errorf("job ran longer than %s: %w: %w", q.opts.JobTimeout, ErrDeadline, a.err))
		}
		result := "ok"
		switch {
		case a.panicked:
			result = "panic"
		case a.timedOut:
			result = "timeout"
		case a.err != nil:
			result = "error"
		}
		q.metrics.duration.WithLabelValues(result).Observe(time.Since(start).Seconds())
	}()
	return attempt{err: it.job(ctx)}
}

// finish records an attempt's result and frees or re-arms its lane.
func (q *Queue) finish(it *item, a attempt) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.running--
	q.metrics.running.Set(float64(q.running))
	log := q.log.With("key", it.lane.key, "job", it.id, "attempt", it.attempt)
	err := a.err
	retryable := !a.panicked && !a.timedOut && retry.IsRetryable(err)
	again := retryable && it.attempt < q.opts.MaxAttempts
	switch {
	case again && q.state == stateRunning:
		q.metrics.retries.Inc()
		q.scheduleRetry(it, err, log)
		return
	case again:
		log.Warn("job failed; not retried because the queue is stopping", "err", err)
		q.abandoned++
		q.metrics.jobs.WithLabelValues(OutcomeAbandoned).Inc()
	case a.panicked:
		q.metrics.jobs.WithLabelValues(OutcomePanicked).Inc()
	case a.timedOut:
		log.Error("job ran past its deadline and was cancelled; not retried", "timeout", q.opts.JobTimeout, "err", err)
		q.metrics.jobs.WithLabelValues(OutcomeTimedOut).Inc()
	case err != nil:
		log.Error("job failed", "err", err, "retryable", retryable)
		q.metrics.jobs.WithLabelValues(OutcomeFailed).Inc()
	default:
		log.Debug("job done")
		q.metrics.jobs.WithLabelValues(OutcomeSucceeded).Inc()
	}
	q.release(it.lane)
}

// scheduleRetry puts a job back at the head of its lane after a backoff;
// the lane stays busy meanwhile, so later jobs of the key keep their order.
func (q *Queue) scheduleRetry(it *item, err error, log *slog.Logger) {
	if it.backoff == nil {
		it.backoff = &backoff.ExponentialBackOff{
			InitialInterval:     q.opts.InitialBackoff,
			RandomizationFactor: 0.2,
			Multiplier:          2,
			MaxInterval:         q.opts.MaxBackoff,
		}
	}
	wait := min(it.backoff.NextBackOff(), q.opts.MaxBackoff)
	log.Warn("job failed; retrying", "err", err, "in", wait)
	q.schedule(it, wait)
}

// schedule puts a job back at the head of its lane after wait; the lane
// stays busy meanwhile.
func (q *Queue) schedule(it *item, wait time.Duration) {
	q.setWaiting(q.waiting + 1)
	q.timers[it] = time.AfterFunc(wait, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if _, ok := q.timers[it]; !ok {
			return // abandoned meanwhile
		}
		delete(q.timers, it)
		l := it.lane
		l.items = append([]*item{it}, l.items...)
		l.busy = false
		q.pushReady(l)
	})
}

// release frees a lane after its job finished.
func (q *Queue) release(l *lane) {
	l.busy = false
	switch {
	case q.state != stateRunning:
	case len(l.items) > 0:
		q.pushReady(l)
	default:
		delete(q.lanes, l.key)
	}
}
