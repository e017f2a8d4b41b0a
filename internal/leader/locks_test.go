package leader_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/gitvend/gitvend/internal/leader"
)

const repo = "acme/infra"

func newLocks(t *testing.T, cfg *rest.Config, ns, identity string, wait time.Duration) *leader.Locks {
	t.Helper()
	l, err := leader.NewLocks(cfg, leader.LockOptions{Namespace: ns, Prefix: "gitvend", Identity: identity,
		LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond, Wait: wait})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func repoLease(t *testing.T, cfg *rest.Config, ns, repo string) *coordinationv1.Lease {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := cs.CoordinationV1().Leases(ns).Get(t.Context(), leader.LeaseName("gitvend", "repo", repo), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Lease: %v", err)
	}
	return l
}

func holder(l *coordinationv1.Lease) string { return ptr.Deref(l.Spec.HolderIdentity, "") }

// TestLocksKeepARepositoryOnOneReplica: while replica a runs jobs of a
// repository, b is refused its Lease (with ErrHeld, after the bounded
// wait), even past the Lease's duration, because a renews it; a's jobs
// share it; the last to return gives it back and b takes it at once.
func TestLocksKeepARepositoryOnOneReplica(t *testing.T) {
	env := kube.Env(t)
	cfg, ns := env.Config(), env.Namespace(t)
	a := newLocks(t, cfg, ns, "a", 300*time.Millisecond)
	b := newLocks(t, cfg, ns, "b", 300*time.Millisecond)

	ctx1, release1, err := a.Lock(t.Context(), repo)
	if err != nil {
		t.Fatal(err)
	}
	_, release2, err := a.Lock(t.Context(), "Acme/Infra") // another job, another spelling
	if err != nil {
		t.Fatalf("a second job of the holder: %v", err)
	}
	if got := holder(repoLease(t, cfg, ns, repo)); got != "a" {
		t.Fatalf("holder %q, want a", got)
	}
	_, releaseOther, err := b.Lock(t.Context(), "acme/other")
	if err != nil {
		t.Fatalf("another repository: %v", err)
	}
	releaseOther()
	begin := time.Now()
	for time.Since(begin) < 3*time.Second { // longer than the Lease's 2s
		_, _, err := b.Lock(t.Context(), repo)
		if !errors.Is(err, leader.ErrHeld) {
			t.Fatalf("b's Lock while a holds the Lease: %v, want ErrHeld", err)
		}
		if !strings.Contains(err.Error(), `"a"`) {
			t.Errorf("error %q does not name the holder", err)
		}
	}
	release1()
	if ctx1.Err() == nil {
		t.Error("a released job's context is still live")
	}
	if _, _, err := b.Lock(t.Context(), repo); !errors.Is(err, leader.ErrHeld) {
		t.Fatalf("b's Lock while a's second job runs: %v, want ErrHeld", err)
	}
	release2()
	if got := holder(repoLease(t, cfg, ns, repo)); got != "" {
		t.Fatalf("holder %q after the last release, want none", got)
	}
	start := time.Now()
	bctx, releaseB, err := b.Lock(t.Context(), repo)
	if err != nil {
		t.Fatalf("b's Lock after a gave the Lease back: %v", err)
	}
	defer releaseB()
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("b took %s to take a Lease given back", d)
	}
	if bctx.Err() != nil {
		t.Error("b's job context is cancelled")
	}
	if got := holder(repoLease(t, cfg, ns, repo)); got != "b" {
		t.Fatalf("holder %q, want b", got)
	}
}

// TestLocksNeverOverlap: jobs of one repository on three replicas, each
// with several workers, never overlap across replicas.
func TestLocksNeverOverlap(t *testing.T) {
	env := kube.Env(t)
	cfg, ns := env.Config(), env.Namespace(t)
	var mu sync.Mutex
	running := map[string]int{} // replica → its jobs running
	var overlaps, ran, refused atomic.Int32
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b", "c"} {
		l := newLocks(t, cfg, ns, id, 200*time.Millisecond)
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 8 {
					_, release, err := l.Lock(t.Context(), repo)
					if errors.Is(err, leader.ErrHeld) {
						refused.Add(1)
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					running[id]++
					for other, n := range running {
						if other != id && n > 0 {
							overlaps.Add(1)
						}
					}
					mu.Unlock()
					ran.Add(1)
					time.Sleep(20 * time.Millisecond)
					mu.Lock()
					running[id]--
					mu.Unlock()
					release()
				}
			}()
		}
	}
	wg.Wait()
	if n := overlaps.Load(); n > 0 {
		t.Fatalf("jobs of two replicas overlapped %d times", n)
	}
	if ran.Load() < 3 || refused.Load() == 0 {
		t.Fatalf("%d jobs ran, %d refused: the replicas did not contend", ran.Load(), refused.Load())
	}
}

