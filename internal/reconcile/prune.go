package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/manifest"
)

// maxForeignNamed bounds how many foreign objects a refusal to prune a
// namespace names.
const maxForeignNamed = 3

// prune deletes the stale objects (in the inventory, no longer in Git) that
// gitvend created or adopted and that still carry gitvend's ownership:
// namespaced objects first, Namespaces and CRDs last. Objects that were in
// the cluster before gitvend applied them, and that Git never adopted, are
// left in place. Since deleting a Namespace deletes its contents and
// deleting a CRD its custom resources, those are only deleted when nothing
// else would go with them. since is when the inventory was first written,
// which tells, for entries of unknown origin, whether the object existed
// before gitvend's first apply. It returns a result per stale object and
// the entries the inventory keeps: those not deleted for a reason that may
// pass.
func (r *Reconciler) prune(ctx context.Context, stale []entry, items []*item, since time.Time) ([]ObjectResult, []entry) {
	var first, last []entry
	results := make([]ObjectResult, 0, len(stale))
	pruning := map[key]bool{}
	for _, e := range stale {
		switch k := keyOfID(e.id); {
		case !e.origin.prunable():
			results = append(results, leftInPlace(e.id, "it existed in the cluster before gitvend applied it"))
		case k.isNamespace() || k.isCRD():
			last = append(last, e)
			pruning[k] = true
		default:
			first = append(first, e)
			pruning[k] = true
		}
	}
	var keep []entry
	run := func(entries []entry, one func(entry) (ObjectResult, bool)) {
		out := make([]ObjectResult, len(entries))
		keeps := make([]bool, len(entries))
		r.forEach(len(entries), func(i int) { out[i], keeps[i] = one(entries[i]) })
		for i, e := range entries {
			results = append(results, out[i])
			if keeps[i] {
				keep = append(keep, e)
			}
		}
	}
	run(first, func(e entry) (ObjectResult, bool) { return r.pruneOne(ctx, e, since) })

	inGit := map[string]bool{}
	for _, it := range items {
		inGit[it.key.Namespace] = true
	}
	run(last, func(e entry) (ObjectResult, bool) {
		id := e.id
		var msg string
		var err error
		switch k := keyOfID(id); {
		case k.isNamespace() && inGit[id.Name]:
			return ObjectResult{ID: id, Action: Skipped, Message: "not pruned: objects in Git still live in this namespace"}, true
		case k.isNamespace():
			msg, err = r.foreignObjects(ctx, id.Name, pruning)
		default:
			msg, err = r.foreignCustomResources(ctx, id.Name, pruning)
		}
		switch {
		case err != nil:
			return ObjectResult{ID: id, Action: Failed, Message: "not pruned: cannot tell what deleting it would delete: " + err.Error(), retryable: retryable(err)}, true
		case msg != "":
			return ObjectResult{ID: id, Action: Skipped, Message: "not pruned: deleting it would delete objects gitvend does not manage (" + msg + ")"}, true
		}
		return r.pruneOne(ctx, e, since)
	})
	return results, keep
}

// leftInPlace is the result of a stale object gitvend does not delete
// because it did not create it.
func leftInPlace(id manifest.ID, why string) ObjectResult {
	return ObjectResult{ID: id, Action: LeftInPlace, Message: "left Git but not pruned: " + why +
		" and was never adopted (" + AdoptAnnotation + `: "true"); gitvend no longer manages it`}
}

// pruneOne deletes one stale object if it is still gitvend's, exactly the
// version whose ownership was checked. An entry of unknown origin whose
// object is older than the inventory (created before since) is left in
// place. keep tells whether the inventory should go on listing it.
func (r *Reconciler) pruneOne(ctx context.Context, e entry, since time.Time) (res ObjectResult, keep bool) {
	id := e.id
	res.ID = id
	live := &metav1.PartialObjectMetadata{}
	live.SetGroupVersionKind(gvkOf(id))
	err := r.client.Get(ctx, client.ObjectKey{Namespace: id.Namespace, Name: id.Name}, live)
	switch {
	case apierrors.IsNotFound(err):
		res.Action, res.Message = Deleted, "already gone"
		return res, false
	case meta.IsNoMatchError(err):
		res.Action, res.Message = Deleted, "its kind is no longer served"
		return res, false
	case err != nil:
		res.Action, res.Message, res.retryable = Failed, "read before pruning: "+err.Error(), retryable(err)
		return res, true
	case e.origin == originUnknown && !since.IsZero() && live.GetCreationTimestamp().Time.Before(since):
		return leftInPlace(id, "it is older than gitvend's first apply to this target"), false
	case !owned(live):
		res.Action = Skipped
		res.Message = "not pruned: it no longer carries gitvend's field manager or the " + LabelManagedBy + "=" + ManagedBy + " label"
		return res, false
	case r.target.ReportOnly:
		res.Action, res.Message = Deleted, "left Git; would be pruned"
		return res, true
	}
	uid, rv := live.GetUID(), live.GetResourceVersion()
	err = r.client.Delete(ctx, live,
		client.Preconditions{UID: &uid, ResourceVersion: &rv},
		client.PropagationPolicy(metav1.DeletePropagationBackground))
	switch {
	case err == nil || apierrors.IsNotFound(err):
		res.Action = Deleted
		r.seen.forget(keyOfID(id))
		return res, false
	case apierrors.IsConflict(err):
		res.Action, res.Message, res.retryable = Failed, "changed while being pruned; the next apply checks it again", true
	default:
		res.Action, res.Message, res.retryable = Failed, "prune: "+err.Error(), retryable(err)
	}
	return res, true
}

