package cost

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitvend/gitvend/internal/manifest"
)

// OpenCost's published on-premises prices per hour, which the expected
// figures of the tests are worked out from by hand.
const (
	cpuHour     = 0.031611
	ramHour     = 0.004237
	gpuHour     = 0.95
	storageHour = 0.00005479452
	spotCPUHour = 0.006655
	spotRAMHour = 0.000892
	lbHour      = 0.025
	month       = 730.0
)

// approx compares amounts up to floating-point rounding.
var approx = cmpopts.EquateApprox(1e-12, 1e-9)

// decode reads YAML the way gitvend reads manifests.
func decode(t testing.TB, doc string) []manifest.Object {
	t.Helper()
	objs, err := manifest.Decode("test.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return objs
}

// diffObjects compares the objects of est with want, amounts approximately.
func diffObjects(t *testing.T, est Estimate, want []ObjectCost) {
	t.Helper()
	if diff := cmp.Diff(want, est.Objects, approx, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}
