package cost

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/manifest"
)

// TestMemoComputeEqualsCompute estimates the same objects again and again
// through one Memo, at two sets of prices, and wants every estimate to be
// the one Compute makes afresh: the memo must not answer for other
// prices, and the notes an HPA adds to a workload's copy must not pile up
// in what the memo keeps.
func TestMemoComputeEqualsCompute(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "estimate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, []byte(`
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: scaled, namespace: shop}
spec:
  template: {spec: {containers: [{name: a, resources: {requests: {cpu: "1", memory: 1Gi}}}]}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: scaled, namespace: shop}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: scaled}, minReplicas: 2, maxReplicas: 6}
`)...)
	objs, err := manifest.Decode("estimate.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	cheap := func(string) Prices { return DefaultPrices() }
	dear := func(string) Prices {
		p := DefaultPrices()
		p.CPU *= 3
		p.RAMGiB *= 2
		return p
	}
	m := NewMemo(100)
	for round := range 3 {
		for name, prices := range map[string]func(string) Prices{"default": cheap, "dear": dear} {
			want := Compute(Items("prod", objs), prices)
			got := m.Compute(Items("prod", objs), prices)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round %d, %s prices: memo's estimate differs (-fresh +memo):\n%s", round, name, diff)
			}
		}
	}
	if m.lru.Len() == 0 {
		t.Fatal("the memo kept nothing")
	}
}
