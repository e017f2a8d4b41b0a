package cost

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
)

func TestComputeHPA(t *testing.T) {
	const doc = `
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
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: "1", memory: 1Gi}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api-backwards, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 5
  maxReplicas: 2
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: elsewhere}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 50
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: worker, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: "1", memory: 2Gi}}
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: worker, namespace: shop}
spec:
  scaleTargetRef: {kind: StatefulSet, name: worker}
  maxReplicas: 4
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: worker-second, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: worker}
  minReplicas: 3
  maxReplicas: 6
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cache, namespace: shop}
spec:
  replicas: 0
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: cache-a, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: cache}
  maxReplicas: lots
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: cache-b, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: cache}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: cache-c, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: example.com/v1, kind: Deployment, name: cache}
  maxReplicas: 3
`
	// One replica a month: web 0.0200425 × 730 = 14.631025,
	// api 0.035848 × 730 = 26.16904, worker 0.040085 × 730 = 29.26205.
	web := (0.5*cpuHour + 1*ramHour) * month
	api := (1*cpuHour + 1*ramHour) * month
	worker := (1*cpuHour + 2*ramHour) * month
	want := []ObjectCost{
		{
			ID:      manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "api"},
			Monthly: api, Replicas: 1, CPU: 1, RAMGiB: 1,
			Notes: []string{"HorizontalPodAutoscaler api-backwards is ignored: spec.minReplicas (5) is more than spec.maxReplicas (2)"},
		},
		{
			// cache-c targets a Deployment of another API group.
			ID: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "cache"},
			Notes: []string{
				"spec.template.spec: missing; the pod is costed at 0",
				"HorizontalPodAutoscaler cache-a is ignored: spec.maxReplicas: must be a whole number from 0 to 2147483647, got a string",
				"HorizontalPodAutoscaler cache-b is ignored: spec.maxReplicas: must be set to a whole number from 1 to 2147483647",
			},
		},
		{
			ID:      manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
			Monthly: 2 * web, MonthlyMax: 10 * web, // 29.26205 to 146.31025
			Replicas: 2, MinReplicas: 2, MaxReplicas: 10, CPU: 0.5, RAMGiB: 1,
			Notes: []string{"replicas set by HorizontalPodAutoscaler web: estimated at minReplicas 2, up to maxReplicas 10"},
		},
		{
			ID:      manifest.ID{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "shop", Name: "worker"},
			Monthly: worker, MonthlyMax: 4 * worker, // minReplicas defaults to 1
			Replicas: 1, MinReplicas: 1, MaxReplicas: 4, CPU: 1, RAMGiB: 2,
			Notes: []string{
				"replicas set by HorizontalPodAutoscaler worker: estimated at minReplicas 1, up to maxReplicas 4",
				"HorizontalPodAutoscaler worker-second is ignored: HorizontalPodAutoscaler worker already scales this workload",
			},
		},
	}
	for i := range want {
		want[i].Environment = "dev"
	}
	est := Compute(Items("dev", decode(t, doc)), nil)
	diffObjects(t, est, want)
	// 26.16904 + 29.26205 + 29.26205 = 84.69314
	if diff := cmp.Diff(api+2*web+worker, est.Monthly, approx); diff != "" {
		t.Errorf("monthly (-want +got):\n%s", diff)
	}
	// 26.16904 + 146.31025 + 117.0482 = 289.52749
	if diff := cmp.Diff(api+10*web+4*worker, est.MonthlyMax, approx); diff != "" {
		t.Errorf("monthly max (-want +got):\n%s", diff)
	}
}

func TestComputeEnvironments(t *testing.T) {
	const doc = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {gitvend.dev/owner: payments}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: "1", memory: 2Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: store}
spec:
  resources: {requests: {storage: 50G}}
