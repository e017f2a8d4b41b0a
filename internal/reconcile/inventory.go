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
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/manifest"
)

// Keys of the inventory ConfigMap.
const (
	inventoryObjectsKey  = "objects.gz" // binaryData: gzip of one object per line
	inventoryRecordsKey  = "records.gz" // binaryData: gzip of one record per line (see record)
	inventoryRevisionKey = "revision"
	inventoryCountKey    = "count"
	inventoryFormatKey   = "format"
	inventoryFormat      = "v2"
	// maxInventoryLines bounds how many entries are read back, so that a
	// tampered ConfigMap cannot make gitvend decompress without end.
	maxInventoryLines = 1 << 20
)

// origin is how an object came to be in a target's inventory, which
// decides whether gitvend may prune it.
type origin uint8

const (
	// originUnknown: recorded before the inventory kept origins (format
	// v1). Pruned unless the object is older than the inventory.
	originUnknown origin = iota
	// originCreated: gitvend created the object; pruned when it leaves Git.
	originCreated
	// originAdopted: the object existed before gitvend applied it, and the
	// object in Git carries AdoptAnnotation; pruned when it leaves Git.
	originAdopted
	// originExisting: the object existed before gitvend applied it and was
	// not adopted; gitvend applies it but never prunes it.
	originExisting
)

var originNames = map[origin]string{
	originUnknown: "unknown", originCreated: "created", originAdopted: "adopted", originExisting: "existing",
}

func (o origin) String() string { return originNames[o] }

// prunable tells whether an object of this origin may be pruned by gitvend
// (an unknown origin still needs a look at the live object).
func (o origin) prunable() bool { return o != originExisting }

func parseOrigin(s string) (origin, bool) {
	for o, name := range originNames {
		if name == s {
			return o, true
		}
	}
	return 0, false
}

// entry is one object of an inventory, how it came there and, when
// gitvend last found it matching Git, the record of that.
type entry struct {
	id     manifest.ID
	origin origin
	rec    record
}

// inventory is the record, kept in the cluster, of the objects gitvend
// applied to a target, how each came under gitvend's management, and the
// revision they came from. Entries are kept sorted and unique by key; each
// line of the stored form is
// "apiVersion<TAB>kind<TAB>namespace<TAB>name<TAB>origin" (format v2; v1
// lines lack the origin), gzip-compressed, so that tens of thousands of
// objects fit the 1 MiB a ConfigMap may hold. since is when the inventory
// was first written: gitvend's first apply to the target.
type inventory struct {
	revision string
	entries  []entry
	since    time.Time
}

// newInventory returns an inventory of entries, deduplicated by key (the
// first seen wins) and sorted.
func newInventory(revision string, entries []entry) *inventory {
	byKey := map[key]bool{}
	var out []entry
	for _, e := range entries {
		if k := keyOfID(e.id); !byKey[k] {
			byKey[k] = true
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return compareIDs(a.id, b.id) })
	return &inventory{revision: revision, entries: out}
}

// with returns the inventory with entries added or, for keys it has,
// replaced, keeping its revision and start.
func (inv *inventory) with(entries []entry) *inventory {
	out := newInventory(inv.revision, append(slices.Clone(entries), inv.entries...))
	out.since = inv.since
	return out
}

// index maps the entries by key.
func (inv *inventory) index() map[key]entry {
	out := make(map[key]entry, len(inv.entries))
	for _, e := range inv.entries {
		out[keyOfID(e.id)] = e
	}
	return out
}

// without returns the entries no item stands for: objects that left Git.
func (inv *inventory) without(items []*item) []entry {
	desired := map[key]bool{}
	for _, it := range items {
		desired[it.key] = true
	}
	return inv.withoutKeys(desired)
}

// withoutKeys returns the entries whose objects desired lacks.
func (inv *inventory) withoutKeys(desired map[key]bool) []entry {
	var out []entry
	for _, e := range inv.entries {
		if !desired[keyOfID(e.id)] {
			out = append(out, e)
		}
	}
	return out
}

func (inv *inventory) equal(o *inventory) bool {
	return o != nil && inv.revision == o.revision && slices.Equal(inv.entries, o.entries)
}

// applicable tells whether the apply is responsible for the item:
// everything the target did not refuse, once its scope is known.
func applicable(it *item) bool {
	return it.res.Action != Refused && !it.pending && !it.unscoped && it.key.Kind != "" && it.key.Name != ""
}

// entries returns the inventory entries of the applicable items, each with
// its origin (see originOf) and the record inv has of it.
func (inv *inventory) entriesOf(items []*item) []entry {
	index := inv.index()
	var out []entry
	for _, it := range items {
		if applicable(it) {
			old, recorded := index[it.key]
			e := entry{id: it.res.ID, origin: originOf(it, old.origin, recorded)}
			if recorded && old.id == it.res.ID {
				e.rec = old.rec
			}
			out = append(out, e)
		}
	}
	return out
}

// originOf decides the origin of an applicable item: created when this
// apply created it or, before the apply, when the list of live objects
// shows it absent; for an object the inventory records, the recorded
// origin, switched between adopted and existing as the object in Git
// carries AdoptAnnotation or not; otherwise (the object existed, or
// whether it did is not known) adopted or existing.
func originOf(it *item, recorded origin, isRecorded bool) origin {
	adopt := adopted(it.obj)
	switch {
	case it.res.Action == Created:
		return originCreated
	case isRecorded && recorded == originExisting && adopt:
		return originAdopted
	case isRecorded && recorded == originAdopted && !adopt:
		return originExisting
	case isRecorded:
		return recorded
	case it.listed && !it.existed && (it.res.Action == "" || it.res.Action == Failed):
		// About to be created, or its creation failed: nothing else
		// was there.
		return originCreated
	case adopt:
		return originAdopted
	}
	return originExisting
}

