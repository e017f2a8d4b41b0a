package rollout

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitvend/gitvend/internal/reconcile"
)

// metrics are a rollout's service-level measurements; the reconcilers
// record their own (durations, objects by action).
type metrics struct {
	mergeToApplied *prometheus.HistogramVec
	applies        *prometheus.CounterVec
	driftResolve   *prometheus.HistogramVec

	mu         sync.Mutex
	driftSince map[string]time.Time
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		mergeToApplied: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gitvend_merge_to_applied_seconds",
			Help: "Seconds from a commit on the desired-state branch to its apply on a target.",
			// Finer below 5 s, where a merge on a quiet target lands; the
			// earlier bounds are all kept.
			Buckets: []float64{0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 120, 300, 900, 3600}}, []string{"target"}),
		applies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitvend_applies_total",
			Help: "Applies by target and result: ok, partial (some objects failed or were refused) or failed."}, []string{"target", "result"}),
		driftResolve: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gitvend_drift_resolve_seconds",
			Help:    "Seconds from drift being found on a target to it being gone.",
			Buckets: []float64{1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600}}, []string{"target"}),
		driftSince: map[string]time.Time{},
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.mergeToApplied, m.applies, m.driftResolve} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observeApply(target string, res *reconcile.Result, err error) {
	result := "ok"
	switch {
	case res == nil || (err != nil && res.Count(reconcile.Failed) == 0):
		result = "failed"
	case err != nil || res.Count(reconcile.Failed)+res.Count(reconcile.Refused) > 0:
		result = "partial"
	}
	m.applies.WithLabelValues(target, result).Inc()
}

func (m *metrics) observeDrift(target string, rep *reconcile.DriftReport) {
	m.mu.Lock()
	defer m.mu.Unlock()
	since, open := m.driftSince[target]
	switch {
	case rep.HasDrift() && !open:
		m.driftSince[target] = time.Now()
	case !rep.HasDrift() && open:
		m.driftResolve.WithLabelValues(target).Observe(time.Since(since).Seconds())
		delete(m.driftSince, target)
	}
}
