// Package queue owns gitvend's bounded work queue: the place webhooks and
// the resync loop put jobs so that an HTTP handler answers at once.
//
// Jobs carry a key (a repository, or a repository and issue). Jobs with the
// same key run one at a time in arrival order; jobs with different keys run
// concurrently on a fixed number of workers. The queue holds at most
// Capacity waiting jobs and refuses more with ErrFull, which the webhook
// server answers with 503: the bot is level-triggered, so the next resync
// does the work a refused webhook asked for. A job whose error is retryable
// (package retry: anything not marked terminal) is tried again, up to
// MaxAttempts, with capped exponential backoff, holding back later jobs of
// its key; a job whose error is terminal runs once; a job that panics is
// logged, runs once and never takes its worker down. Every attempt has a
// deadline (JobTimeout): its context is cancelled then, and a job that
// fails past it is logged, counted as timed_out and not tried again.
// Shutdown lets the jobs in flight finish within a deadline and abandons the
// waiting ones.
//
// Replicas that share the work give the queue a Locker: each attempt runs
// only once the lock of its key is taken (a Kubernetes Lease in gitvend
// serve), and a job whose key is held elsewhere is put back with a backoff,
// neither dropped nor counted as an attempt.
package queue
