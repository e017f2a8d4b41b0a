package reconcile

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fluxcd/pkg/ssa/utils"
	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/manifest"
)

var kube kubetest.Shared

func TestMain(m *testing.M) {
	// controller-runtime, under envtest and ssa, logs through a global
	// logger that complains when it is never set.
	ctrllog.SetLogger(logr.Discard())
	kube.Main(m)
}

// writeCounter counts the requests that change the cluster: every method
// but GET, HEAD and OPTIONS, dry-runs excepted; dryRuns counts the
// dry-runs. hook, when set, runs before each counted request with the
// count so far.
type writeCounter struct {
	n       atomic.Int64
	dryRuns atomic.Int64
	mu      sync.Mutex
	hook    func(n int64)
}

func (w *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		switch req.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if req.URL.Query().Get("dryRun") != "" {
				w.dryRuns.Add(1)
			} else {
				n := w.n.Add(1)
				w.mu.Lock()
				hook := w.hook
				w.mu.Unlock()
				if hook != nil {
					hook(n)
				}
			}
		}
		return rt.RoundTrip(req)
	})
}

func (w *writeCounter) setHook(h func(n int64)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hook = h
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// fixture is one test's slice of the shared control plane: a namespace of
// its own and a target allowed to use it.
type fixture struct {
	env    *kubetest.Env
	ns     string
	target cluster.Target
	writes *writeCounter
	client client.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := kube.Env(t)
	return newFixtureOn(t, env)
}

func newFixtureOn(t testing.TB, env *kubetest.Env) *fixture {
	t.Helper()
	ns := env.Namespace(t)
	c, err := client.New(env.Config(), client.Options{})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return &fixture{
		env: env,
		ns:  ns,
		// The prune guard's share is off (100%): these tests prune most
		// of small targets; TestPruneGuard tests the guard.
		target: cluster.Target{Name: ns, Environments: []string{"dev"}, Namespaces: []string{ns}, Prune: true,
			DriftInterval: cluster.DefaultDriftInterval, InventoryNamespace: cluster.DefaultInventoryNamespace, MaxPrunePercent: 100},
		writes: &writeCounter{},
		client: c,
	}
}

// reconciler returns a Reconciler for the fixture's target whose requests
// are counted.
func (f *fixture) reconciler(t testing.TB) *Reconciler {
	t.Helper()
	cfg := f.env.Config()
	cfg.Wrap(f.writes.wrap)
	r, err := New(cfg, f.target, Options{PollInterval: 100 * time.Millisecond, Debounce: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// kubectl runs kubectl against the fixture's control plane.
func (f *fixture) kubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := f.env.Kubectl(t.Context(), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// get reads a live object; ok is false when it does not exist.
func (f *fixture) get(t testing.TB, apiVersion, kind, ns, name string) (*unstructured.Unstructured, bool) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	err := f.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, u)
	if err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, false
		}
		t.Fatalf("get %s %s/%s: %v", kind, ns, name, err)
	}
	return u, true
}

// objects parses YAML documents, with %[1]s standing for the namespace.
func objects(t testing.TB, ns, yamlText string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := utils.ReadObjects(strings.NewReader(fmt.Sprintf(yamlText, ns)))
	if err != nil {
		t.Fatalf("parse objects: %v", err)
	}
	return objs
}

// stub returns an object with only the identity of id, for calls that
// need an object to name what they act on.
func stub(id manifest.ID) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(id.APIVersion)
	u.SetKind(id.Kind)
	u.SetNamespace(id.Namespace)
	u.SetName(id.Name)
	return u
}

// actions maps each object of a result to its action.
func actions(res *Result) map[string]Action {
	out := map[string]Action{}
	if res == nil {
		return out
	}
	for _, o := range res.Objects {
		out[o.ID.String()] = o.Action
	}
	return out
}

// checkActions fails the test unless res holds exactly the actions want.
func checkActions(t testing.TB, res *Result, want map[string]Action) {
	t.Helper()
	if diff := cmp.Diff(want, actions(res)); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
}

// inventoryOf reads the target's inventory from the cluster.
func inventoryOf(t testing.TB, r *Reconciler) *inventory {
	t.Helper()
	inv, err := r.readInventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// failures lists the messages of objects that failed or were refused.
func failures(res *Result) []string {
	var out []string
	for _, o := range res.Objects {
		if o.Action == Failed || o.Action == Refused {
			out = append(out, o.ID.String()+": "+o.Message)
		}
	}
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustApply(t testing.TB, r *Reconciler, objs []*unstructured.Unstructured, rev string) *Result {
	t.Helper()
	res, err := r.Apply(context.WithoutCancel(t.Context()), objs, rev)
	if err != nil {
		t.Fatalf("Apply: %v\nfailures: %v", err, failures(res))
	}
	return res
}

const basicObjects = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: %[1]s
data:
  mode: fast
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: %[1]s
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %[1]s
  labels:
    app.kubernetes.io/managed-by: gitvend
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/web:1.0.0
`
