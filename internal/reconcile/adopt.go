package reconcile

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/manifest"
)

// Adoption is an object of a desired state that applying it would take
// over: it is in the cluster, but gitvend neither created it nor records
// it on the target yet.
type Adoption struct {
	ID manifest.ID `json:"id"`
	// Prunable is set when the object in Git carries AdoptAnnotation
	// "true": gitvend then deletes it when it leaves Git. Otherwise gitvend
	// sets the fields Git has but leaves the object in place when it
	// leaves Git.
	Prunable bool `json:"prunable"`
}

// String describes the adoption for a report, such as
// "adopts existing object ConfigMap/team-a/settings (left in place when it
// leaves Git)".
func (a Adoption) String() string {
	what := "left in place when it leaves Git; " + AdoptAnnotation + `: "true" would let gitvend prune it`
	if a.Prunable {
		what = AdoptAnnotation + `: "true": pruned when it leaves Git`
	}
	return fmt.Sprintf("adopts existing object %s (%s)", a.ID, what)
}

// Adoptions tells which objects of objs, a desired state (a render of a
// pull request, say), applying them to the target would take over: objects
// the target accepts that exist in the cluster but that the target's
// inventory does not record, and recorded objects found in the cluster
// that Git now adopts with AdoptAnnotation. It writes nothing, so that a
// check can say "adopts existing object X" before the change is merged.
// The adoptions are sorted by namespace, kind, name and apiVersion.
func (r *Reconciler) Adoptions(ctx context.Context, objs []*unstructured.Unstructured) ([]Adoption, error) {
	items, err := r.prepareAll(ctx, objs)
	if err != nil {
		return nil, err
	}
	inv, err := r.readEntries(ctx)
	if err != nil {
		return nil, err
	}
	index := inv.index()
	var candidates []*item
	for _, it := range items {
		if it.res.Action != "" || !applicable(it) {
			continue
		}
		old, recorded := index[it.key]
		switch {
		case !recorded:
			candidates = append(candidates, it)
		case old.origin == originExisting && adopted(it.obj):
			// Found before and taken over; Git now lets gitvend prune it.
			candidates = append(candidates, it)
		}
	}
	// Only the kinds and namespaces of candidates are listed: objects the
	// inventory records already cost the cluster nothing here.
	r.listLive(ctx, candidates)
	live := make([]bool, len(candidates))
	errs := make([]error, len(candidates))
	r.forEach(len(candidates), func(i int) { live[i], errs[i] = r.exists(ctx, candidates[i]) })
	var out []Adoption
	for i, it := range candidates {
		if errs[i] != nil {
			return nil, fmt.Errorf("check whether %s exists on target %s: %w", it.key, r.target.Name, errs[i])
		}
		if live[i] {
			out = append(out, Adoption{ID: it.res.ID, Prunable: adopted(it.obj)})
		}
	}
	slices.SortFunc(out, func(a, b Adoption) int { return compareIDs(a.ID, b.ID) })
	return out, nil
}

// exists tells whether the item's object is in the cluster: from the list
// of live objects, or else by reading it.
func (r *Reconciler) exists(ctx context.Context, it *item) (bool, error) {
	if it.listed {
		return it.existed, nil
	}
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(it.obj.GroupVersionKind())
	err := r.client.Get(ctx, client.ObjectKey{Namespace: it.key.Namespace, Name: it.key.Name}, live)
	switch {
	case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
		// A kind not served yet (its CRD comes with the desired state)
		// has no objects.
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}
