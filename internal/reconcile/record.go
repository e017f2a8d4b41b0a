package reconcile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/manifest"
)

// liveMark is what gitvend notes of a live object to know it again
// without reading it: its resourceVersion, which every write changes, and
// a fingerprint of its uid, generation, deletion timestamp and gitvend's
// own managed-fields entries, times included.
//
// Right after gitvend's own apply writes an object, gitvend's entry owns
// every field it sets. From then on the fingerprint stays the same
// through writes that cannot change those fields: a controller's status
// update, another manager's label. Any write that changes or removes a
// field gitvend owns moves it to the writer's managed-fields entry (an
// update by kubectl edit or patch, a forced apply, a mutating webhook
// acting on such a write), so gitvend's entry, and the fingerprint,
// change; a deleted and recreated object has a new uid; a change to the
// spec moves the generation. A match found at the mark of gitvend's own
// write therefore still holds at a mark with the same fingerprint (see
// seenCache.lookup). A match found by a comparison alone does not (another
// manager may own a field gitvend sets, with the same value, and change
// it later without touching gitvend's entry): it is kept with the
// resourceVersion only (versionOnly); so is a difference.
type liveMark struct {
	rv     string
	fields fieldsPrint
}

// fieldsPrint is the fingerprint of a liveMark; zero when not known.
type fieldsPrint [12]byte

// versionOnly returns m without its fingerprint.
func (m liveMark) versionOnly() liveMark { return liveMark{rv: m.rv} }

// sameFields tells whether m and o have the same known fingerprint.
func (m liveMark) sameFields(o liveMark) bool {
	return m.fields != fieldsPrint{} && m.fields == o.fields
}

// markOf returns the mark of a live object's metadata.
func markOf(o metav1.Object) liveMark {
	m := liveMark{rv: o.GetResourceVersion()}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", o.GetUID(), o.GetGeneration())
	if d := o.GetDeletionTimestamp(); d != nil {
		fmt.Fprintf(h, "deleting %s\x00", d.UTC().Format(time.RFC3339))
	}
	own := 0
	for _, f := range o.GetManagedFields() {
		if f.Manager != FieldManager {
			continue
		}
		own++
		at := ""
		if f.Time != nil {
			at = f.Time.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", f.Operation, f.APIVersion, f.Subresource, at)
		if f.FieldsV1 != nil {
			h.Write(f.FieldsV1.Raw)
		}
		h.Write([]byte{0})
	}
	if own > 0 {
		copy(m.fields[:], h.Sum(nil))
	}
	return m
}

// record is what the inventory keeps of an object gitvend last found
// matching Git: the mark of the live object then, and a keyed print of
// the desired content and that mark (see contentPrint). Empty when there
// is none.
type record struct {
	content contentPrint
	live    liveMark
}

// contentPrint is HMAC-SHA256 of a desired content digest and a live
// mark, keyed with the target's record key (kept in a Secret) and
// shortened. The inventory is a ConfigMap: a plain hash of an object
// would let whoever reads it test guesses of the values in it (a short
// password in a Secret, say), and whoever may write it could, without the
// key, set a record's mark to that of an object they edited and so hide
// the edit from the next start; with it, they can only put back records
// of marks the objects no longer have.
type contentPrint [16]byte

// recordKeyKey is the key of the record key in its Secret.
const recordKeyKey = "key"

// maxRecordsSize bounds the compressed records kept in the inventory
// ConfigMap beside the objects (whose own limit is 1 MiB in all); past it
// no records are kept, and a new Reconciler compares every object.
const maxRecordsSize = 512 << 10

// recordKeyName returns the name of the Secret holding target's record
// key, beside its inventory.
func (r *Reconciler) recordKeyName() string { return inventoryName(r.target) + "-key" }

// recordKey returns the key content prints are made with, read from its
// Secret once per Reconciler; create tells whether to create the Secret
// when it is missing. A nil key (and nil error) means there is none yet.
func (r *Reconciler) recordKey(ctx context.Context, create bool) ([]byte, error) {
	r.keyMu.Lock()
	defer r.keyMu.Unlock()
	if r.key != nil {
		return r.key, nil
	}
	nn := client.ObjectKey{Namespace: r.target.InventoryNamespace, Name: r.recordKeyName()}
	s := &corev1.Secret{}
	err := r.client.Get(ctx, nn, s)
	switch {
	case err == nil:
		if k := s.Data[recordKeyKey]; len(k) >= 32 {
			r.key = k
			return k, nil
		}
		return nil, fmt.Errorf("record key %s: %q holds fewer than 32 bytes", nn, recordKeyKey)
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("read record key %s: %w", nn, err)
	case !create:
		return nil, nil
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("draw record key: %w", err)
	}
	s = &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: nn.Namespace, Name: nn.Name,
			Labels: map[string]string{LabelManagedBy: ManagedBy, LabelTarget: r.target.Name}},
		Data: map[string][]byte{recordKeyKey: k},
	}
	err = r.client.Create(ctx, s, client.FieldOwner(FieldManager))
	if apierrors.IsAlreadyExists(err) {
		// Made by another process meanwhile: use that one.
		s = &corev1.Secret{}
		if err := r.client.Get(ctx, nn, s); err != nil {
			return nil, fmt.Errorf("read record key %s: %w", nn, err)
		}
		if k = s.Data[recordKeyKey]; len(k) < 32 {
			return nil, fmt.Errorf("record key %s: %q holds fewer than 32 bytes", nn, recordKeyKey)
		}
	} else if err != nil {
		return nil, fmt.Errorf("create record key %s: %w", nn, err)
	}
	r.key = k
	return k, nil
}