// kept lists what the inventory keeps of the items after an apply: the
// applicable ones, and refused ones it already recorded, which are still in
// Git and must not be forgotten (forgetting them would let them escape a
// later prune).
func kept(items []*item, old *inventory) []entry {
	out := old.entriesOf(items)
	index := old.index()
	for _, it := range items {
		if e, ok := index[it.key]; ok && it.res.Action == Refused {
			out = append(out, e)
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
	for _, e := range inv.entries {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.id.APIVersion, e.id.Kind, e.id.Namespace, e.id.Name, e.origin)
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeInventory reads the stored form, of format v2 or v1 (whose entries
// have an unknown origin).
func decodeInventory(revision string, data []byte) (*inventory, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	sc := bufio.NewScanner(io.LimitReader(zr, 256<<20))
	var entries []entry
	for sc.Scan() {
		if len(entries) >= maxInventoryLines {
			return nil, fmt.Errorf("more than %d entries", maxInventoryLines)
		}
		f := strings.Split(sc.Text(), "\t")
		if (len(f) != 4 && len(f) != 5) || f[0] == "" || f[1] == "" || f[3] == "" {
			return nil, fmt.Errorf("line %d: want apiVersion, kind, namespace, name and origin separated by tabs", len(entries)+1)
		}
		e := entry{id: manifest.ID{APIVersion: f[0], Kind: f[1], Namespace: f[2], Name: f[3]}}
		if len(f) == 5 {
			o, ok := parseOrigin(f[4])
			if !ok {
				return nil, fmt.Errorf("line %d: unknown origin %q", len(entries)+1, f[4])
			}
			e.origin = o
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	return newInventory(revision, entries), nil
}

// readInventory reads the target's inventory, with the records of what
// was applied; a missing one is empty.
func (r *Reconciler) readInventory(ctx context.Context) (*inventory, error) {
	return r.readInventoryOf(ctx, true)
}

// readEntries reads the target's inventory without the records, for
// those that only ask what it holds (adoptions): decoding the records of
// every object would cost more than the question.
func (r *Reconciler) readEntries(ctx context.Context) (*inventory, error) {
	return r.readInventoryOf(ctx, false)
}

// decodedInventory is an inventory as decoded from one version of its
// ConfigMap, with or without its records.
type decodedInventory struct {
	uid     types.UID
	version string
	inv     *inventory
}

// inventories keeps the inventory decoded last, with and without its
// records, so that reads of an unchanged ConfigMap (every plan and every
// adoption check between two applies) do not decode it again. The
// inventories it hands out are shared: nobody changes one in place.
type inventories struct {
	mu   sync.Mutex
	last [2]decodedInventory // without, with records
}

func (c *inventories) get(cm *corev1.ConfigMap, records bool) *inventory {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.last[b2i(records)]; d.inv != nil && d.uid == cm.UID && d.version == cm.ResourceVersion {
		return d.inv
	}
	return nil
}

func (c *inventories) add(cm *corev1.ConfigMap, records bool, inv *inventory) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last[b2i(records)] = decodedInventory{uid: cm.UID, version: cm.ResourceVersion, inv: inv}
}

func (c *inventories) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = [2]decodedInventory{}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *Reconciler) readInventoryOf(ctx context.Context, records bool) (*inventory, error) {
	cm := &corev1.ConfigMap{}
	nn := client.ObjectKey{Namespace: r.target.InventoryNamespace, Name: inventoryName(r.target)}
	if err := r.client.Get(ctx, nn, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return &inventory{}, nil
		}
		return nil, fmt.Errorf("read inventory %s: %w", nn, err)
	}
	if inv := r.inventories.get(cm, records); inv != nil {
		return inv, nil
	}
	inv, err := r.decodeInventoryOf(nn, cm, records)
	if err == nil {
		r.inventories.add(cm, records, inv)
	}
	return inv, err
}

// decodeInventoryOf decodes the inventory the ConfigMap cm (named nn)
// holds.
func (r *Reconciler) decodeInventoryOf(nn client.ObjectKey, cm *corev1.ConfigMap, records bool) (*inventory, error) {
	data, ok := cm.BinaryData[inventoryObjectsKey]
	if !ok {
		return &inventory{revision: cm.Data[inventoryRevisionKey], since: cm.CreationTimestamp.Time}, nil
	}
	inv, err := decodeInventory(cm.Data[inventoryRevisionKey], data)
	if err != nil {
		return nil, fmt.Errorf("read inventory %s: %s is damaged (%w); fix or delete the ConfigMap", nn, inventoryObjectsKey, err)
	}
	inv.since = cm.CreationTimestamp.Time
	if recs, ok := cm.BinaryData[inventoryRecordsKey]; ok && records {
		if err := inv.decodeRecords(recs); err != nil {
			// Records only spare comparisons: without them every
			// object is compared, and the next apply writes them anew.
			r.log.Warn("inventory records damaged; comparing every object", "inventory", nn, "err", err)
			for i := range inv.entries {
				inv.entries[i].rec = record{}
			}
		}
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
	recs, err := inv.encodeRecords()
	if err != nil {
		return fmt.Errorf("encode inventory records: %w", err)
	}
	binaryData := map[string]any{inventoryObjectsKey: base64.StdEncoding.EncodeToString(data)}
	if recs != nil {
		binaryData[inventoryRecordsKey] = base64.StdEncoding.EncodeToString(recs)
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
		"binaryData": binaryData,
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