`
	cpu := 0.05
	prod := DefaultPrices().With(config.Prices{CPU: &cpu})
	prices := func(env string) Prices {
		if env == "prod" {
			return prod
		}
		return DefaultPrices()
	}
	objs := decode(t, doc)
	items := append(Items("prod", objs), Items("dev", objs)...)
	est := Compute(items, prices)

	// dev:  web 2 × (1 × 0.031611 + 2 × 0.004237) × 730 = 58.5241
	//       data 50 × 0.00005479452 × 730 = 1.99999998
	// prod: web 2 × (1 × 0.05 + 2 × 0.004237) × 730 = 85.37204
	//       data the same 1.99999998
	devWeb := 2 * (1*cpuHour + 2*ramHour) * month
	prodWeb := 2 * (1*0.05 + 2*ramHour) * month
	data := 50 * storageHour * month
	webID := manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	dataID := manifest.ID{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: "store", Name: "data"}
	want := Estimate{
		Currency:   "USD",
		Monthly:    devWeb + prodWeb + 2*data,
		MonthlyMax: devWeb + prodWeb + 2*data,
		Objects: []ObjectCost{
			{ID: webID, Environment: "dev", Owner: "payments", Monthly: devWeb, Replicas: 2, CPU: 1, RAMGiB: 2},
			{ID: dataID, Environment: "dev", Monthly: data, StorageGB: 50},
			{ID: webID, Environment: "prod", Owner: "payments", Monthly: prodWeb, Replicas: 2, CPU: 1, RAMGiB: 2},
			{ID: dataID, Environment: "prod", Monthly: data, StorageGB: 50},
		},
		ByNamespace:   map[string]float64{"shop": devWeb + prodWeb, "store": 2 * data},
		ByOwner:       map[string]float64{"payments": devWeb + prodWeb, "": 2 * data},
		ByEnvironment: map[string]float64{"dev": devWeb + data, "prod": prodWeb + data},
	}
	if diff := cmp.Diff(want, est, approx); diff != "" {
		t.Errorf("estimate (-want +got):\n%s", diff)
	}
}

func TestComputeCurrencies(t *testing.T) {
	objs := decode(t, `
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: shop}
spec: {type: LoadBalancer}
`)
	lb := 0.02
	eur := DefaultPrices().With(config.Prices{Currency: "EUR", LoadBalancer: &lb})
	tests := []struct {
		name      string
		items     []Item
		currency  string
		monthly   float64
		wantNotes []string
	}{
		{name: "no items take the default environment's currency", currency: "USD"},
		{name: "one currency", items: Items("eu", objs), currency: "EUR", monthly: 0.02 * month},
		{
			name:     "mixed currencies are named",
			items:    append(Items("us", objs), Items("eu", objs)...),
			currency: "EUR",
			// 0.02 × 730 + 0.025 × 730 = 14.6 + 18.25
			monthly:   0.02*month + lbHour*month,
			wantNotes: []string{"environments are priced in different currencies (eu: EUR, us: USD); totals add the amounts unconverted"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			est := Compute(tt.items, func(env string) Prices {
				if env == "eu" {
					return eur
				}
				return DefaultPrices()
			})
			got := struct {
				Currency string
				Monthly  float64
				Notes    []string
			}{est.Currency, est.Monthly, est.Notes}
			want := struct {
				Currency string
				Monthly  float64
				Notes    []string
			}{tt.currency, tt.monthly, tt.wantNotes}
			if diff := cmp.Diff(want, got, approx); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestComputeGolden checks the JSON of a realistic set of objects, the
// form gitvend check prints.
func TestComputeGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "estimate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode("estimate.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	est := Compute(Items("prod", objs), nil)
	got, err := json.MarshalIndent(est, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "estimate.golden.json")
	if os.Getenv("UPDATE") != "" {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with UPDATE=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; UPDATE=1 rewrites it):\n%s", golden, diff)
	}
}

func FuzzCompute(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "estimate.yaml")); err == nil {
		f.Add(data)
	}
	for _, seed := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, resources: {requests: {cpu: 1e3, memory: 1Ei}}}]}\n",
		"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {schedule: '*/7 1-5 ? JAN-MAR 1,3', jobTemplate: {spec: {parallelism: 9}}}\n",
		"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {replicas: 2147483647, volumeClaimTemplates: [{spec: {resources: {requests: {storage: 9Ei}}}}]}\n",
		"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: s}\nspec: {scaleTargetRef: {kind: StatefulSet, name: s}, minReplicas: 0, maxReplicas: 2147483647}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := manifest.Decode("fuzz.yaml", data)
		est := Compute(Items("dev", objs), nil)
		valid := func(what string, v float64) {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("%s = %v, want a finite amount of 0 or more", what, v)
			}
		}
		valid("monthly", est.Monthly)
		valid("monthly max", est.MonthlyMax)
		var sum float64
		for i, o := range est.Objects {
			valid(o.ID.String()+" monthly", o.Monthly)
			valid(o.ID.String()+" monthly max", o.MaxMonthly())
			if o.MaxMonthly() < o.Monthly {
				t.Fatalf("%s: max %v below estimate %v", o.ID, o.MaxMonthly(), o.Monthly)
			}
			if i > 0 && compareKey(o.Environment, o.ID, est.Objects[i-1].Environment, est.Objects[i-1].ID) < 0 {
				t.Fatalf("objects out of order: %s after %s", o.ID, est.Objects[i-1].ID)
			}
			sum += o.Monthly
		}
		if math.Abs(sum-est.Monthly) > 1e-9*math.Max(1, est.Monthly) {
			t.Fatalf("objects add up to %v, total is %v", sum, est.Monthly)
		}
		if _, err := json.Marshal(est); err != nil {
			t.Fatalf("marshal estimate: %v", err)
		}
	})
}

// BenchmarkCompute estimates 1,000 objects: 250 each of Deployments (half
// of them scaled by an HPA, which are not counted), StatefulSets with
// claims, CronJobs and LoadBalancer Services.
func BenchmarkCompute(b *testing.B) {
	var doc []byte
	for i := range 250 {
		doc = append(doc, []byte(benchObjects(i))...)
	}
	objs, err := manifest.Decode("bench.yaml", doc)
	if err != nil {
		b.Fatal(err)
	}
	items := Items("prod", objs)
	counted := 0
	for _, it := range items {
		if it.Object.Kind != "HorizontalPodAutoscaler" {
			counted++
		}
	}
	if counted != 1000 {
		b.Fatalf("built %d costed objects, want 1000", counted)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		est := Compute(items, nil)
		if len(est.Objects) != 1000 {
			b.Fatalf("estimated %d objects, want 1000", len(est.Objects))
		}
	}
}

func benchObjects(i int) string {
	hpa := ""
	if i%2 == 0 {
		hpa = `---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web-NUM, namespace: team-NUM}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web-NUM}
  minReplicas: 2
  maxReplicas: 8