// printOf returns the print of content d found matching at live under
// key.
func printOf(key []byte, d digest, live liveMark) contentPrint {
	mac := hmac.New(sha256.New, key)
	mac.Write(d[:])
	mac.Write(live.fields[:])
	mac.Write([]byte(live.rv))
	var p contentPrint
	copy(p[:], mac.Sum(nil))
	return p
}

// seed offers the seen cache the matches inv records for the items
// whose desired content is the one recorded, so that a new Reconciler
// knows what an earlier one (or another process) found matching. Without
// a record key nothing is seeded and every object is compared.
func (r *Reconciler) seed(ctx context.Context, inv *inventory, items []*item) {
	if r.noRecords || !inv.hasRecords() {
		return
	}
	secret, err := r.recordKey(ctx, false)
	if err != nil || secret == nil {
		r.log.Debug("inventory records not used", "err", err)
		return
	}
	index := inv.index()
	for _, it := range items {
		e, ok := index[it.key]
		if !ok || e.rec.live.rv == "" || it.res.Action != "" || it.pending {
			continue
		}
		if p := printOf(secret, it.digest, e.rec.live); hmac.Equal(e.rec.content[:], p[:]) {
			r.seen.offer(it.key, it.digest, e.rec.live)
		}
	}
}

// seedOnce seeds the seen cache from the stored inventory the first time
// it is called, for uses that do not read the inventory themselves
// (drift).
func (r *Reconciler) seedOnce(ctx context.Context, items []*item) {
	r.keyMu.Lock()
	done := r.seeded
	r.seeded = true
	r.keyMu.Unlock()
	if done {
		return
	}
	inv, err := r.readInventory(ctx)
	if err != nil {
		r.log.Debug("inventory records not read", "err", err)
		return
	}
	r.seed(ctx, inv, items)
}

