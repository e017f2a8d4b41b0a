package reconcile

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gitvend/gitvend/internal/manifest"
)

func TestMetricsAreSharedByTargets(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newMetrics(reg)
	if err != nil {
		t.Fatalf("second target on the same registry: %v", err)
	}
	res := &Result{Objects: []ObjectResult{
		{ID: manifest.ID{Kind: "ConfigMap", Name: "a"}, Action: Created},
		{ID: manifest.ID{Kind: "ConfigMap", Name: "b"}, Action: Created},
		{ID: manifest.ID{Kind: "ConfigMap", Name: "c"}, Action: Failed},
	}}
	a.observeApply("dev", res, &ApplyError{Target: "dev", Failed: 1})
	b.observeApply("prod", res, nil)
	b.observeDrift("prod", &DriftReport{Objects: []ObjectDrift{{}}}, 0.1, nil)

	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"dev created", value(t, a.objects.WithLabelValues("dev", "created")), 2},
		{"prod created", value(t, a.objects.WithLabelValues("prod", "created")), 2},
		{"dev failed", value(t, b.objects.WithLabelValues("dev", "failed")), 1},
		{"dev errors", value(t, a.errors.WithLabelValues("dev", "apply")), 1},
		{"prod errors", value(t, a.errors.WithLabelValues("prod", "apply")), 0},
		{"prod drifted", value(t, a.drifted.WithLabelValues("prod")), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		if mf.GetName() == "gitvend_reconcile_duration_seconds" && len(mf.GetMetric()) != 3 {
			t.Errorf("%d duration series, want 3 (dev apply, prod apply, prod drift)", len(mf.GetMetric()))
		}
	}
}

// value reads a counter or gauge.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if c := out.GetCounter(); c != nil {
		return c.GetValue()
	}
	return out.GetGauge().GetValue()
}
