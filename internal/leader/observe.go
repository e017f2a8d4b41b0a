package leader

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// observedLease is a Lease record as last seen, and when it was first seen
// so: the Lease expires LeaseDurationSeconds after that, by our clock.
type observedLease struct {
	record string
	at     time.Time
}

// observations remember, per Lease name, the record last seen of other
// replicas' Leases and when it was first seen so, to tell by this
// replica's own clock (so that clock skew between replicas does not
// matter) when a Lease has gone unrenewed for its whole duration.
type observations struct {
	mu   sync.Mutex
	seen map[string]observedLease
}

// expired tells whether lease (named name) has gone unchanged for its
// whole duration since it was first seen so, now being this replica's
// time.
func (o *observations) expired(name string, lease *coordinationv1.Lease, now time.Time) bool {
	record := ptr.Deref(lease.Spec.HolderIdentity, "") + "/" + lease.ResourceVersion
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string]observedLease{}
	}
	seen, ok := o.seen[name]
	if !ok || seen.record != record {
		o.seen[name] = observedLease{record: record, at: now}
		return false
	}
	d := time.Duration(ptr.Deref(lease.Spec.LeaseDurationSeconds, 0)) * time.Second
	return now.Sub(seen.at) > d
}

// forget drops what was seen of the Lease name.
func (o *observations) forget(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.seen, name)
}

// heldSpec is the spec of a Lease held by identity for d.
func heldSpec(identity string, d time.Duration, acquired, renewed metav1.MicroTime, transitions int32) coordinationv1.LeaseSpec {
	return coordinationv1.LeaseSpec{
		HolderIdentity:       ptr.To(identity),
		LeaseDurationSeconds: ptr.To(int32((d + time.Second - 1) / time.Second)),
		AcquireTime:          &acquired,
		RenewTime:            &renewed,
		LeaseTransitions:     ptr.To(transitions),
	}
}

// gaugeVec registers a gauge vector of opts with labels on reg, or
// returns the one registered there already (several electors or Shards
// in one process share it); what names the caller in errors.
func gaugeVec(reg prometheus.Registerer, what string, opts prometheus.GaugeOpts, labels ...string) (*prometheus.GaugeVec, error) {
	vec := prometheus.NewGaugeVec(opts, labels)
	if reg == nil {
		return vec, nil
	}
	if err := reg.Register(vec); err != nil {
		are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
		if !ok {
			return nil, fmt.Errorf("%s: register metrics: %w", what, err)
		}
		existing, ok := are.ExistingCollector.(*prometheus.GaugeVec)
		if !ok {
			return nil, fmt.Errorf("%s: register metrics: %s is registered as another type: %w", what, opts.Name, err)
		}
		vec = existing
	}
	return vec, nil
}
