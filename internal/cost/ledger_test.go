package cost

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/manifest"
)

// ledgerBase is a base of two environments: the estimate fixtures in
// both, a workload scaled by two HPAs (the second is ignored), a
// workload scaled by one and a workload no HPA scales.
func ledgerBase(t *testing.T) []Item {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "estimate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := decode(t, string(data)+`
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {gitvend.dev/owner: shop}}
spec:
  replicas: 2
  template: {spec: {containers: [{name: a, resources: {requests: {cpu: "1", memory: 1Gi}}}]}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 6}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web-too, namespace: shop}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 1, maxReplicas: 9}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  replicas: 1
  template: {spec: {containers: [{name: a, resources: {requests: {cpu: "2", memory: 4Gi}}}]}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: db, namespace: shop}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}, minReplicas: 1, maxReplicas: 3}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 3
  template: {spec: {containers: [{name: a, resources: {requests: {cpu: 500m, memory: 512Mi}}}]}}
`)
	return append(Items("dev", objs), Items("prod", clone(objs))...)
}

// clone copies objects with their own content.
func clone(objs []manifest.Object) []manifest.Object {
	out := make([]manifest.Object, len(objs))
	for i, o := range objs {
		data, err := manifest.Encode(o.Content)
		if err != nil {
			panic(err)
		}
		got, err := manifest.Decode(o.File, data)
		if err != nil || len(got) != 1 {
			panic(fmt.Sprintf("clone %v: %v", o.ID, err))
		}
		out[i] = got[0]
	}
	return out
}

// find returns the index of the item of env named kind/name.
func find(t *testing.T, items []Item, env, kind, name string) int {
	t.Helper()
	for i, it := range items {
		if it.Environment == env && it.Object.Kind == kind && it.Object.Name == name {
			return i
		}
	}
	t.Fatalf("no %s %s in %s", kind, name, env)
	return -1
}

// edited returns items with the object at i replaced by the one doc decodes to.
func edited(t *testing.T, items []Item, i int, doc string) []Item {
	t.Helper()
	out := append([]Item(nil), items...)
	objs := decode(t, doc)
	out[i] = Item{Object: &objs[0], Environment: items[i].Environment}
	return out
}

// without returns items without the one at i.
func without(items []Item, i int) []Item {
	return append(append([]Item(nil), items[:i]...), items[i+1:]...)
}

// TestReviseEqualsCompute revises the estimate of a base for heads that
// add, change and remove workloads and the HPAs that scale them, and
// wants each to be exactly the estimate Compute makes of the head: same
// objects in the same order, same totals to the last bit.
func TestReviseEqualsCompute(t *testing.T) {
	base := ledgerBase(t)
	dearer := func(env string) Prices {
		p := DefaultPrices()
		if env == "prod" {
			p.CPU *= 2
		}
		return p
	}
	web := find(t, base, "dev", "Deployment", "web")
	hpa := find(t, base, "dev", "HorizontalPodAutoscaler", "web")
	db := find(t, base, "prod", "HorizontalPodAutoscaler", "db")
	api := find(t, base, "dev", "Deployment", "api")
	heads := map[string][]Item{
		"unchanged": base,
		"reordered": append(append([]Item(nil), base[len(base)/2:]...), base[:len(base)/2]...),
		"scaled workload changes": edited(t, base, web, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {gitvend.dev/owner: shop}}
spec:
  template: {spec: {containers: [{name: a, resources: {requests: {cpu: "3", memory: 1Gi}}}]}}
`),
		"HPA changes": edited(t, base, hpa, `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 4, maxReplicas: 5}
`),
		"HPA goes, the other takes over": without(base, hpa),
		"HPA goes, nothing scales":       without(base, db),
		"HPA turns bad": edited(t, base, db, `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: db, namespace: shop}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}, minReplicas: 5, maxReplicas: 3}
`),
		"HPA added": append(append([]Item(nil), base...), Item{Environment: "dev", Object: &decode(t, `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: shop}
spec: {scaleTargetRef: {kind: Deployment, name: api}, minReplicas: 1, maxReplicas: 4}
`)[0]}),
		"workload removed": without(base, api),
		"workload added in a new environment": append(append([]Item(nil), base...), Items("test", decode(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: new, namespace: other}
spec:
  template: {spec: {containers: [{name: a, resources: {requests: {cpu: "1"}}}]}}
`))...),
		"object without content": append(append([]Item(nil), base...), Item{Environment: "dev"}),
		"a key twice":            append(append([]Item(nil), base...), base[api]),
		"empty":                  nil,
	}
	for _, prices := range []struct {
		name       string
		base, head func(string) Prices
	}{{"same prices", nil, nil}, {"prod dearer", dearer, dearer}, {"prices moved", nil, dearer}} {
		for name, head := range heads {
			t.Run(prices.name+"/"+name, func(t *testing.T) {
				m := NewMemo(1000)
				l := m.Ledger(base, prices.base)
				if diff := cmp.Diff(Compute(base, prices.base), l.Estimate()); diff != "" {
					t.Fatalf("ledger's estimate differs from Compute's (-want +got):\n%s", diff)
				}
				want := Compute(head, prices.head)
				wantChange := Compare(l.Estimate(), want)
				for round := range 2 { // the second from the memo
					got, change := m.Revise(l, head, prices.head, nil)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("round %d: revised estimate differs from Compute's (-want +got):\n%s", round, diff)
					}
					if diff := cmp.Diff(wantChange, change); diff != "" {
						t.Fatalf("round %d: change differs from Compare's (-want +got):\n%s", round, diff)
					}
				}
			})
		}
	}
}

// TestReviseOfRepeatedKeys revises from a ledger whose items repeat a key,
// which Revise cannot tell apart: it computes afresh.
func TestReviseOfRepeatedKeys(t *testing.T) {
	base := ledgerBase(t)
	twice := append(append([]Item(nil), base...), base[0])
	m := NewMemo(1000)
	l := m.Ledger(twice, nil)
	if l.index.Unique() {
		t.Fatal("a ledger of items that repeat a key is taken as exact")
	}
	if got, _ := m.Revise(l, base, nil, nil); !cmp.Equal(Compute(base, nil), got) {
		diff := cmp.Diff(Compute(base, nil), got)
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
