package cost

import (
	"strconv"
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

func TestCompareAutoscaled(t *testing.T) {
	deployment := `
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
`
	hpa := func(max int) string {
		return deployment + `---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: ` + strconv.Itoa(max) + "\n"
	}
	web := (0.5*cpuHour + 1*ramHour) * month // 14.631025 a replica
	id := manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	tests := []struct {
		name       string
		base, head string
		want       Change
	}{
		{
			name: "only maxReplicas changes",
			base: hpa(10),
			head: hpa(20),
			want: Change{
				Currency:    "USD",
				BaseMonthly: 2 * web, BaseMonthlyMax: 10 * web,
				Monthly: 2 * web, MonthlyMax: 20 * web,
				Changed: []ObjectDelta{{ID: id, Environment: "dev", Base: 2 * web, Head: 2 * web, BaseMax: 10 * web, HeadMax: 20 * web}},
			},
		},
		{
			name: "the autoscaler goes away",
			base: hpa(10),
			head: deployment,
			want: Change{
				Currency:    "USD",
				BaseMonthly: 2 * web, BaseMonthlyMax: 10 * web,
				Monthly: 3 * web, MonthlyMax: 3 * web,
				Delta:   web,
				Changed: []ObjectDelta{{ID: id, Environment: "dev", Base: 2 * web, Head: 3 * web, Delta: web, BaseMax: 10 * web, HeadMax: 3 * web}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(Compute(Items("dev", decode(t, tt.base)), nil), Compute(Items("dev", decode(t, tt.head)), nil))
			if diff := cmp.Diff(tt.want, got, approx); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
