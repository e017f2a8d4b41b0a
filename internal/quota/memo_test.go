package quota

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"gopkg.in/inf.v0"

	"github.com/gitvend/gitvend/internal/manifest"
)

// decodeItems decodes docs (YAML documents) as objects of env.
func decodeItems(t testing.TB, env, docs string) []Item {
	t.Helper()
	objs, err := manifest.Decode("test.yaml", []byte(docs))
	if err != nil {
		t.Fatal(err)
	}
	items := make([]Item, len(objs))
	for i := range objs {
		items[i] = Item{Object: &objs[i], Environment: env}
	}
	return items
}

// problemDocs are objects of team-a whose claims, counts and hard values
// cannot all be read.
const problemDocs = `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: team-a}
spec:
  replicas: 2
  template: {spec: {containers: [{name: db, resources: {requests: {cpu: 1x}}}]}}
  volumeClaimTemplates:
  - {spec: {resources: {requests: {storage: 5Gi}}}}
  - {spec: {resources: {requests: {storage: lots}}}}
  - "not a claim"
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: team-a}
spec: {resources: {requests: {storage: [1Gi]}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: team-a}
spec:
  parallelism: 1.5
  completions: -1
  template: {spec: {containers: [{name: j, resources: {limits: {cpu: 100m, memory: 1e999}}}]}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc, namespace: team-a}
spec:
  replicas: "three"
  template: {spec: {overhead: [cpu], containers: [{name: a, resources: {requests: {cpu: 100m}}}]}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: team-a}
spec: {hard: {requests.cpu: 2, requests.memory: lots, pods: "10"}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: team-b}
spec: {hard: 7}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: team-b}
spec: {hard: {count/configmaps: "3"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: team-b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cluster-wide}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: team-c}
`

// scaledDeployment is a Deployment of team-a, and scaler5 and scaler9
// HPAs that scale it.
const (
	scaledDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team-a}
spec:
  replicas: 2
  template: {spec: {containers: [{name: web, resources: {requests: {cpu: 100m}, limits: {memory: 64Mi}}}]}}
`
	scaler5 = `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: team-a}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, maxReplicas: 5}
`
	scaler9 = `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web-more, namespace: team-a}
spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 9}
`
)

// docs joins YAML documents.
func docs(d ...string) string { return strings.Join(d, "\n---\n") }

// memoCases are the item sets a Memo must measure as Measure does: the
// fixtures of the Measure and Judge tests, objects with problems, HPAs,
// quotas, several environments, and objects without a place.
func memoCases(t testing.TB) map[string][]Item {
	cases := map[string][]Item{}
	for _, tc := range measureCases {
		cases[tc.name] = decodeItems(t, "dev", tc.docs)
	}
	cases["hostile"] = decodeItems(t, "dev", hostileDocs)
	cases["judge base"] = decodeItems(t, "dev", judgePod("1")+judgeQuotas)
	cases["judge head"] = decodeItems(t, "dev", judgePod("1")+judgePod("700m")+judgeQuotas)
	cases["problems"] = decodeItems(t, "dev", problemDocs)
	cases["unscaled"] = decodeItems(t, "dev", scaledDeployment)
	cases["scaled"] = decodeItems(t, "dev", docs(scaledDeployment, scaler5))
	cases["scaled twice"] = decodeItems(t, "dev", docs(scaledDeployment, scaler5, scaler9))
	cases["scaled in prod only"] = append(decodeItems(t, "dev", scaledDeployment), decodeItems(t, "prod", docs(scaledDeployment, scaler5))...)
	var all []Item
	for _, env := range []string{"dev", "prod"} {
		for _, tc := range measureCases {
			all = append(all, decodeItems(t, env, tc.docs)...)
		}
		all = append(all, decodeItems(t, env, problemDocs)...)
	}
	cases["everything in two environments"] = append(all, Item{Environment: "dev"})
	cases["none"] = nil
	return cases
}

// sameContent returns objects that share one content, and so one digest,
// but not their identity: the memo must tell them apart.
func sameContent() []Item {
	content := map[string]any{
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "a", "resources": map[string]any{"requests": map[string]any{"cpu": "bad", "memory": "1Gi"}}},
		}}}},
	}
	obj := func(apiVersion, ns, name string) Item {
		o := &manifest.Object{ID: manifest.ID{APIVersion: apiVersion, Kind: "Deployment", Namespace: ns, Name: name}, Content: content}
		return Item{Object: o, Environment: "dev"}
	}
	return []Item{
		obj("apps/v1", "team-a", "one"), obj("apps/v1", "team-a", "two"),
		obj("apps/v1", "team-b", "one"), obj("example.com/v1", "team-a", "one"),
	}
}

// sameUsage reports where got differs from want: places, amounts (value
// and scale), hard values and problems (in order).
func sameUsage(t *testing.T, want, got Usage) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("places: got %v, want %v", places(got), places(want))
	}
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%v: missing", p)
			continue
		}
		sameAmounts(t, fmt.Sprint(p), w.Amounts, g.Amounts)
		if len(w.Hard) != len(g.Hard) {
			t.Errorf("%v: %d quotas, want %d", p, len(g.Hard), len(w.Hard))
		}
		for name, h := range w.Hard {
			gh, ok := g.Hard[name]
			if !ok || gh == nil {
				t.Errorf("%v: quota %s missing", p, name)
				continue
			}
			sameAmounts(t, fmt.Sprintf("%v quota %s", p, name), h, gh)
		}
		if !reflect.DeepEqual(w.Problems, g.Problems) {
			t.Errorf("%v: problems %q, want %q", p, g.Problems, w.Problems)
		}
	}
}

// sameAmounts reports where got differs from want, in what.
func sameAmounts(t *testing.T, what string, want, got map[string]*inf.Dec) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%s: %d amounts %v, want %d %v", what, len(got), got, len(want), want)
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok || g.Cmp(w) != 0 || g.Scale() != w.Scale() {
			t.Errorf("%s: %s = %v, want %v", what, name, g, w)
		}
	}
}

// places lists the places of u in order.
func places(u Usage) []Place {
	out := make([]Place, 0, len(u))
	for p := range u {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

// spoil changes every amount, hard value and problem of u in place, as a
// careless caller might.
func spoil(u Usage) {
	for _, use := range u {
		for _, d := range use.Amounts {
			d.Add(d, inf.NewDec(1000, 0))
		}
		for _, h := range use.Hard {
			for _, d := range h {
				d.Add(d, inf.NewDec(1000, 0))
			}
		}
		for i := range use.Problems {
			use.Problems[i] = "spoiled"
		}
	}
}

// TestMemoMeasureEqualsMeasure: a Memo, new or warm, shared between item
// sets or too small to hold them, measures every item set as Measure
// does; a result changed by its caller changes nothing remembered; an
// HPA that comes or goes is not taken for the unscaled workload; objects
// of one content and different identities are told apart.
func TestMemoMeasureEqualsMeasure(t *testing.T) {
	cases := memoCases(t)
	cases["same content"] = sameContent()
	if u := Measure(cases["problems"]); len(u) != 3 || len(u[Place{"dev", "team-a"}].Problems) < 8 {
		t.Fatalf("the problems fixture measures as %v: want 3 places and 8 problems in team-a", u)
	}
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	shared, tiny := NewMemo(10000), NewMemo(2)
	for _, name := range names {
		items := cases[name]
		t.Run(name, func(t *testing.T) {
			own := NewMemo(10000)
			for round := range 3 {
				for _, m := range []*Memo{own, shared, tiny, nil} {
					got := m.Measure(items)
					sameUsage(t, Measure(items), got)
					if round == 0 {
						spoil(got)
					}
				}
			}
			if n := remembered(own, items); n != placed(items) {
				t.Errorf("memo holds %d of %d objects with a place", n, placed(items))
			}
		})
	}
	t.Run("hpa comes and goes", func(t *testing.T) {
		// One Deployment object, its digest unchanged, with and without
		// the HPAs that scale it.
		web := decodeItems(t, "dev", scaledDeployment)
		hpa5, hpa9 := decodeItems(t, "dev", scaler5), decodeItems(t, "dev", scaler9)
		m := NewMemo(100)
		with := func(hpas ...[]Item) []Item { return slices.Concat(append([][]Item{web}, hpas...)...) }
		for _, items := range [][]Item{web, with(hpa5), with(hpa5, hpa9), web, with(hpa9), with(hpa5)} {
			sameUsage(t, Measure(items), m.Measure(items))
		}
		if got := m.Measure(with(hpa5)).Amount(Place{"dev", "team-a"}, "pods"); got.Cmp(inf.NewDec(5, 0)) != 0 {
			t.Errorf("pods with an HPA of 5 = %v, want 5", got)
		}
	})
}

// placed counts the items with a place.
func placed(items []Item) int {
	n := 0
	for _, it := range items {
		if _, ok := placeOf(it); ok {
			n++
		}
	}
	return n
}

// remembered counts the items with a place m holds a contribution for.
func remembered(m *Memo, items []Item) int {
	n := 0
	for _, c := range m.recall(items, scalers(items)) {
		if c != nil {
			n++
		}
	}
	return n
}

// TestMemoConcurrent: goroutines sharing a Memo each get Measure's
// result.
func TestMemoConcurrent(t *testing.T) {
	cases := memoCases(t)
	want := map[string]Usage{}
	for name, items := range cases {
		want[name] = Measure(items)
	}
	// Digest keeps what it computes in the object: take the digests
	// first, as one goroutine reading the objects would.
	for _, items := range cases {
		for _, it := range items {
			if it.Object != nil {
				it.Object.Digest()
			}
		}
	}
	m := NewMemo(50)
	var wg sync.WaitGroup
	results := make([]map[string]Usage, 8)
	for g := range results {
		wg.Go(func() {
			got := map[string]Usage{}
			for range 5 {
				for name, items := range cases {
					got[name] = m.Measure(items)
				}
			}
			results[g] = got
		})
	}
	wg.Wait()
	for _, got := range results {
		for name := range cases {
			sameUsage(t, want[name], got[name])
		}
	}
}

// benchItems is a repository of about 30,000 objects in three namespaces:
// Deployments of two containers with requests and limits, Services,
// ConfigMaps and a ResourceQuota in each namespace.
func benchItems(n int) []Item {
	var items []Item
	add := func(apiVersion, kind, ns, name string, content map[string]any) {
		content["apiVersion"], content["kind"] = apiVersion, kind
		content["metadata"] = map[string]any{"name": name, "namespace": ns}
		o := &manifest.Object{ID: manifest.ID{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name}, Content: content}
		items = append(items, Item{Object: o, Environment: "prod"})
	}
	container := func(name, cpu, memory string) map[string]any {
		return map[string]any{"name": name, "resources": map[string]any{
			"requests": map[string]any{"cpu": cpu, "memory": memory},
			"limits":   map[string]any{"cpu": "1", "memory": "1Gi"},
		}}
	}
	for i := range n {
		ns := fmt.Sprintf("team-%d", i%3)
		name := fmt.Sprintf("app-%d", i)
		add("apps/v1", "Deployment", ns, name, map[string]any{"spec": map[string]any{
			"replicas": int64(1 + i%4),
			"template": map[string]any{"spec": map[string]any{"containers": []any{
				container("app", "250m", "256Mi"), container("proxy", "50m", "64Mi"),
			}}},
		}})
		add("v1", "Service", ns, name, map[string]any{"spec": map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}})
		add("v1", "ConfigMap", ns, name, map[string]any{"data": map[string]any{"key": name}})
	}
	for i := range 3 {
		add("v1", "ResourceQuota", fmt.Sprintf("team-%d", i), "quota", map[string]any{"spec": map[string]any{"hard": map[string]any{
			"requests.cpu": "5000", "requests.memory": "10Ti", "count/deployments.apps": "5000",
		}}})
	}
	for _, it := range items {
		it.Object.Digest()
	}
	return items
}

// BenchmarkMemoMeasure measures a repository of 30,000 objects with
// Measure and with a warm Memo.
func BenchmarkMemoMeasure(b *testing.B) {
	items := benchItems(10000)
	b.Run("Measure", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Measure(items)
		}
	})
	b.Run("Memo", func(b *testing.B) {
		m := NewMemo(2 * len(items))
		m.Measure(items)
		b.ReportAllocs()
		for b.Loop() {
			m.Measure(items)
		}
	})
}
