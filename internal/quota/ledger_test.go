package quota

import (
	"fmt"
	"testing"

	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/delta"
	"github.com/google/go-cmp/cmp"
)

// reviseCases are a base of items and heads that differ from it in every
// way a revision handles.
func reviseCases(t *testing.T) ([]Item, map[string][]Item) {
	t.Helper()
	problems := docs(
		"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: team-a}\nspec:\n  replicas: 2\n  template: {spec: {containers: [{name: db, resources: {requests: {cpu: 1x}}}]}}\n  volumeClaimTemplates: [{spec: {resources: {requests: {storage: lots}}}}]",
		"apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: team-a}\nspec: {parallelism: -1, template: {spec: {containers: [{name: a, resources: {limits: {memory: many}}}]}}}",
	)
	base := decodeItems(t, "dev", docs(scaledDeployment, scaler5, problems, judgeQuotas))
	base = append(base, decodeItems(t, "prod", docs(scaledDeployment, scaler5, scaler9))...)
	base = append(base, decodeItems(t, "dev", docs(
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team-b}\nspec: {containers: [{name: a, resources: {requests: {cpu: 250m}}}]}",
		"apiVersion: v1\nkind: Service\nmetadata: {name: lb, namespace: team-b}\nspec: {type: LoadBalancer, ports: [{port: 80}]}",
		"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: team-b}\nspec: {resources: {requests: {storage: 1Gi}}}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: team-b}",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: team-b}",
	))...)
	find := func(env, kind, name string) int {
		for i, it := range base {
			if it.Environment == env && it.Object.Kind == kind && it.Object.Name == name {
				return i
			}
		}
		t.Fatalf("no %s %s in %s", kind, name, env)
		return -1
	}
	edited := func(i int, doc string) []Item {
		out := append([]Item(nil), base...)
		out[i] = decodeItems(t, base[i].Environment, doc)[0]
		return out
	}
	without := func(drop ...int) []Item {
		var out []Item
		for i, it := range base {
			keep := true
			for _, d := range drop {
				keep = keep && i != d
			}
			if keep {
				out = append(out, it)
			}
		}
		return out
	}
	plus := func(env, doc string) []Item { return append(append([]Item(nil), base...), decodeItems(t, env, doc)...) }
	web := find("dev", "Deployment", "web")
	hpa := find("dev", "HorizontalPodAutoscaler", "web")
	prodHPA := find("prod", "HorizontalPodAutoscaler", "web-more")
	quota := find("dev", "ResourceQuota", "q")
	db := find("dev", "StatefulSet", "db")
	heads := map[string][]Item{
		"unchanged": base,
		"reordered": append(append([]Item(nil), base[len(base)/2:]...), base[:len(base)/2]...),
		"workload changes": edited(web, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team-a}
spec: {replicas: 3, template: {spec: {containers: [{name: web, resources: {requests: {cpu: 200m}}}]}}}
`),
		"HPA changes": edited(hpa, `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: team-a}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, maxReplicas: 7}
`),
		"HPA goes":                     without(hpa),
		"the stronger HPA goes":        without(prodHPA),
		"HPA comes":                    plus("dev", scaler9),
		"quota goes":                   without(quota),
		"object with problems changes": edited(db, "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: team-a}\nspec: {replicas: x}\n"),
		"new place":                    plus("staging", scaledDeployment),
		"a place empties":              without(find("prod", "Deployment", "web"), prodHPA, find("prod", "HorizontalPodAutoscaler", "web")),
		"object without content":       append(append([]Item(nil), base...), Item{Environment: "dev"}),
		"a key twice":                  append(append([]Item(nil), base...), base[web]),
		"empty":                        nil,
	}
	return base, heads
}

// TestReviseEqualsMeasure revises the usage of a base for heads that add,
// change and remove workloads, the HPAs that scale them, quotas and
// objects with problems, and wants each to be exactly what Measure finds
// of the head: same places, amounts, hard values and problems in order.
func TestReviseEqualsMeasure(t *testing.T) {
	base, heads := reviseCases(t)
	for name, head := range heads {
		t.Run(name, func(t *testing.T) {
			m := NewMemo(1000)
			l := m.Ledger(base)
			if !l.index.Unique() {
				t.Fatal("the base repeats an environment and ID: every head would be measured afresh")
			}
			sameUsage(t, Measure(base), l.Usage())
			for round := range 2 { // the second from the memo
				got := m.Revise(l, head, nil)
				sameUsage(t, Measure(head), got)
				if t.Failed() {
					t.Fatalf("round %d", round)
				}
			}
			sameUsage(t, Measure(base), l.Usage()) // the ledger is left as it was
		})
	}
}

// TestSharedHeadEqualsMeasure revises a cost ledger and a quota ledger
// that share one index from one match of each head, the head holding the
// base's own objects with hints to their places, as a check that kept
// them revises, in both orders: each revision must be Compute's and
// Measure's, whatever the other did with the shared match.
func TestSharedHeadEqualsMeasure(t *testing.T) {
	base, heads := reviseCases(t)
	for name, head := range heads {
		hint := make([]int, len(head))
		for i := range head {
			hint[i] = -1
			for j := range base { // the base's own objects, found by identity
				if base[j].Object != nil && base[j].Object == head[i].Object {
					hint[i] = j
				}
			}
		}
		for _, costFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/cost first %v", name, costFirst), func(t *testing.T) {
				cm, qm := cost.NewMemo(1000), NewMemo(1000)
				cl := cm.Ledger(base, nil)
				ql := qm.LedgerIndexed(base, cl.Index())
				sameUsage(t, Measure(base), ql.Usage())
				h := delta.NewHead(len(head), cost.ItemObjects(head), hint)
				var est cost.Estimate
				var use Usage
				if costFirst {
					est, _ = cm.Revise(cl, head, nil, h)
					use = qm.Revise(ql, head, h)
				} else {
					use = qm.Revise(ql, head, h)
					est, _ = cm.Revise(cl, head, nil, h)
				}
				sameUsage(t, Measure(head), use)
				if diff := cmp.Diff(cost.Compute(head, nil), est); diff != "" {
					t.Errorf("revised estimate differs from Compute's (-want +got):\n%s", diff)
				}
			})
		}
	}
}
