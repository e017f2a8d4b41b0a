package reconcile

import (
	"context"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// listPageSize bounds one page of a list of live objects.
const listPageSize = 500

// group is one kind in one namespace ("" for cluster-scoped kinds): the
// unit in which live objects are listed and watched.
type group struct {
	gvk       schema.GroupVersionKind
	namespace string
}

// groupsOf returns the distinct groups of items, in a stable order.
func groupsOf(items []*item) []group {
	set := map[group]bool{}
	var out []group
	for _, it := range items {
		g := it.group()
		if !set[g] {
			set[g] = true
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.gvk.String() != b.gvk.String() {
			return a.gvk.String() < b.gvk.String()
		}
		return a.namespace < b.namespace
	})
	return out
}

// group returns the group the item is listed and watched in.
func (it *item) group() group {
	return group{gvk: it.obj.GroupVersionKind(), namespace: it.key.Namespace}
}

// listVersions lists the live objects of g, metadata only, page by page,
// and returns the mark of each.
func (r *Reconciler) listVersions(ctx context.Context, g group) (map[key]liveMark, error) {
	out := map[key]liveMark{}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(g.gvk.GroupVersion().WithKind(g.gvk.Kind + "List"))
	opts := &client.ListOptions{Namespace: g.namespace, Limit: listPageSize}
	for {
		if err := r.client.List(ctx, list, opts); err != nil {
			return nil, err
		}
		for _, m := range list.Items {
			out[key{Group: g.gvk.Group, Kind: g.gvk.Kind, Namespace: m.Namespace, Name: m.Name}] = markOf(&m)
		}
		if list.Continue == "" {
			return out, nil
		}
		opts.Continue = list.Continue
	}
}

// listLive marks, for every undecided item not listed yet whose kind and
// namespace could be listed, whether it is live and its mark. Items whose list failed stay unlisted and take the
// slower path that reads them one by one.
func (r *Reconciler) listLive(ctx context.Context, all []*item) {
	var items []*item
	for _, it := range all {
		if it.res.Action == "" && !it.pending && !it.listed {
			items = append(items, it)
		}
	}
	groups := groupsOf(items)
	lives := make([]map[key]liveMark, len(groups))
	r.forEach(len(groups), func(i int) {
		live, err := r.listVersions(ctx, groups[i])
		if err != nil {
			r.log.Debug("list live objects", "kind", groups[i].gvk.Kind, "namespace", groups[i].namespace, "err", err)
			return
		}
		lives[i] = live
	})
	index := map[group]map[key]liveMark{}
	for i, g := range groups {
		index[g] = lives[i]
	}
	for _, it := range items {
		live := index[it.group()]
		if live == nil {
			continue
		}
		mark, ok := live[it.key]
		it.listed, it.existed, it.live = true, ok, fieldsTrusted(it, mark)
	}
}

// fieldsTrusted returns mark, without its fingerprint when the fields
// gitvend applies to it are not all kept as applied, so that gitvend's
// managed fields cannot tell a change of their values: a Secret's
// stringData, which the API server moves into data (another manager's
// edit of data leaves gitvend's entry, which names stringData, as it was).
// Such an object is known again by its resourceVersion only.
func fieldsTrusted(it *item, mark liveMark) liveMark {
	if _, ok := it.obj.Object["stringData"]; ok {
		mark.fields = fieldsPrint{}
	}
	return mark
}
