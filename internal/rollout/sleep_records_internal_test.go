package rollout

import (
	"context"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/kubetest"
)

// countingClient counts the objects read one by one.
type countingClient struct {
	client.Client
	gets atomic.Int32
}

func (c *countingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.gets.Add(1)
	return c.Client.Get(ctx, key, obj, opts...)
}

// TestSleepReadsOnlyWhatMayHoldARecord: the first reconcile of a target
// reads every object that may sleep; later ones read only what should
// sleep and what carries a record, so a target where nothing sleeps costs
// no reads however many workloads it holds. A record written by another
// process is found again once the sleeper forgets, as at the start of a
// leadership or an ownership.
func TestSleepReadsOnlyWhatMayHoldARecord(t *testing.T) {
	env := kubetest.ForTest(t)
	ctx := context.Background()
	c, err := client.New(env.Config(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	deployment := func(name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": name, "namespace": "team-a"},
			"spec": map[string]any{"replicas": int64(2),
				"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
				"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": name}},
					"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": "example/app:1"}}}}},
		}}
		return u
	}
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "team-a"}}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	names := []string{"web", "api", "worker"}
	var objs []*unstructured.Unstructured
	for _, n := range names {
		o := deployment(n)
		if n == "web" { // asleep before this process started
			_ = unstructured.SetNestedField(o.Object, int64(0), "spec", "replicas")
			o.SetAnnotations(map[string]string{SleepAnnotation: `{"replicas":2}`})
		}
		if err := c.Create(ctx, o.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, deployment(n))
	}
	plan := func(asleep ...string) sleepPlan {
		var p sleepPlan
		for _, o := range objs {
			sleep := false
			for _, a := range asleep {
				sleep = sleep || a == o.GetName()
			}
			p.items = append(p.items, sleepItem{obj: o, kind: replicasKind, sleep: sleep})
		}
		return p
	}
	state := func(name string) string {
		live := deployment(name)
		if err := c.Get(ctx, client.ObjectKeyFromObject(live), live); err != nil {
			t.Fatal(err)
		}
		r, _, _ := unstructured.NestedInt64(live.Object, "spec", "replicas")
		if _, ok := live.GetAnnotations()[SleepAnnotation]; ok {
			return "asleep"
		} else if r == 0 {
			return "at zero without a record"
		}
		return "awake"
	}
	counting := &countingClient{Client: c}
	s := &sleeper{c: counting}
	enact := func(step string, wantGets int32, p sleepPlan) {
		t.Helper()
		counting.gets.Store(0)
		if _, _, _, err := s.enact(ctx, p, objs); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got := counting.gets.Load(); got != wantGets {
			t.Errorf("%s: %d objects read, want %d", step, got, wantGets)
		}
	}

	enact("first reconcile", 3, plan())
	if got := state("web"); got != "awake" {
		t.Errorf("web, asleep before the start: %s after the first reconcile", got)
	}
	enact("nothing sleeps", 0, plan())
	enact("api sleeps", 1, plan("api"))
	if got := state("api"); got != "asleep" {
		t.Errorf("api: %s", got)
	}
	enact("api sleeps on", 1, plan("api"))
	enact("api wakes", 1, plan())
	if got := state("api"); got != "awake" {
		t.Errorf("api after waking: %s", got)
	}
	enact("nothing sleeps again", 0, plan())

	// Another process (the target's previous owner) puts worker to sleep.
	live := deployment("worker")
	if err := c.Get(ctx, client.ObjectKeyFromObject(live), live); err != nil {
		t.Fatal(err)
	}
	live.SetAnnotations(map[string]string{SleepAnnotation: `{"replicas":2}`})
	_ = unstructured.SetNestedField(live.Object, int64(0), "spec", "replicas")
	if err := c.Update(ctx, live); err != nil {
		t.Fatal(err)
	}
	s.forget()
	enact("after forgetting", 3, plan())
	if got := state("worker"); got != "awake" {
		t.Errorf("worker, put to sleep elsewhere: %s after the sleeper forgot", got)
	}
}
