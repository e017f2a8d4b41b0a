package cost

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/manifest"
)

func TestCompare(t *testing.T) {
	const base = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: 500m, memory: 1Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: old, namespace: shop}
spec:
  resources: {requests: {storage: 100G}}
---
apiVersion: v1
kind: Service
metadata: {name: same, namespace: shop}
spec: {type: LoadBalancer}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
`
	const head = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 5
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: 500m, memory: 1Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: same, namespace: shop}
spec: {type: LoadBalancer}
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: shop}
spec: {type: LoadBalancer}
`
	web := (0.5*cpuHour + 1*ramHour) * month // 14.631025 a replica
	lb := lbHour * month                     // 18.25
	pvc := 100 * storageHour * month         // 3.99999996
	webID := manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	edgeID := manifest.ID{APIVersion: "v1", Kind: "Service", Namespace: "shop", Name: "edge"}
	oldID := manifest.ID{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: "shop", Name: "old"}

	tests := []struct {
		name       string
		base, head []Item
		want       Change
	}{
		{
			name: "added, removed and changed objects",
			base: Items("dev", decode(t, base)),
			head: Items("dev", decode(t, head)),
			want: Change{
				Currency: "USD",
				// 43.893075 + 3.99999996 + 18.25 = 66.14307496
				BaseMonthly:    3*web + pvc + lb,
				BaseMonthlyMax: 3*web + pvc + lb,
				// 73.155125 + 18.25 + 18.25 = 109.655125
				Monthly:    5*web + 2*lb,
				MonthlyMax: 5*web + 2*lb,
				Delta:      5*web + 2*lb - (3*web + pvc + lb), // 43.51205004
				Added:      []ObjectDelta{{ID: edgeID, Environment: "dev", Head: lb, Delta: lb}},
				Removed:    []ObjectDelta{{ID: oldID, Environment: "dev", Base: pvc, Delta: -pvc}},
				Changed:    []ObjectDelta{{ID: webID, Environment: "dev", Base: 3 * web, Head: 5 * web, Delta: 2 * web}},
			},
		},
		{
			name: "the same object in another environment is new",
			base: Items("dev", decode(t, base)),
			head: append(Items("dev", decode(t, base)), Items("prod", decode(t, base))...),
			want: Change{
				Currency:       "USD",
				BaseMonthly:    3*web + pvc + lb,
				BaseMonthlyMax: 3*web + pvc + lb,
				Monthly:        2 * (3*web + pvc + lb),
				MonthlyMax:     2 * (3*web + pvc + lb),
				Delta:          3*web + pvc + lb,
				Added: []ObjectDelta{
					{ID: webID, Environment: "prod", Head: 3 * web, Delta: 3 * web},
					{ID: oldID, Environment: "prod", Head: pvc, Delta: pvc},
					{ID: manifest.ID{APIVersion: "v1", Kind: "Service", Namespace: "shop", Name: "same"}, Environment: "prod", Head: lb, Delta: lb},
				},
			},
		},
		{
			name: "nothing changed",
			base: Items("dev", decode(t, head)),
			head: Items("dev", decode(t, head)),
			want: Change{
				Currency:    "USD",
				BaseMonthly: 5*web + 2*lb, BaseMonthlyMax: 5*web + 2*lb,
				Monthly: 5*web + 2*lb, MonthlyMax: 5*web + 2*lb,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(Compute(tt.base, nil), Compute(tt.head, nil))
			if diff := cmp.Diff(tt.want, got, approx); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareCurrency(t *testing.T) {
	got := Compare(Estimate{Currency: "EUR", Monthly: 5}, Estimate{})
	want := Change{Currency: "EUR", BaseMonthly: 5, Delta: -5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
