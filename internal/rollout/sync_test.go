package rollout

import (
	"errors"
	"testing"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/reconcile"
)

func TestMergedPR(t *testing.T) {
	for msg, want := range map[string]int{
		"Merge pull request #12 from acme/gitvend/request-3\n\ngitvend: orders": 12,
		"gitvend: orders (web-service) in dev/team-payments (#7)":               7,
		"Update files":                  0,
		"Fix #3 and (#4) later\n\n(#5)": 0,
	} {
		if got := mergedPR(msg); got != want {
			t.Errorf("mergedPR(%q) = %d, want %d", msg, got, want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	obj := func(a reconcile.Action, status string) reconcile.ObjectResult {
		return reconcile.ObjectResult{ID: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: string(a)}, Action: a, Status: status}
	}
	tests := []struct {
		name        string
		a           Applied
		state, desc string
	}{
		{"render failed", Applied{Err: errors.New("kustomize: boom")}, "error", "render failed: kustomize: boom"},
		{"applied", Applied{Result: &reconcile.Result{Objects: []reconcile.ObjectResult{obj(reconcile.Created, ""), obj(reconcile.Unchanged, "")}}}, "success", "1 created, 1 unchanged"},
		{"refused", Applied{Result: &reconcile.Result{Objects: []reconcile.ObjectResult{obj(reconcile.Refused, "")}}}, "failure", "1 refused (refused by the target's allow-lists)"},
		{"failed", Applied{Result: &reconcile.Result{Objects: []reconcile.ObjectResult{obj(reconcile.Failed, "")}}, Err: errors.New("x")}, "failure", "1 failed"},
		{"unhealthy", Applied{Result: &reconcile.Result{HealthTimedOut: true, Objects: []reconcile.ObjectResult{obj(reconcile.Created, "InProgress")}}}, "failure", "not healthy in time; 1 created"},
		{"unhealthy, explained", Applied{Result: &reconcile.Result{HealthTimedOut: true, Objects: []reconcile.ObjectResult{
			{ID: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "a", Name: "web"}, Action: reconcile.Created, Status: "InProgress",
				Unhealthy: &reconcile.Unhealthy{Reason: reconcile.ImagePullError, Detail: "container app cannot pull image ghcr.io/acme/web:nope (ErrImagePull)"}},
			obj(reconcile.Unchanged, "InProgress")}}},
			"failure", "not healthy: Deployment/a/web image pull error: container app cannot pull image ghcr.io/acme/web:nope (ErrImagePull) (+1 more); 1 created, 1 unchanged"},
		{"report only", Applied{Result: &reconcile.Result{DryRun: true, Objects: []reconcile.ObjectResult{obj(reconcile.Configured, "")}}}, "success", "report only: 1 configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, desc := statusOf(tt.a)
			if state != tt.state || desc != tt.desc {
				t.Errorf("statusOf = %q, %q; want %q, %q", state, desc, tt.state, tt.desc)
			}
		})
	}
}

func TestOnceRemembersTheRecentReports(t *testing.T) {
	reported, err := lru.New[string, string](3)
	if err != nil {
		t.Fatal(err)
	}
	r := &Rollout{reported: reported}
	steps := []struct {
		do         string // "once" or "forget"
		key, value string
		want       bool // once's answer
	}{
		{"once", "a", "1", true},
		{"once", "a", "1", false},
		{"once", "a", "2", true}, // a changed report is posted again
		{"forget", "a", "", false},
		{"once", "a", "2", true}, // a failed post is tried again
		{"once", "b", "1", true},
		{"once", "c", "1", true},
		{"once", "a", "2", false}, // a is the most recently used now
		{"once", "d", "1", true},  // evicts b, the least recently used
		{"once", "a", "2", false},
		{"once", "c", "1", false},
		{"once", "b", "1", true},
	}
	for i, s := range steps {
		if s.do == "forget" {
			r.forget(s.key)
			continue
		}
		if got := r.once(s.key, s.value); got != s.want {
			t.Errorf("step %d: once(%s, %s) = %v, want %v", i, s.key, s.value, got, s.want)
		}
	}
}
