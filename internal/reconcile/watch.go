package reconcile

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
)

// Watch watches the managed objects among objs (their kinds in their
// namespaces, metadata only) and calls notify when one of them is changed
// or deleted by anyone but gitvend's own applies, as far as Watch can tell
// them apart; the dry-run comparison of Drift decides what really drifted.
// Changes arriving within the Reconciler's debounce interval are reported
// with one call. notify is also called once when the watches have listed
// the objects, since what changed before that arrives as no event. Watch
// blocks until ctx ends and then returns nil; it returns an error when no
// kind of objs can be watched. notify is never called concurrently.
func (r *Reconciler) Watch(ctx context.Context, objs []*unstructured.Unstructured, notify func()) error {
	items, err := r.prepareAll(ctx, objs)
	if err != nil {
		return err
	}
	managed := map[key]bool{}
	var watched []*item
	for _, it := range items {
		if it.res.Action == "" {
			managed[it.key] = true
			watched = append(watched, it)
		}
	}
	groups := groupsOf(watched)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	trigger := make(chan struct{}, 1)
	poke := func() {
		select {
		case trigger <- struct{}{}:
		default:
		}
	}
	factories := map[string]metadatainformer.SharedInformerFactory{}
	var synced []cache.InformerSynced
	for _, g := range groups {
		mapping, err := r.mapper.RESTMapping(g.gvk.GroupKind(), g.gvk.Version)
		if err != nil {
			r.log.Warn("cannot watch kind", "kind", g.gvk.Kind, "err", err)
			continue
		}
		f, ok := factories[g.namespace]
		if !ok {
			f = metadatainformer.NewFilteredSharedInformerFactory(r.meta, 0, g.namespace, nil)
			factories[g.namespace] = f
		}
		inf := f.ForResource(mapping.Resource).Informer()
		if err := inf.SetTransform(slimMetadata); err != nil {
			return fmt.Errorf("watch %s: %w", mapping.Resource, err)
		}
		if _, err := inf.AddEventHandler(r.watchHandler(g.gvk.GroupKind(), managed, poke)); err != nil {
			return fmt.Errorf("watch %s: %w", mapping.Resource, err)
		}
		synced = append(synced, inf.HasSynced)
	}
	if len(groups) > 0 && len(synced) == 0 {
		return fmt.Errorf("watch target %s: none of the managed kinds is served", r.target.Name)
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}
	defer func() {
		cancel()
		for _, f := range factories {
			f.Shutdown()
		}
	}()
	go func() {
		if cache.WaitForCacheSync(ctx.Done(), synced...) {
			poke()
		}
	}()

	for {
		select {
		case <-ctx.Done():
			return nil
		case <-trigger:
		}
		t := time.NewTimer(r.debounce)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		select {
		case <-trigger:
		default:
		}
		notify()
	}
}

// slimMetadata is what the watches' caches keep of an object: its name,
// namespace, UID and resourceVersion, all that watchHandler reads. The
// labels, annotations and managed fields a metadata watch receives are
// dropped before they are stored, so that a target's watch cache holds a
// few dozen bytes per object whatever the objects carry.
func slimMetadata(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil
	}
	return &metav1.PartialObjectMetadata{TypeMeta: m.TypeMeta, ObjectMeta: metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion}}, nil
}

// watchHandler calls poke for events on managed objects of kind gk that
// gitvend did not cause, leaving out the listing of what already exists.
func (r *Reconciler) watchHandler(gk schema.GroupKind, managed map[key]bool, poke func()) cache.ResourceEventHandler {
	keyOfMeta := func(obj any) (key, string, bool) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		m, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return key{}, "", false
		}
		k := key{Group: gk.Group, Kind: gk.Kind, Namespace: m.Namespace, Name: m.Name}
		return k, m.ResourceVersion, managed[k]
	}
	return cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			if k, rv, ok := keyOfMeta(obj); ok && !initial && !r.seen.own(k, rv) {
				poke()
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			_, oldRV, _ := keyOfMeta(oldObj)
			if k, rv, ok := keyOfMeta(newObj); ok && rv != oldRV && !r.seen.own(k, rv) {
				poke()
			}
		},
		DeleteFunc: func(obj any) {
			if _, _, ok := keyOfMeta(obj); ok {
				poke()
			}
		},
	}
}
