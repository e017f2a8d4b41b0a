package leader_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/gitvend/gitvend/internal/leader"
)

const (
	shardLease   = 2 * time.Second
	shardRenew   = time.Second
	shardRetry   = 100 * time.Millisecond
	shardTargets = 9
)

// member is one replica's Shards running in the background.
type member struct {
	*leader.Shards
	cancel context.CancelFunc
	exited chan struct{}
}

// working counts, per key, the members whose work for it runs now.
type working struct {
	mu      sync.Mutex
	active  map[string]int
	overlap []string
}

func (w *working) run(ctx context.Context, key string) {
	w.mu.Lock()
	if w.active[key]++; w.active[key] > 1 {
		w.overlap = append(w.overlap, key)
	}
	w.mu.Unlock()
	<-ctx.Done()
	w.mu.Lock()
	w.active[key]--
	w.mu.Unlock()
}

func startMember(t *testing.T, cfg *rest.Config, ns, identity string, keys []string, w *working, crash bool) *member {
	t.Helper()
	s, err := leader.NewShards(cfg, leader.ShardOptions{Namespace: ns, Prefix: "gitvend", Kind: "target",
		Identity: identity, LeaseDuration: shardLease, RenewDeadline: shardRenew, RetryPeriod: shardRetry})
	if err != nil {
		t.Fatal(err)
	}
	if crash {
		s.CrashOnStop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{Shards: s, cancel: cancel, exited: make(chan struct{})}
	go func() {
		defer close(m.exited)
		if err := s.Run(ctx, keys, w.run); err != nil {
			t.Errorf("%s: Run: %v", identity, err)
		}
	}()
	t.Cleanup(m.stop)
	return m
}

func (m *member) stop() {
	m.cancel()
	<-m.exited
}

// noDouble fails when a key is held, by the members' own account or by
// the work running, by two members at once.
func noDouble(t *testing.T, w *working, members ...*member) {
	t.Helper()
	owner := map[string]string{}
	for _, m := range members {
		for _, k := range m.Held() {
			if o, ok := owner[k]; ok {
				t.Fatalf("%s held by %s and %s at once", k, o, m.Identity())
			}
			owner[k] = m.Identity()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.overlap) > 0 {
		t.Fatalf("work ran twice at once for %v", w.overlap)
	}
}

// settle waits until the members hold every key between them, each at
// most want, checking for doubles all along; it returns how long that
// took.
func settle(t *testing.T, timeout time.Duration, w *working, want int, members ...*member) time.Duration {
	t.Helper()
	begin := time.Now()
	for {
		noDouble(t, w, members...)
		total, fair := 0, true
		var counts []string
		for _, m := range members {
			n := len(m.Held())
			total += n
			fair = fair && n <= want && n > 0
			counts = append(counts, fmt.Sprintf("%s=%d", m.Identity(), n))
		}
		if total == shardTargets && fair {
			return time.Since(begin)
		}
		if time.Since(begin) > timeout {
			t.Fatalf("after %s: %v, want %d keys, at most %d each", timeout, counts, shardTargets, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sampleWhile checks for doubles until stop is closed.
func sampleWhile(t *testing.T, w *working, stop <-chan struct{}, members ...*member) {
	t.Helper()
	for {
		select {
		case <-stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
		noDouble(t, w, members...)
	}
}

// TestShardsSpreadTargetsOverReplicas: nine targets over one, two, then
// three replicas are split fairly (at most ceil(9/n) each) with no target
// held or worked on by two replicas at any time; a replica that dies
// (no renewal, no give-back) has its targets taken over by the other two
// once its Leases have gone unrenewed for their duration; a replica that
// stops gives its targets back for the last one to take at once.
func TestShardsSpreadTargetsOverReplicas(t *testing.T) {
	env := kube.Env(t)
	cfg, ns := env.Config(), env.Namespace(t)
	var keys []string
	for i := range shardTargets {
		keys = append(keys, fmt.Sprintf("cluster-%d", i))
	}
	w := &working{active: map[string]int{}}

	a := startMember(t, cfg, ns, "a", keys, w, false)
	settle(t, 10*time.Second, w, 9, a)
	b := startMember(t, cfg, ns, "b", keys, w, false)
	settle(t, 10*time.Second, w, 5, a, b)
	c := startMember(t, cfg, ns, "c", keys, w, true)
	settle(t, 10*time.Second, w, 3, a, b, c)
	for _, m := range []*member{a, b, c} {
		if n := len(m.Held()); n != 3 {
			t.Fatalf("%s holds %d, want 3", m.Identity(), n)
		}
		if n := m.Members(); n != 3 {
			t.Errorf("%s counts %d replicas, want 3", m.Identity(), n)
		}
	}
	fromC := c.Held()

	// c dies: its Leases stay as they were, held by c, unrenewed.
	c.stop()
	died := time.Now()
	took := settle(t, 4*shardLease, w, 5, a, b)
	t.Logf("the dead replica's targets %v taken over in %s", fromC, took)
	if took < shardLease {
		t.Errorf("taken over after %s, before the Leases' %s passed", took, shardLease)
	}
	if took > 2*shardLease {
		t.Errorf("taken over after %s, want within %s", took, 2*shardLease)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range fromC {
		l, err := cs.CoordinationV1().Leases(ns).Get(t.Context(), leader.LeaseName("gitvend", "target", k), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if h := holder(l); h != "a" && h != "b" {
			t.Errorf("Lease of %s held by %q %s after c died", k, h, time.Since(died))
		}
	}

	// b stops cleanly: it gives its targets back, and a takes them well
	// before a Lease's duration.
	stop := make(chan struct{})
	go func() { b.stop(); close(stop) }()
	sampleWhile(t, w, stop, a, b)
	if took := settle(t, 4*shardLease, w, 9, a); took >= shardLease {
		t.Errorf("a took b's given-back targets after %s, want less than %s", took, shardLease)
	}
	if got := a.Held(); !slices.Equal(got, slices.Sorted(slices.Values(keys))) {
		t.Errorf("a holds %v, want all", got)
	}
}

// TestShardsLostLeaseStopsWork: a key whose Lease turns out held by
// another identity (taken over while this replica could not renew) has its
// work cancelled with ErrShardLost, and is not taken back while the other
// holder renews it.
func TestShardsLostLeaseStopsWork(t *testing.T) {
	env := kube.Env(t)
	cfg, ns := env.Config(), env.Namespace(t)
	reg := prometheus.NewRegistry()
	s, err := leader.NewShards(cfg, leader.ShardOptions{Namespace: ns, Prefix: "gitvend", Kind: "target",
		Identity: "a", LeaseDuration: shardLease, RenewDeadline: shardRenew, RetryPeriod: shardRetry, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	causes := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		_ = s.Run(ctx, []string{"prod"}, func(ctx context.Context, key string) {
			<-ctx.Done()
			causes <- context.Cause(ctx)
		})
	}()
	t.Cleanup(func() { cancel(); <-exited })
	waitFor(t, 10*time.Second, "a to hold prod", func() bool { return slices.Equal(s.Held(), []string{"prod"}) })
	waitFor(t, 5*time.Second, "gitvend_shards_held 1", func() bool { return heldMetric(t, reg) == 1 })

	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	leases := cs.CoordinationV1().Leases(ns)
	name := leader.LeaseName("gitvend", "target", "prod")
	steal := func() error {
		l, err := leases.Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		l.Spec.HolderIdentity = ptr.To("other")
		l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(time.Now()))
		_, err = leases.Update(t.Context(), l, metav1.UpdateOptions{})
		return err
	}
	if err := retry.RetryOnConflict(retry.DefaultRetry, steal); err != nil {
		t.Fatal(err)
	}
	select {
	case cause := <-causes:
		if !errors.Is(cause, leader.ErrShardLost) {
			t.Errorf("work ended with %v, want ErrShardLost", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the work of a lost key still runs")
	}
	// "other" keeps renewing: a never takes prod back.
	for end := time.Now().Add(2 * shardLease); time.Now().Before(end); time.Sleep(shardLease / 4) {
		if err := retry.RetryOnConflict(retry.DefaultRetry, steal); err != nil {
			t.Fatal(err)
		}
		if got := s.Held(); len(got) != 0 {
			t.Fatalf("a holds %v while another renews it", got)
		}
	}
	if got := heldMetric(t, reg); got != 0 {
		t.Errorf("gitvend_shards_held %v after the loss, want 0", got)
	}
}

// heldMetric is gitvend_shards_held{kind="target"} in reg.
func heldMetric(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "gitvend_shards_held" && len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == "target" {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatal("no gitvend_shards_held{kind=target}")
	return 0
}

// TestShardsOptions: options are checked before any request.
func TestShardsOptions(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	for _, tt := range []struct {
		name string
		opts leader.ShardOptions
		want string
	}{
		{"no kind", leader.ShardOptions{Namespace: "gitvend", Prefix: "gitvend", Identity: "a"}, "kind: empty"},
		{"bad kind", leader.ShardOptions{Namespace: "gitvend", Prefix: "gitvend", Kind: "Target", Identity: "a"}, `kind: "Target"`},
		{"bad namespace", leader.ShardOptions{Namespace: "Gitvend", Prefix: "gitvend", Kind: "target", Identity: "a"}, `namespace "Gitvend"`},
		{"deadline past the duration", leader.ShardOptions{Namespace: "gitvend", Prefix: "gitvend", Kind: "target", Identity: "a",
			LeaseDuration: 2 * time.Second, RenewDeadline: 3 * time.Second}, "renewDeadline"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := leader.NewShards(cfg, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
	if _, err := leader.NewShards(nil, leader.ShardOptions{Kind: "target"}); err == nil {
		t.Error("no configuration accepted")
	}
}