// owned tells whether a live object still carries gitvend's ownership: a
// field manager entry of gitvend's or the managed-by label.
func owned(live *metav1.PartialObjectMetadata) bool {
	if live.GetLabels()[LabelManagedBy] == ManagedBy {
		return true
	}
	for _, mf := range live.GetManagedFields() {
		if mf.Manager == FieldManager {
			return true
		}
	}
	return false
}

// foreignObjects describes the objects in namespace that are neither
// being pruned, nor owned by another object, nor defaults Kubernetes puts
// there; "" when there are none.
func (r *Reconciler) foreignObjects(ctx context.Context, namespace string, pruning map[key]bool) (string, error) {
	lists, err := r.discovery.ServerPreferredNamespacedResources()
	if err != nil {
		return "", fmt.Errorf("discover namespaced kinds: %w", err)
	}
	var foreign []string
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range l.APIResources {
			gk := schema.GroupKind{Group: gv.Group, Kind: res.Kind}
			if !slices.Contains(res.Verbs, "list") || strings.Contains(res.Name, "/") || ignoredKind(gk) {
				continue
			}
			list, err := r.meta.Resource(gv.WithResource(res.Name)).Namespace(namespace).List(ctx, metav1.ListOptions{Limit: listPageSize})
			if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
				continue
			}
			if err != nil {
				return "", fmt.Errorf("list %s in %s: %w", res.Name, namespace, err)
			}
			foreign = appendForeign(foreign, list, gk, pruning)
		}
	}
	return describe(foreign), nil
}

// foreignCustomResources describes the custom resources of the CRD named
// crd that are neither being pruned nor owned by another object, since
// deleting the CRD deletes them all; "" when there are none.
func (r *Reconciler) foreignCustomResources(ctx context.Context, crd string, pruning map[key]bool) (string, error) {
	live := &unstructured.Unstructured{}
	live.SetAPIVersion("apiextensions.k8s.io/v1")
	live.SetKind("CustomResourceDefinition")
	if err := r.client.Get(ctx, client.ObjectKey{Name: crd}, live); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("read CRD %s: %w", crd, err)
	}
	group, _, _ := unstructured.NestedString(live.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(live.Object, "spec", "names", "kind")
	plural, _, _ := unstructured.NestedString(live.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(live.Object, "spec", "versions")
	var foreign []string
	for _, v := range versions {
		version, _ := v.(map[string]any)
		name, _, _ := unstructured.NestedString(version, "name")
		if served, _, _ := unstructured.NestedBool(version, "served"); !served {
			continue
		}
		list, err := r.meta.Resource(schema.GroupVersionResource{Group: group, Version: name, Resource: plural}).
			List(ctx, metav1.ListOptions{Limit: listPageSize})
		if err != nil {
			return "", fmt.Errorf("list %s: %w", plural, err)
		}
		foreign = appendForeign(foreign, list, schema.GroupKind{Group: group, Kind: kind}, pruning)
		break // every served version lists the same objects
	}
	return describe(foreign), nil
}

// appendForeign appends to foreign the objects of list that are neither
// being pruned, nor owned by another object, nor Kubernetes defaults. A
// list longer than one page counts the rest as foreign.
func appendForeign(foreign []string, list *metav1.PartialObjectMetadataList, gk schema.GroupKind, pruning map[key]bool) []string {
	for _, o := range list.Items {
		k := key{Group: gk.Group, Kind: gk.Kind, Namespace: o.Namespace, Name: o.Name}
		if pruning[k] || len(o.OwnerReferences) > 0 || kubernetesDefault(k) {
			continue
		}
		name := o.Name
		if o.Namespace != "" {
			name = o.Namespace + "/" + name
		}
		foreign = append(foreign, gk.Kind+"/"+name)
	}
	if list.Continue != "" {
		foreign = append(foreign, "more "+gk.Kind+" objects")
	}
	return foreign
}

// describe names up to maxForeignNamed foreign objects and counts the rest.
func describe(foreign []string) string {
	if len(foreign) == 0 {
		return ""
	}
	slices.Sort(foreign)
	msg := strings.Join(foreign[:min(len(foreign), maxForeignNamed)], ", ")
	if len(foreign) > maxForeignNamed {
		msg += fmt.Sprintf(" and %d more", len(foreign)-maxForeignNamed)
	}
	return msg
}

// ignoredKind tells whether objects of gk never keep a namespace from
// being pruned: records of what happened, and Endpoints, which Kubernetes
// keeps next to Services (and deprecates).
func ignoredKind(gk schema.GroupKind) bool {
	return gk.Kind == "Event" && (gk.Group == "" || gk.Group == "events.k8s.io") ||
		gk.Group == "" && gk.Kind == "Endpoints"
}

// kubernetesDefault tells whether k is an object Kubernetes itself creates
// in namespaces or next to Services.
func kubernetesDefault(k key) bool {
	switch {
	case k.Group == "" && k.Kind == "ServiceAccount" && k.Name == "default",
		k.Group == "" && k.Kind == "ConfigMap" && k.Name == "kube-root-ca.crt",
		k.Group == "discovery.k8s.io" && k.Kind == "EndpointSlice":
		return true
	}
	return false
}
