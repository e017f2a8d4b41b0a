package reconcile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/manifest"
)

// Keys of the inventory ConfigMap.
const (
	inventoryObjectsKey  = "objects.gz" // binaryData: gzip of one object per line
	inventoryRevisionKey = "revision"
	inventoryCountKey    = "count"
	inventoryFormatKey   = "format"
	inventoryFormat      = "v1"
	// maxInventoryLines bounds how many entries are read back, so that a
	// tampered ConfigMap cannot make gitvend decompress without end.
	maxInventoryLines = 1 << 20
)

// inventory is the record, kept in the cluster, of the objects gitvend
// applied to a target and the revision they came from. Entries are kept
// sorted and unique by key; each line of the stored form is
// "apiVersion<TAB>kind<TAB>namespace<TAB>name", gzip-compressed, so that
// tens of thousands of objects fit the 1 MiB a ConfigMap may hold.
type inventory struct {
	revision string
	entries  []manifest.ID
}

// newInventory returns an inventory of ids, deduplicated by key (the first
// apiVersion seen wins) and sorted.
func newInventory(revision string, ids []manifest.ID) *inventory {
	byKey := map[key]bool{}
	var out []manifest.ID
	for _, id := range ids {
		if k := keyOfID(id); !byKey[k] {
			byKey[k] = true
			out = append(out, id)
		}
	}
	slices.SortFunc(out, compareIDs)
	return &inventory{revision: revision, entries: out}
}

// with returns the inventory with ids added, keeping its revision.
func (inv *inventory) with(ids []manifest.ID) *inventory {
	return newInventory(inv.revision, append(slices.Clone(inv.entries), ids...))
}

// without returns the entries no item stands for: objects that left Git.
func (inv *inventory) without(items []*item) []manifest.ID {
	desired := map[key]bool{}
	for _, it := range items {
		desired[it.key] = true
	}
	var out []manifest.ID
	for _, id := range inv.entries {
		if !desired[keyOfID(id)] {
			out = append(out, id)
		}
	}
	return out
}

func (inv *inventory) has(k key) bool {
	for _, id := range inv.entries {
		if keyOfID(id) == k {
			return true
		}
	}
	return false
}

func (inv *inventory) equal(o *inventory) bool {
	return o != nil && inv.revision == o.revision && slices.Equal(inv.entries, o.entries)
}

// applicable lists the items the apply is responsible for: everything the
// target did not refuse.
func applicable(items []*item) []manifest.ID {
	var out []manifest.ID
	for _, it := range items {
		if it.res.Action != Refused && it.key.Kind != "" && it.key.Name != "" {
			out = append(out, it.res.ID)
		}
	}
	return out
}

// kept lists what the inventory keeps of the items after an apply: the
// applicable ones, and refused ones it already recorded, which are still in
// Git and must not be forgotten (forgetting them would let them escape a
// later prune).
func kept(items []*item, old *inventory) []manifest.ID {
	out := applicable(items)
	for _, it := range items {
		if it.res.Action == Refused && old.has(it.key) {
			out = append(out, it.res.ID)
		}
	}
	return out
}

// encode writes the entries in the stored form.
func (inv *inventory) encode() ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(zw)
	for _, id := range inv.entries {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", id.APIVersion, id.Kind, id.Namespace, id.Name)
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeInventory reads the stored form.
func decodeInventory(revision string, data []byte) (*inventory, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	sc := bufio.NewScanner(io.LimitReader(zr, 256<<20))
	var ids []manifest.ID
	for sc.Scan() {
		if len(ids) >= maxInventoryLines {
			return nil, fmt.Errorf("more than %d entries", maxInventoryLines)
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 4 || f[0] == "" || f[1] == "" || f[3] == "" {
			return nil, fmt.Errorf("line %d: want apiVersion, kind, namespace and name separated by tabs", len(ids)+1)
		}
		ids = append(ids, manifest.ID{APIVersion: f[0], Kind: f[1], Namespace: f[2], Name: f[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	return newInventory(revision, ids), nil
}

// readInventory reads the target's inventory; a missing one is empty.
func (r *Reconciler) readInventory(ctx context.Context) (*inventory, error) {
	cm := &corev1.ConfigMap{}
	nn := client.ObjectKey{Namespace: r.target.InventoryNamespace, Name: inventoryName(r.target)}
	if err := r.client.Get(ctx, nn, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return &inventory{}, nil
		}
		return nil, fmt.Errorf("read inventory %s: %w", nn, err)
	}
	data, ok := cm.BinaryData[inventoryObjectsKey]
	if !ok {
		return &inventory{revision: cm.Data[inventoryRevisionKey]}, nil
	}
	inv, err := decodeInventory(cm.Data[inventoryRevisionKey], data)
	if err != nil {
		return nil, fmt.Errorf("read inventory %s: %s is damaged (%w); fix or delete the ConfigMap", nn, inventoryObjectsKey, err)
	}
	return inv, nil
}

// writeInventory stores inv unless it equals prev, the inventory known to
// be stored, creating the inventory namespace when needed.
func (r *Reconciler) writeInventory(ctx context.Context, inv, prev *inventory) error {
	if inv.equal(prev) {
		return nil
	}
	data, err := inv.encode()
	if err != nil {
		return fmt.Errorf("encode inventory: %w", err)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":      inventoryName(r.target),
			"namespace": r.target.InventoryNamespace,
			"labels":    map[string]any{LabelManagedBy: ManagedBy, LabelTarget: r.target.Name},
		},
		"data": map[string]any{
			inventoryRevisionKey: inv.revision,
			inventoryCountKey:    strconv.Itoa(len(inv.entries)),
			inventoryFormatKey:   inventoryFormat,
		},
		"binaryData": map[string]any{inventoryObjectsKey: base64.StdEncoding.EncodeToString(data)},
	}}
	err = r.applyOwn(ctx, cm)
	if apierrors.IsNotFound(err) {
		ns := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1",
			"kind":       "Namespace",
			"metadata": map[string]any{
				"name":   r.target.InventoryNamespace,
				"labels": map[string]any{LabelManagedBy: ManagedBy},
			},
		}}
		if err := r.applyOwn(ctx, ns); err != nil {
			return fmt.Errorf("create inventory namespace %s: %w", r.target.InventoryNamespace, err)
		}
		err = r.applyOwn(ctx, cm)
	}
	if err != nil {
		return fmt.Errorf("write inventory %s/%s: %w", r.target.InventoryNamespace, inventoryName(r.target), err)
	}
	return nil
}

// applyOwn server-side applies one of gitvend's own objects.
func (r *Reconciler) applyOwn(ctx context.Context, u *unstructured.Unstructured) error {
	return r.client.Patch(ctx, u, client.Apply, client.ForceOwnership, client.FieldOwner(FieldManager))
}
