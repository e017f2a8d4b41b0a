package reconcile

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the reconcile metrics, labelled by target so that the
// reconcilers of several targets share them.
type metrics struct {
	duration *prometheus.HistogramVec // target, operation
	objects  *prometheus.CounterVec   // target, action
	errors   *prometheus.CounterVec   // target, operation
	drifted  *prometheus.GaugeVec     // target
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gitvend_reconcile_duration_seconds",
			Help:    "Time taken by one apply or drift check of a target.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"target", "operation"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitvend_reconcile_objects_total",
			Help: "Objects handled by applies, by what was done to them.",
		}, []string{"target", "action"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitvend_reconcile_errors_total",
			Help: "Applies and drift checks that ended with an error.",
		}, []string{"target", "operation"}),
		drifted: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitvend_drift_objects",
			Help: "Objects that differ from Git at the last drift check.",
		}, []string{"target"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.duration, err = register(reg, m.duration)
	if err == nil {
		m.objects, err = register(reg, m.objects)
	}
	if err == nil {
		m.errors, err = register(reg, m.errors)
	}
	if err == nil {
		m.drifted, err = register(reg, m.drifted)
	}
	if err != nil {
		return nil, fmt.Errorf("register reconcile metrics: %w", err)
	}
	return m, nil
}

// register registers c, or returns the collector of the same description
// that another target's reconciler registered before.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

func (m *metrics) observeApply(target string, res *Result, err error) {
	m.duration.WithLabelValues(target, "apply").Observe(res.Duration.Seconds())
	for _, o := range res.Objects {
		m.objects.WithLabelValues(target, string(o.Action)).Inc()
	}
	if err != nil {
		m.errors.WithLabelValues(target, "apply").Inc()
	}
}

func (m *metrics) observeDrift(target string, rep *DriftReport, seconds float64, err error) {
	m.duration.WithLabelValues(target, "drift").Observe(seconds)
	if err != nil {
		m.errors.WithLabelValues(target, "drift").Inc()
		return
	}
	m.drifted.WithLabelValues(target).Set(float64(len(rep.Objects)))
}
