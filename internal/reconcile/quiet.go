package reconcile

import (
	"slices"

	"github.com/gitvend/gitvend/internal/manifest"
)

// SetQuiet replaces the fields drift reports leave out, by object: paths
// as FieldChange.Path names them, such as spec.replicas. gitvend's own
// changes that Git does not hold (a sleeping workload scaled to zero, a
// suspended CronJob) are set quiet while they last, so that they are never
// reported as drift, even in the moment between the change and the objects
// the reconciler watches catching up with it. A nil map quiets nothing.
func (r *Reconciler) SetQuiet(fields map[manifest.ID][]string) {
	q := make(map[quietKey][]string, len(fields))
	for id, paths := range fields {
		q[quietKeyOf(id)] = slices.Clone(paths)
	}
	r.mu.Lock()
	r.quiet = q
	r.mu.Unlock()
}

// quietKey names an object regardless of its API version.
type quietKey struct{ group, kind, namespace, name string }

func quietKeyOf(id manifest.ID) quietKey {
	return quietKey{id.Group(), id.Kind, id.Namespace, id.Name}
}

// withoutQuiet drops the changes of d on quiet fields; it tells whether
// anything is left to report.
func (r *Reconciler) withoutQuiet(d *ObjectDrift) bool {
	r.mu.Lock()
	paths := r.quiet[quietKeyOf(d.ID)]
	r.mu.Unlock()
	if len(paths) > 0 && len(d.Changes) > 0 {
		d.Changes = slices.DeleteFunc(slices.Clone(d.Changes), func(c FieldChange) bool { return slices.Contains(paths, c.Path) })
	}
	return d.Missing || d.Error != "" || len(d.Changes) > 0
}