// withRecords returns inv with the records of what the seen cache knows
// matched the items' desired content, and without records for anything
// else. Without a record key (it cannot be read or made), or when the
// records would not fit, it keeps none.
func (r *Reconciler) withRecords(ctx context.Context, inv *inventory, items []*item) *inventory {
	out := &inventory{revision: inv.revision, since: inv.since, entries: make([]entry, len(inv.entries))}
	copy(out.entries, inv.entries)
	for i := range out.entries {
		out.entries[i].rec = record{}
	}
	secret, err := r.recordKey(ctx, true)
	if err != nil {
		r.log.Warn("inventory records not kept: a new process will compare every object", "err", err)
		return out
	}
	byKey := make(map[key]*item, len(items))
	for _, it := range items {
		if applicable(it) && it.done() {
			byKey[it.key] = it
		}
	}
	for i, e := range out.entries {
		it := byKey[keyOfID(e.id)]
		if it == nil {
			continue
		}
		if live, ok := r.seen.match(it.key, it.digest); ok {
			out.entries[i].rec = record{content: printOf(secret, it.digest, live), live: live}
		}
	}
	if data, err := out.encodeRecords(); err != nil || len(data) > maxRecordsSize {
		r.log.Warn("inventory records not kept: too many objects", "bytes", len(data), "err", err)
		for i := range out.entries {
			out.entries[i].rec = record{}
		}
	}
	return out
}

// hasRecords tells whether any entry has a record.
func (inv *inventory) hasRecords() bool {
	for _, e := range inv.entries {
		if e.rec.live.rv != "" {
			return true
		}
	}
	return false
}

var b64 = base64.RawStdEncoding

// encodeRecords writes the records in their stored form, gzip of one line
// per recorded entry: "apiVersion<TAB>kind<TAB>namespace<TAB>name<TAB>
// content<TAB>resourceVersion<TAB>fields", prints in unpadded base64 (an
// empty fields when not known). It returns nil when there is none.
func (inv *inventory) encodeRecords() ([]byte, error) {
	if !inv.hasRecords() {
		return nil, nil
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(zw)
	for _, e := range inv.entries {
		if e.rec.live.rv == "" {
			continue
		}
		fields := ""
		if e.rec.live.fields != (fieldsPrint{}) {
			fields = b64.EncodeToString(e.rec.live.fields[:])
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.id.APIVersion, e.id.Kind, e.id.Namespace, e.id.Name,
			b64.EncodeToString(e.rec.content[:]), e.rec.live.rv, fields)
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeRecords reads records in their stored form into inv's entries;
// a record of an object inv does not list is ignored.
func (inv *inventory) decodeRecords(data []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	index := make(map[key]int, len(inv.entries))
	for i, e := range inv.entries {
		index[keyOfID(e.id)] = i
	}
	sc := bufio.NewScanner(io.LimitReader(zr, 256<<20))
	line := 0
	for sc.Scan() {
		line++
		if line > maxInventoryLines {
			return fmt.Errorf("more than %d records", maxInventoryLines)
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 7 || f[0] == "" || f[1] == "" || f[3] == "" || f[5] == "" {
			return fmt.Errorf("line %d: want apiVersion, kind, namespace, name, content, resourceVersion and fields separated by tabs", line)
		}
		var rec record
		if err := decodePrint(rec.content[:], f[4]); err != nil {
			return fmt.Errorf("line %d: content: %w", line, err)
		}
		if f[6] != "" {
			if err := decodePrint(rec.live.fields[:], f[6]); err != nil {
				return fmt.Errorf("line %d: fields: %w", line, err)
			}
		}
		rec.live.rv = f[5]
		id := manifest.ID{APIVersion: f[0], Kind: f[1], Namespace: f[2], Name: f[3]}
		if i, ok := index[keyOfID(id)]; ok && inv.entries[i].id == id {
			inv.entries[i].rec = rec
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	return nil
}

// decodePrint decodes an unpadded base64 print of exactly len(dst) bytes.
func decodePrint(dst []byte, s string) error {
	b, err := b64.DecodeString(s)
	if err != nil {
		return err
	}
	if len(b) != len(dst) {
		return fmt.Errorf("%d bytes, want %d", len(b), len(dst))
	}
	copy(dst, b)
	return nil
}
