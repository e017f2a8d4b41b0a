package bot

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bot's service-level measurements.
type metrics struct {
	requests *prometheus.CounterVec // request syncs by outcome
	toPR     prometheus.Histogram   // seconds from the newest input to its PR
	prs      prometheus.Counter
	checks   *prometheus.CounterVec // checks by verdict
	replies  prometheus.Counter
	jobs     *prometheus.CounterVec // jobs by kind and result
	jobTime  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitvend_requests_total",
			Help: "Request issue syncs by outcome: proposed, current, in-branch, invalid, refused, ignored."}, []string{"outcome"}),
		toPR: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gitvend_request_to_pr_seconds",
			Help: "Seconds from a request (or its latest change) being written to its pull request being opened or updated.",
			// Neighbouring bounds at most a third apart up to 5 s, so that a
			// percentile interpolated in its bucket is within a third of the
			// truth; the earlier bounds are all kept.
			Buckets: []float64{0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 20, 30, 60, 120, 300, 1800}}),
		prs: prometheus.NewCounter(prometheus.CounterOpts{Name: "gitvend_pull_requests_opened_total",
			Help: "Pull requests opened for requests."}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitvend_checks_total",
			Help: "Policy and cost checks run, by verdict (passed or failed); failed/total is the policy denial rate."}, []string{"verdict"}),
		replies: prometheus.NewCounter(prometheus.CounterOpts{Name: "gitvend_command_replies_total",
			Help: "Replies to commands that were refused, unreadable or asked for help."}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitvend_bot_jobs_total",
			Help: "Bot jobs by kind (issue, pull, resync) and result (ok, error)."}, []string{"kind", "result"}),
		jobTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gitvend_bot_job_seconds",
			Help:    "Seconds a bot job ran, by kind (issue, pull, push, resync, fanout, installed): what the jobs queued behind it waited.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}}, []string{"kind"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.toPR, m.prs, m.checks, m.replies, m.jobs, m.jobTime} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// job runs a bot job of kind, counting it by result and timing it.
func (m *metrics) job(kind string, run func() error) error {
	start := time.Now()
	err := run()
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.jobs.WithLabelValues(kind, result).Inc()
	m.jobTime.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	return err
}
