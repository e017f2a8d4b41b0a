package queue

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Outcomes of a job, the values of the outcome label of
// gitvend_queue_jobs_total.
const (
	OutcomeSucceeded = "succeeded" // the job returned nil
	OutcomeFailed    = "failed"    // a permanent error, or retries used up
	OutcomePanicked  = "panicked"  // the job panicked
	OutcomeAbandoned = "abandoned" // dropped, not finished, by Shutdown
	OutcomeRejected  = "rejected"  // refused by Add: the queue was full
	OutcomeTimedOut  = "timed_out" // cancelled at its deadline (Options.JobTimeout)
)

// metrics are the queue's Prometheus collectors.
type metrics struct {
	depth   prometheus.Gauge
	running prometheus.Gauge
	jobs    *prometheus.CounterVec
	retries prometheus.Counter
	// lockWaits counts jobs put back because their key's lock was held
	// elsewhere (Options.Locker).
	lockWaits prometheus.Counter
	duration  *prometheus.HistogramVec
}

// newMetrics registers the collectors on reg (nil: not registered).
func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		depth: f.NewGauge(prometheus.GaugeOpts{
			Name: "gitvend_queue_depth",
			Help: "Jobs waiting in the work queue, including those waiting to be retried.",
		}),
		running: f.NewGauge(prometheus.GaugeOpts{
			Name: "gitvend_queue_running_jobs",
			Help: "Jobs running on the queue's workers.",
		}),
		jobs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "gitvend_queue_jobs_total",
			Help: "Jobs by outcome: succeeded, failed, panicked, timed_out, abandoned, rejected.",
		}, []string{"outcome"}),
		retries: f.NewCounter(prometheus.CounterOpts{
			Name: "gitvend_queue_retries_total",
			Help: "Attempts scheduled again after a retryable error.",
		}),
		lockWaits: f.NewCounter(prometheus.CounterOpts{
			Name: "gitvend_queue_lock_waits_total",
			Help: "Jobs put back because another replica held the lock of their key.",
		}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gitvend_queue_job_duration_seconds",
			Help:    "Time one attempt of a job ran, by the attempt's result (ok, error, panic, timeout).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12),
		}, []string{"result"}),
	}
	for _, o := range []string{OutcomeSucceeded, OutcomeFailed, OutcomePanicked, OutcomeTimedOut, OutcomeAbandoned, OutcomeRejected} {
		m.jobs.WithLabelValues(o)
	}
	return m
}
