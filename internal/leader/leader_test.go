package leader_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/leader"
)

var kube kubetest.Shared

func TestMain(m *testing.M) { kube.Main(m) }

// Short durations keep the tests fast; the renew deadline leaves room for
// a busy machine.
const (
	leaseDuration = 4 * time.Second
	renewDeadline = 2 * time.Second
	retryPeriod   = 200 * time.Millisecond
)

func options(ns, identity string, reg prometheus.Registerer) leader.Options {
	return leader.Options{
		Namespace:     ns,
		Name:          "gitvend",
		Identity:      identity,
		LeaseDuration: leaseDuration,
		RenewDeadline: renewDeadline,
		RetryPeriod:   retryPeriod,
		Registerer:    reg,
	}
}

// replica is one Elector running in the background.
type replica struct {
	*leader.Elector
	cancel context.CancelFunc
	exited chan struct{} // closed when Run has returned
	err    error         // what Run returned
	leads  atomic.Int32  // terms of leadership started
}

// start runs e until the test ends or stop is called. Its work counts the
// replicas working at once in active and flags overlap when there are two.
func start(t *testing.T, e *leader.Elector, active *atomic.Int32, overlap *atomic.Bool) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	r := &replica{Elector: e, cancel: cancel, exited: make(chan struct{})}
	go func() {
		defer close(r.exited)
		r.err = e.Run(ctx, func(ctx context.Context) {
			r.leads.Add(1)
			if active.Add(1) > 1 {
				overlap.Store(true)
			}
			<-ctx.Done()
			active.Add(-1)
		})
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the replica and waits for Run to return.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("Run of %s did not return 10s after its context was cancelled", r.Identity())
	}
	if r.err != nil {
		t.Errorf("Run of %s: %v", r.Identity(), r.err)
	}
}

// sample reads IsLeader of every replica every millisecond until the test
// ends and flags any moment with two leaders.
func sample(t *testing.T, both *atomic.Bool, replicas ...*replica) {
	ctx := t.Context()
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n := 0
			for _, r := range replicas {
				if r.IsLeader() {
					n++
				}
			}
			if n > 1 {
				both.Store(true)
			}
		}
	}()
}

// waitFor polls cond until it holds or timeout passes, and returns how
// long that took.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	begin := time.Now()
	for !cond() {
		if time.Since(begin) > timeout {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(begin)
}

func leaders(replicas ...*replica) []*replica {
	var out []*replica
	for _, r := range replicas {
		if r.IsLeader() {
			out = append(out, r)
		}
	}
	return out
}

func lease(t *testing.T, cfg *rest.Config, ns string) *coordinationv1.Lease {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := cs.CoordinationV1().Leases(ns).Get(t.Context(), "gitvend", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Lease: %v", err)
	}
	return l
}

func TestOneLeaderAndFastHandOver(t *testing.T) {
	env := kube.Env(t)
	cfg := env.Config()
	ns := env.Namespace(t)
	reg := prometheus.NewRegistry()
	var active atomic.Int32
	var overlap, both atomic.Bool

	var replicas []*replica
	for _, id := range []string{"a", "b"} {
		e, err := leader.New(cfg, options(ns, id, reg))
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, start(t, e, &active, &overlap))
	}
	sample(t, &both, replicas...)

	waitFor(t, 10*time.Second, "one replica leads", func() bool { return len(leaders(replicas...)) == 1 })
	first := leaders(replicas...)
	// The other keeps waiting while the leader renews the Lease.
	renewed := lease(t, cfg, ns).Spec.RenewTime.Time
	for range 2 {
		waitFor(t, renewDeadline, "the leader renews the Lease", func() bool {
			next := lease(t, cfg, ns).Spec.RenewTime.Time
			if next.After(renewed) {
				renewed = next
				return true
			}
			return false
		})
	}
	if got := leaders(replicas...); len(got) != 1 || got[0] != first[0] {
		t.Fatal("leadership changed while the leader renewed the Lease")
	}
	old := first[0]
	next := replicas[0]
	if next == old {
		next = replicas[1]
	}
	if got := lease(t, cfg, ns).Spec.HolderIdentity; got == nil || *got != old.Identity() {
		t.Errorf("Lease holder = %v, want %s", got, old.Identity())
	}
	if got := gauge(t, reg, old.Identity()); got != 1 {
		t.Errorf("gitvend_leader{identity=%q} = %v, want 1", old.Identity(), got)
	}

	old.stop(t)
	if old.IsLeader() {
		t.Errorf("%s still leads after Run returned", old.Identity())
	}
	took := waitFor(t, 5*time.Second, "the other replica takes over", next.IsLeader)
	t.Logf("hand-over took %s (lease duration %s)", took, leaseDuration)
	if took >= leaseDuration {
		t.Errorf("hand-over took %s, want less than the lease duration %s: the Lease was not given back", took, leaseDuration)
	}
	if got := lease(t, cfg, ns).Spec.HolderIdentity; got == nil || *got != next.Identity() {
		t.Errorf("Lease holder = %v, want %s", got, next.Identity())
	}
	for _, r := range replicas {
		want := 0.0
		if r == next {
			want = 1
		}
		if got := gauge(t, reg, r.Identity()); got != want {
			t.Errorf("gitvend_leader{identity=%q} = %v, want %v", r.Identity(), got, want)
		}
	}

	next.stop(t)
	if got := lease(t, cfg, ns).Spec.HolderIdentity; got != nil && *got != "" {
		t.Errorf("Lease holder after both stopped = %q, want none", *got)
	}
	if overlap.Load() {
		t.Error("two replicas ran the leader's work at the same time")
	}
	if both.Load() {
		t.Error("IsLeader was true for both replicas at the same time")
	}
	if n := old.leads.Load() + next.leads.Load(); n != 2 {
		t.Errorf("%d terms of leadership, want 2", n)
	}
}