`
	}
	s := `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-NUM
  namespace: team-NUM
  labels: {gitvend.dev/owner: team-NUM}
spec:
  replicas: 3
  template:
    spec:
      initContainers:
      - name: init
        resources: {requests: {cpu: "1", memory: 256Mi}}
      containers:
      - name: app
        resources: {requests: {cpu: 250m, memory: 512Mi}, limits: {memory: 1Gi}}
      - name: proxy
        resources: {requests: {cpu: 50m, memory: 64Mi}}
` + hpa + `---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db-NUM, namespace: team-NUM, labels: {gitvend.dev/owner: team-NUM}}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: pg
        resources: {requests: {cpu: "1", memory: 2Gi}}
  volumeClaimTemplates:
  - spec: {resources: {requests: {storage: 20Gi}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: job-NUM, namespace: team-NUM, labels: {gitvend.dev/owner: team-NUM}}
spec:
  schedule: "15 3 * * 1-5"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: r
            resources: {requests: {cpu: 500m, memory: 1Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: lb-NUM, namespace: team-NUM, labels: {gitvend.dev/owner: team-NUM}}
spec: {type: LoadBalancer}
`
	return strings.ReplaceAll(s, "NUM", strconv.Itoa(i))
}

// TestRunSumsAsMap: sums kept by runs are the float64s that adding each
// amount into the map gives, bit for bit, whatever the order of keys.
func TestRunSumsAsMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 14))
	for round := range 200 {
		want, got := map[string]float64{}, map[string]float64{}
		r := runSums{m: got}
		for range rng.IntN(300) {
			key := fmt.Sprintf("k%d", rng.IntN(1+round%7))
			amount := rng.Float64() * math.Pow(10, float64(rng.IntN(12)-4))
			want[key] += amount
			r.add(key, amount)
		}
		r.flush()
		if !maps.Equal(got, want) {
			t.Fatalf("round %d: run sums %v, map sums %v", round, got, want)
		}
	}
}
