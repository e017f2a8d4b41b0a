package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/retry"
)

func TestErrorClassification(t *testing.T) {
	cm := schema.GroupResource{Resource: "configmaps"}
	failed := func(retryable bool) ObjectResult {
		return ObjectResult{ID: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "b"}, Action: Failed, Message: "m", retryable: retryable}
	}
	refused := ObjectResult{ID: manifest.ID{APIVersion: "v1", Kind: "Secret", Namespace: "a", Name: "s"}, Action: Refused, Message: "not allowed"}
	applyErr := func(objs ...ObjectResult) error { return (&Result{Target: "t", Objects: objs}).err() }
	tests := []struct {
		name         string
		err          error
		wantTerminal bool
	}{
		{"apply: passing failures", applyErr(failed(true), failed(true)), false},
		{"apply: one lasting failure", applyErr(failed(true), failed(false)), true},
		{"apply: refused", applyErr(refused), true},
		{"apply: refused and passing failure", applyErr(failed(true), refused), true},
		{"empty render", fmt.Errorf("sync: %w", &EmptyRenderError{Target: "t", Inventory: 3}), true},
		{"inventory: forbidden", classify(apierrors.NewForbidden(cm, "gitvend-inventory", errors.New("no"))), true},
		{"inventory: invalid", classify(apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "x", nil)), true},
		{"inventory: conflict", classify(apierrors.NewConflict(cm, "gitvend-inventory", errors.New("changed"))), false},
		{"inventory: unavailable", classify(apierrors.NewServiceUnavailable("down")), false},
		{"inventory: throttled", classify(apierrors.NewTooManyRequests("slow down", 1)), false},
		{"inventory: timeout", classify(apierrors.NewTimeoutError("slow", 1)), false},
		{"inventory: connection refused", classify(&net.OpError{Op: "dial", Err: errors.New("connection refused")}), false},
		{"inventory: deadline", classify(context.DeadlineExceeded), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retry.IsTerminal(tt.err); got != tt.wantTerminal {
				t.Errorf("IsTerminal(%v) = %v, want %v", tt.err, got, tt.wantTerminal)
			}
		})
	}
	if applyErr(ObjectResult{Action: Created}) != nil {
		t.Error("an apply without failures has an error")
	}
}