// gauge returns the value of gitvend_leader{identity} in reg.
func gauge(t *testing.T, reg *prometheus.Registry, identity string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gitvend_leader" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "identity" && l.GetValue() == identity {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no gitvend_leader{identity=%q}", identity)
	return 0
}

// TestLostLeadershipCancelsWork takes the Lease away from the leader, as
// a replica would after the leader failed to renew, and expects the
// leader's work to be cancelled within the renew deadline.
func TestLostLeadershipCancelsWork(t *testing.T) {
	env := kube.Env(t)
	cfg := env.Config()
	ns := env.Namespace(t)
	var active atomic.Int32
	var overlap atomic.Bool
	e, err := leader.New(cfg, options(ns, "a", nil))
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, e, &active, &overlap)
	waitFor(t, 10*time.Second, "the replica leads", r.IsLeader)

	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The leader renews the Lease meanwhile: read it again on a conflict.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		l := lease(t, cfg, ns)
		l.Spec.HolderIdentity = ptr.To("intruder")
		l.Spec.LeaseDurationSeconds = ptr.To[int32](3600)
		l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
		_, err := cs.CoordinationV1().Leases(ns).Update(t.Context(), l, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("take the Lease: %v", err)
	}
	took := waitFor(t, renewDeadline+5*time.Second, "the work is cancelled", func() bool { return active.Load() == 0 && !r.IsLeader() })
	t.Logf("work cancelled %s after the Lease was taken", took)
	// The replica keeps competing and must not take a valid Lease.
	time.Sleep(10 * retryPeriod)
	if r.IsLeader() {
		t.Error("the replica leads again while another holds a valid Lease")
	}
	if got := *lease(t, cfg, ns).Spec.HolderIdentity; got != "intruder" {
		t.Errorf("Lease holder = %q, want intruder: a Lease held by another was given back", got)
	}
	r.stop(t)
	if got := r.leads.Load(); got != 1 {
		t.Errorf("%d terms of leadership, want 1", got)
	}
}

// TestWorkReturningEndsRun: when the leader's work returns by itself, Run
// gives the Lease back and returns.
func TestWorkReturningEndsRun(t *testing.T) {
	env := kube.Env(t)
	cfg := env.Config()
	ns := env.Namespace(t)
	e, err := leader.New(cfg, options(ns, "a", nil))
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- e.Run(t.Context(), func(context.Context) { ran.Store(e.IsLeader()) })
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the work returned")
	}
	if !ran.Load() {
		t.Error("IsLeader was false while the work ran")
	}
	if e.IsLeader() {
		t.Error("IsLeader is true after Run returned")
	}
	if got := lease(t, cfg, ns).Spec.HolderIdentity; got != nil && *got != "" {
		t.Errorf("Lease holder = %q, want none", *got)
	}
}

func TestMissingNamespace(t *testing.T) {
	env := kube.Env(t)
	e, err := leader.New(env.Config(), options("no-such-namespace", "a", nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = e.Run(ctx, func(context.Context) { t.Error("led without a Lease") })
	if err == nil || !strings.Contains(err.Error(), "namespace no-such-namespace does not exist") {
		t.Fatalf("Run error = %v, want one saying the namespace does not exist", err)
	}
	if ctx.Err() != nil {
		t.Error("Run returned only when its context ended")
	}
}

func TestOptions(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	ok := leader.Options{Namespace: "gitvend-system", Name: "gitvend", Identity: "a"}
	tests := []struct {
		name    string
		change  func(*leader.Options)
		wantErr string
	}{
		{"defaults", func(*leader.Options) {}, ""},
		{"namespace", func(o *leader.Options) { o.Namespace = "Gitvend" }, `namespace "Gitvend"`},
		{"empty namespace", func(o *leader.Options) { o.Namespace = "" }, `namespace ""`},
		{"name", func(o *leader.Options) { o.Name = "a/b" }, `name "a/b"`},
		{"negative", func(o *leader.Options) { o.RetryPeriod = -time.Second }, "retryPeriod: must be positive"},
		{"subsecond lease", func(o *leader.Options) {
			o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 500*time.Millisecond, 200*time.Millisecond, 10*time.Millisecond
		}, "leaseDuration: must be at least 1s"},
		{"renew deadline", func(o *leader.Options) { o.RenewDeadline = 20 * time.Second }, "renewDeadline: must be shorter than leaseDuration 15s"},
		{"retry period", func(o *leader.Options) { o.RetryPeriod = 9 * time.Second }, "retryPeriod: must be shorter than renewDeadline 10s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.change(&o)
			_, err := leader.New(cfg, o)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tt.wantErr == "" && err != nil || !strings.Contains(got, tt.wantErr) {
				t.Errorf("New error = %q, want %q", got, tt.wantErr)
			}
		})
	}
	if _, err := leader.New(nil, ok); err == nil {
		t.Error("New accepted a nil configuration")
	}
}

// TestIdentityDefault: the default identity is the host name and the
// process id, so that two processes never share it and a process restarted
// in its pod (same name, same pid) takes its predecessor's Leases back at
// once. Electors of one process share it: they name the process.
func TestIdentityDefault(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	o := leader.Options{Namespace: "gitvend-system", Name: "gitvend"}
	a, err := leader.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if want := fmt.Sprintf("%s_%d", host, os.Getpid()); a.Identity() != want {
		t.Errorf("Identity = %q, want %q", a.Identity(), want)
	}
	o.Identity = "replica-b"
	b, err := leader.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if b.Identity() != "replica-b" {
		t.Errorf("Identity = %q, want the configured replica-b", b.Identity())
	}
}
