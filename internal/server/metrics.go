package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	webhooks *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		webhooks: f.NewCounterVec(prometheus.CounterOpts{
			Name: "gitvend_webhooks_total",
			Help: "Webhook deliveries by event type (\"other\" for types not handled) and outcome: " +
				"accepted, duplicate, ignored, bad_signature, too_large, bad_request, queue_full, busy, error.",
		}, []string{"event", "outcome"}),
		latency: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gitvend_webhook_duration_seconds",
			Help:    "Time to answer a webhook delivery, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"outcome"}),
	}
}