// TestLocksTakeOverACrashedHolder: a Lease whose holder died (no renewal,
// never given back) is taken over once it has gone unrenewed for its
// duration, and not before.
func TestLocksTakeOverACrashedHolder(t *testing.T) {
	env := kube.Env(t)
	cfg, ns := env.Config(), env.Namespace(t)
	crashed := newLocks(t, cfg, ns, "crashed", time.Second)
	if _, _, err := crashed.Lock(t.Context(), repo); err != nil {
		t.Fatal(err)
	}
	// The process dies: its renewals stop. Simulated by the holder
	// renewing no more; the Lease says "crashed" for 2s.
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopRenewal(t, cs, ns)

	b := newLocks(t, cfg, ns, "b", 500*time.Millisecond)
	begin := time.Now()
	var lastErr error
	for time.Since(begin) < 10*time.Second {
		_, release, err := b.Lock(t.Context(), repo)
		if err == nil {
			defer release()
			break
		}
		if !errors.Is(err, leader.ErrHeld) {
			t.Fatal(err)
		}
		lastErr = err
	}
	took := time.Since(begin)
	l := repoLease(t, cfg, ns, repo)
	if holder(l) != "b" {
		t.Fatalf("holder %q after %s (last error %v), want b", holder(l), took, lastErr)
	}
	if took < 2*time.Second {
		t.Errorf("took over after %s, before the Lease's 2s passed", took)
	}
	if got := ptr.Deref(l.Spec.LeaseTransitions, 0); got != 1 {
		t.Errorf("leaseTransitions %d, want 1", got)
	}
}

// stopRenewal makes the Lease look like a crashed holder's: a holder that
// never renews. The holder's own Locks keep renewing, so the Lease is
// handed to an identity nobody runs.
func stopRenewal(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	leases := cs.CoordinationV1().Leases(ns)
	name := leader.LeaseName("gitvend", "repo", repo)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		l, err := leases.Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		l.Spec.HolderIdentity = ptr.To("dead")
		_, err = leases.Update(t.Context(), l, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLocksLostCancelsJobs: when the Lease is found held by someone else
// (taken over after this replica failed to renew), the jobs running under
// it see their context cancelled with ErrLost.
func TestLocksLostCancelsJobs(t *testing.T) {
	env := kube.Env(t)
	cfg, ns := env.Config(), env.Namespace(t)
	a := newLocks(t, cfg, ns, "a", time.Second)
	ctx, release, err := a.Lock(t.Context(), repo)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopRenewal(t, cs, ns)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the job's context lives on after its Lease was taken")
	}
	if !errors.Is(context.Cause(ctx), leader.ErrLost) {
		t.Errorf("cause %v, want ErrLost", context.Cause(ctx))
	}
	if _, _, err := a.Lock(t.Context(), repo); err == nil {
		t.Error("a new job got a Lease lost while jobs still run under it")
	}
}

func TestLeaseName(t *testing.T) {
	long := strings.Repeat("o", 39) + "/" + strings.Repeat("r", 100)
	for _, r := range []string{"acme/infra", "Acme/Infra", "a/b", "acme/infra.git", "my-org/_weird..name_", long, "-/-"} {
		name := leader.LeaseName("gitvend", "repo", r)
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			t.Errorf("%q → %q: %v", r, name, errs)
		}
	}
	if leader.LeaseName("gitvend", "repo", "Acme/Infra") != leader.LeaseName("gitvend", "repo", "acme/infra") {
		t.Error("the spellings of one repository get different Leases")
	}
	if leader.LeaseName("gitvend", "repo", "acme/in-fra") == leader.LeaseName("gitvend", "repo", "acme/in.fra") {
		t.Error("two repositories share a Lease")
	}
	if got := leader.LeaseName("gitvend", "repo", "acme/infra"); !strings.HasPrefix(got, "gitvend-repo-acme-infra-") {
		t.Errorf("name %q is not readable", got)
	}
}

func TestLocksOptions(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	for _, c := range []struct {
		opts leader.LockOptions
		want string
	}{
		{leader.LockOptions{Namespace: "Bad_NS", Prefix: "gitvend"}, "namespace"},
		{leader.LockOptions{Namespace: "ns", Prefix: "Bad/Prefix"}, "name"},
		{leader.LockOptions{Namespace: "ns", Prefix: "gitvend", Wait: -time.Second}, "wait"},
		{leader.LockOptions{Namespace: "ns", Prefix: "gitvend", LeaseDuration: time.Second, RenewDeadline: 2 * time.Second}, "renewDeadline"},
	} {
		if _, err := leader.NewLocks(cfg, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %s", c.opts, err, c.want)
		}
	}
	if _, err := leader.NewLocks(nil, leader.LockOptions{Namespace: "ns", Prefix: "gitvend"}); err == nil {
		t.Error("no error without a client configuration")
	}
}

// TestLocksObserveAtStart: a replica that reads the Leases when it starts
// takes over a crashed holder's Lease as soon as the Lease's duration has
// passed since then, without its first job waiting it out again.
func TestLocksObserveAtStart(t *testing.T) {
	env := kube.Env(t)
	cfg, ns := env.Config(), env.Namespace(t)
	crashed := newLocks(t, cfg, ns, "crashed", time.Second)
	if _, _, err := crashed.Lock(t.Context(), repo); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stopRenewal(t, cs, ns)

	restarted := newLocks(t, cfg, ns, "restarted", 100*time.Millisecond)
	restarted.Observe(t.Context(), repo, "acme/unknown")
	if _, _, err := restarted.Lock(t.Context(), repo); !errors.Is(err, leader.ErrHeld) {
		t.Fatalf("Lock before the Lease expired: %v, want ErrHeld", err)
	}
	time.Sleep(2100 * time.Millisecond)
	_, release, err := restarted.Lock(t.Context(), repo)
	if err != nil {
		t.Fatalf("Lock once the Lease's duration passed since Observe: %v", err)
	}
	release()
}
