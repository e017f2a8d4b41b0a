package rollout

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/retry"
)

// TestRunWakesWhenAHoldEnds: Run reconciles again when a change window
// lets a held apply go, not only at the interval; a hold with no known end
// wakes nothing, and self-heal is allowed again once the hold is over.
func TestRunWakesWhenAHoldEnds(t *testing.T) {
	now := time.Date(2026, 12, 7, 4, 59, 59, 0, time.UTC)
	git := &failingGit{err: retry.Terminal(errors.New("fetch: authentication required"))}
	r, err := New(Options{Clients: noClients{}, Git: git, Branches: map[string]string{"acme/infra": "main"},
		Interval: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	r.setHeld("prod", true, time.Time{})
	r.setHealHeld("prod", true, time.Time{})
	if r.sleepDue() != nil {
		t.Fatal("a wake is due for a hold with no known end")
	}
	if !r.healHeldNow("prod", now.Add(365*24*time.Hour)) {
		t.Error("a hold of self-heal with no known end let go")
	}
	r.setHeld("dev", true, now.Add(time.Second))
	r.setHealHeld("dev", true, now.Add(time.Second))
	if !r.healHeldNow("dev", now) || r.healHeldNow("dev", now.Add(time.Second)) {
		t.Error("the hold of dev's self-heal does not end at its end")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
	defer cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// The first sync at start, then one when dev's hold ends.
	if got := git.opens.Load(); got != 2 {
		t.Errorf("syncs = %d, want 2", got)
	}
	r.setHeld("dev", false, time.Time{})
	r.setHeld("prod", false, time.Time{})
	if !r.setHealHeld("dev", false, time.Time{}) {
		t.Error("the end of dev's self-heal hold is not told, so nothing would heal what it left")
	}
	if r.setHealHeld("dev", false, time.Time{}) {
		t.Error("the end of dev's self-heal hold is told twice")
	}
	r.setHealHeld("prod", false, time.Time{})
	if r.sleepDue() != nil || r.healHeldNow("prod", now) {
		t.Error("held once every hold is cleared")
	}
}

// TestPlanHold: a plan says the change window the desired-state branch's
// windows put on a merge now, for the namespaces the change touches, the
// hold that lets go last; outside every window, or in another namespace's
// window, it says nothing.
func TestPlanHold(t *testing.T) {
	dir := t.TempDir()
	yaml := "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n" +
		"  windows:\n" +
		"  - {name: nights, kind: deny, schedule: \"0 22 * * *\", duration: 8h, namespaces: [payments]}\n" +
		"  - {name: short, kind: deny, schedule: \"0 22 * * *\", duration: 1h}\n"
	if err := os.WriteFile(filepath.Join(dir, config.RepoFile), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 22, 30, 0, 0, time.UTC)
	r := &Rollout{now: func() time.Time { return now }}
	ts := &targetState{Connection: cluster.Connection{Target: cluster.Target{Name: "dev", Environments: []string{"dev"}}}}
	obj := func(ns string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetNamespace(ns)
		return u
	}
	tests := []struct {
		at    time.Time
		objs  []*unstructured.Unstructured
		by    string
		until time.Time
	}{
		{now, []*unstructured.Unstructured{obj("team-a")}, "short", time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC)},
		{now, []*unstructured.Unstructured{obj("team-a"), obj("payments")}, "nights", time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)},
		{now.Add(time.Hour), []*unstructured.Unstructured{obj("team-a")}, "", time.Time{}},
		{now.Add(-time.Hour), []*unstructured.Unstructured{obj("payments")}, "", time.Time{}},
	}
	for _, tt := range tests {
		now = tt.at
		p := &reconcile.Plan{Target: "dev"}
		r.planHold(t.Context(), ts, dir, dir, nil, tt.objs, p)
		if p.HeldBy != tt.by || !p.HeldUntil.Equal(tt.until) {
			t.Errorf("at %s, %d objects: held by %q until %s; want %q until %s", tt.at, len(tt.objs), p.HeldBy, p.HeldUntil, tt.by, tt.until)
		}
	}
	// Only what the pull request changes counts: payments' object, the
	// same in the base, is not held by its namespace's window; removed,
	// it is.
	now = time.Date(2026, 12, 2, 22, 30, 0, 0, time.UTC)
	payments := obj("payments")
	payments.SetName("ledger")
	teamA := obj("team-a")
	p := &reconcile.Plan{Target: "dev"}
	r.planHold(t.Context(), ts, dir, dir, []*unstructured.Unstructured{payments}, []*unstructured.Unstructured{payments.DeepCopy(), teamA}, p)
	if p.HeldBy != "short" {
		t.Errorf("an unchanged object in payments: held by %q, want short", p.HeldBy)
	}
	p = &reconcile.Plan{Target: "dev"}
	r.planHold(t.Context(), ts, dir, dir, []*unstructured.Unstructured{payments, teamA}, []*unstructured.Unstructured{teamA.DeepCopy()}, p)
	if p.HeldBy != "nights" {
		t.Errorf("an object removed from payments: held by %q, want nights", p.HeldBy)
	}
}
