package leader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// leaseLock is client-go's Lease lock, watching for a missing namespace:
// client-go only logs a failed create and retries forever, while a
// missing namespace needs an operator.
type leaseLock struct {
	*resourcelock.LeaseLock
	onMissing func()

	mu      sync.Mutex
	missing error
}

// newLock returns a lock on the Lease that calls onMissing when the
// Lease's namespace turns out not to exist.
func (e *Elector) newLock(onMissing func()) *leaseLock {
	return &leaseLock{
		LeaseLock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: e.opts.Namespace, Name: e.opts.Name},
			Client:     e.leases,
			LockConfig: resourcelock.ResourceLockConfig{Identity: e.opts.Identity},
		},
		onMissing: onMissing,
	}
}

// Create creates the Lease, noting a missing namespace.
func (l *leaseLock) Create(ctx context.Context, rec resourcelock.LeaderElectionRecord) error {
	err := l.LeaseLock.Create(ctx, rec)
	if isNamespaceNotFound(err) {
		l.mu.Lock()
		l.missing = fmt.Errorf("leader election: create Lease %s: namespace %s does not exist; create it before starting gitvend (the deployment manifests do): %w",
			l.Describe(), l.LeaseMeta.Namespace, err)
		l.mu.Unlock()
		l.onMissing()
	}
	return err
}

// namespaceError returns the error for a missing namespace, or nil.
func (l *leaseLock) namespaceError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.missing
}

// isNamespaceNotFound tells whether err says that the namespace of the
// object being created does not exist.
func isNamespaceNotFound(err error) bool {
	status, ok := errors.AsType[*apierrors.StatusError](err)
	if !ok || !apierrors.IsNotFound(err) {
		return false
	}
	d := status.ErrStatus.Details
	return d != nil && d.Kind == "namespaces"
}

// release gives the Lease back when this replica still holds it: the
// holder is cleared and the duration shortened, as client-go does, so that
// the next replica to try takes it at once. Only a lock that has read or
// written the Lease can update it; conflicting writes fail on the
// resource version.
func (e *Elector) release(ctx context.Context, l *leaseLock) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.RenewDeadline)
	defer cancel()
	rec, _, err := l.Get(ctx)
	if apierrors.IsNotFound(err) {
		return
	}
	if err != nil {
		e.logger.Warn("could not read the Lease to give it back; the other replicas take over when it expires", "err", err)
		return
	}
	if rec.HolderIdentity != e.opts.Identity {
		return
	}
	now := metav1.NewTime(time.Now())
	err = l.Update(ctx, resourcelock.LeaderElectionRecord{
		LeaderTransitions:    rec.LeaderTransitions,
		LeaseDurationSeconds: 1,
		AcquireTime:          now,
		RenewTime:            now,
	})
	if err != nil {
		e.logger.Warn("could not give the Lease back; the other replicas take over when it expires", "err", err)
		return
	}
	e.logger.Info("gave the Lease back")
}
