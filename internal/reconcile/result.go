package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/retry"
)

// Action is what an apply did, or in report-only mode would do, to one object.
type Action string

// Actions of an apply.
const (
	// Created: the object did not exist and was created.
	Created Action = "created"
	// Configured: the object existed and was changed to match Git.
	Configured Action = "configured"
	// Unchanged: the object already matched Git; nothing was written.
	Unchanged Action = "unchanged"
	// Recreated: an immutable field changed and the object, which opted in
	// with the gitvend.dev/recreate annotation, was deleted and created.
	Recreated Action = "recreated"
	// Deleted: the object left Git and was pruned.
	Deleted Action = "deleted"
	// Skipped: the object left Git but was not pruned: it no longer
	// carries gitvend's ownership (and is forgotten), or it is a Namespace
	// or CRD whose deletion would take objects gitvend does not manage
	// with it (and is tried again later). Message says which.
	Skipped Action = "skipped"
	// LeftInPlace: the object left Git but is not gitvend's to delete: it
	// existed in the cluster before gitvend first applied it and Git never
	// adopted it (AdoptAnnotation). It is forgotten, not deleted.
	LeftInPlace Action = "left in place"
	// Refused: the target's allow-lists do not admit the object; it was
	// not applied.
	Refused Action = "refused"
	// Failed: the object could not be applied or pruned; Message says why.
	Failed Action = "failed"
)

// actionOrder lists every Action in the order summaries use.
func actionOrder() []Action {
	return []Action{Created, Configured, Unchanged, Recreated, Deleted, Skipped, LeftInPlace, Refused, Failed}
}

// ObjectResult is what happened to one object.
type ObjectResult struct {
	ID     manifest.ID `json:"id"`
	Action Action      `json:"action"`
	// Message explains a refusal, a failure or a special case.
	Message string `json:"message,omitempty"`
	// Existing is set when this apply took over (report-only: would take
	// over) an object that was in the cluster before gitvend applied it;
	// Message says whether gitvend will prune it when it leaves Git.
	Existing bool `json:"existing,omitempty"`
	// Status is the object's kstatus after the health wait (Current,
	// InProgress, Failed, Terminating, NotFound, Unknown); empty when health
	// was not checked.
	Status string `json:"status,omitempty"`
	// Unhealthy says why the object did not become healthy; set when
	// Status is set and not Current.
	Unhealthy *Unhealthy `json:"unhealthy,omitempty"`

	retryable bool
}

// Result is the outcome of one apply to a target.
type Result struct {
	Target   string `json:"target"`
	Revision string `json:"revision"`
	// DryRun is set when the target is report-only: nothing was written
	// and the actions say what would happen.
	DryRun bool `json:"dryRun,omitempty"`
	// Objects are sorted by namespace, kind, name and apiVersion.
	Objects []ObjectResult `json:"objects"`
	// HealthChecked tells whether the applied objects were waited for.
	HealthChecked bool `json:"healthChecked,omitempty"`
	// HealthTimedOut is set when some object was not Current before the
	// target's HealthTimeout.
	HealthTimedOut bool `json:"healthTimedOut,omitempty"`
	// Duration is how long the apply took, health wait included.
	Duration time.Duration `json:"duration"`
}

// Count returns how many objects got action a.
func (r *Result) Count(a Action) int {
	n := 0
	for _, o := range r.Objects {
		if o.Action == a {
			n++
		}
	}
	return n
}

// Healthy tells whether every object whose health was checked is Current.
// It is true when health was not checked.
func (r *Result) Healthy() bool {
	for _, o := range r.Objects {
		if o.Status != "" && o.Status != "Current" {
			return false
		}
	}
	return !r.HealthTimedOut
}

// Summary counts the actions in one line, such as "3 created, 1 unchanged".
func (r *Result) Summary() string {
	var parts []string
	for _, a := range actionOrder() {
		if n := r.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	if len(parts) == 0 {
		return "no objects"
	}
	return strings.Join(parts, ", ")
}

func (r *Result) sort() {
	slices.SortStableFunc(r.Objects, func(a, b ObjectResult) int { return compareIDs(a.ID, b.ID) })
}

// err returns an *ApplyError when objects failed or were refused.
func (r *Result) err() error {
	e := &ApplyError{Target: r.Target, Retryable: true}
	for _, o := range r.Objects {
		switch o.Action {
		case Failed:
			e.Failed++
			e.Retryable = e.Retryable && o.retryable
		case Refused:
			e.Refused++
			e.Retryable = false
		default:
			continue
		}
		if e.First == "" {
			e.First = o.ID.String() + ": " + o.Message
		}
	}
	if e.Failed == 0 && e.Refused == 0 {
		return nil
	}
	return e
}

// ApplyError says that an apply did not bring every object to Git's state.
type ApplyError struct {
	Target  string
	Failed  int // objects that failed
	Refused int // objects the target's allow-lists refused
	// First describes the first object at fault.
	First string
	// Retryable is set when every failure was a passing condition (API
	// server unavailable, timeouts, conflicts) and nothing was refused, so
	// that applying again may succeed.
	Retryable bool
}

// Terminal reports whether applying again cannot succeed (see package
// retry): something was refused or failed for good.
func (e *ApplyError) Terminal() bool { return !e.Retryable }

// Error implements error.
func (e *ApplyError) Error() string {
	var parts []string
	if e.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", e.Failed))
	}
	if e.Refused > 0 {
		parts = append(parts, fmt.Sprintf("%d refused", e.Refused))
	}
	return fmt.Sprintf("apply to target %s: %s objects; first: %s", e.Target, strings.Join(parts, " and "), e.First)
}

// EmptyRenderError refuses an apply whose desired set is empty while the
// inventory still lists objects: that is far more likely a broken build or
// checkout than a wish to delete everything.
type EmptyRenderError struct {
	Target    string
	Inventory int // objects the inventory lists
}

// Error implements error.
func (e *EmptyRenderError) Error() string {
	return fmt.Sprintf("apply to target %s: the render is empty but the inventory lists %d objects; refusing to apply and prune (remove the objects from Git one change at a time, or delete the inventory ConfigMap to start over)", e.Target, e.Inventory)
}

// Terminal is always true: the same render is refused again.
func (e *EmptyRenderError) Terminal() bool { return true }

// classify marks an error from the API server terminal (package retry)
// unless it is a passing condition.
func classify(err error) error {
	if err == nil || retryable(err) {
		return err
	}
	return retry.Terminal(err)
}

// retryable classifies one error from the API server: unavailable,
// timeouts, throttling, conflicts and failed connections pass; refusals
// (forbidden, invalid, not found) do not.
func retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		// Not an answer from the API server: the connection failed.
		return true
	}
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsConflict(err) ||
		apierrors.IsUnexpectedServerError(err)
}
