package reconcile

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/manifest"
)

// created returns entries of objects gitvend created.
func created(ids ...manifest.ID) []entry {
	out := make([]entry, len(ids))
	for i, id := range ids {
		out[i] = entry{id: id, origin: originCreated}
	}
	return out
}

func TestInventoryRoundTrip(t *testing.T) {
	inv := newInventory("abc", []entry{
		{id: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "b", Name: "web"}, origin: originCreated},
		{id: manifest.ID{APIVersion: "v1", Kind: "Namespace", Name: "b"}, origin: originExisting},
		{id: manifest.ID{APIVersion: "apps/v1beta2", Kind: "Deployment", Namespace: "b", Name: "web"}}, // same object
		{id: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "x"}, origin: originAdopted},
		{id: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "y"}, origin: originUnknown},
	})
	if len(inv.entries) != 4 {
		t.Fatalf("entries = %v, want 4 (one per object, whatever its version)", inv.entries)
	}
	data, err := inv.encode()
	if err != nil {
		t.Fatal(err)
	}
	again, err := inv.encode()
	if err != nil || !bytes.Equal(data, again) {
		t.Fatal("encoding is not deterministic")
	}
	got, err := decodeInventory("abc", data)
	if err != nil {
		t.Fatal(err)
	}
	if !got.equal(inv) {
		t.Errorf("round trip: %v, want %v", got.entries, inv.entries)
	}
}

func TestInventoryFitsAConfigMap(t *testing.T) {
	const n = 20000
	ids := make([]manifest.ID, 0, n)
	kinds := []string{"ConfigMap", "Service", "Deployment", "Secret", "RoleBinding"}
	for i := range n {
		ids = append(ids, manifest.ID{APIVersion: "v1", Kind: kinds[i%len(kinds)],
			Namespace: fmt.Sprintf("team-%03d", i%300), Name: fmt.Sprintf("service-%05d-with-a-long-name", i)})
	}
	data, err := newInventory("0123456789abcdef0123456789abcdef01234567", created(ids...)).encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 512<<10 {
		t.Errorf("%d objects take %d bytes, want well under the 1 MiB a ConfigMap holds", n, len(data))
	}
	t.Logf("%d objects: %d bytes", n, len(data))
}

func TestDecodeInventoryErrors(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("plain"), "decompress"},
		{"wrong fields", gz("v1\tConfigMap\n"), "line 1"},
		{"no name", gz("v1\tConfigMap\tns\t\n"), "line 1"},
		{"unknown origin", gz("v1\tConfigMap\tns\tx\tcreated\nv1\tConfigMap\tns\ty\tstolen\n"), `line 2: unknown origin "stolen"`},
		{"too many fields", gz("v1\tConfigMap\tns\tx\tcreated\textra\n"), "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeInventory("", tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestInventorySets(t *testing.T) {
	id := func(kind, name string) manifest.ID {
		return manifest.ID{APIVersion: "v1", Kind: kind, Namespace: "a", Name: name}
	}
	old := newInventory("r1", created(id("ConfigMap", "kept"), id("ConfigMap", "gone"), id("ConfigMap", "refused")))
	items := []*item{
		{key: keyOfID(id("ConfigMap", "kept")), res: ObjectResult{ID: id("ConfigMap", "kept"), Action: Unchanged}},
		{key: keyOfID(id("ConfigMap", "new")), res: ObjectResult{ID: id("ConfigMap", "new"), Action: Created}},
		{key: keyOfID(id("ConfigMap", "refused")), res: ObjectResult{ID: id("ConfigMap", "refused"), Action: Refused}},
		{key: keyOfID(id("ConfigMap", "elsewhere")), res: ObjectResult{ID: id("ConfigMap", "elsewhere"), Action: Refused}},
	}
	sortEntries := cmpopts.SortSlices(func(a, b entry) bool { return a.id.Less(b.id) })
	if diff := cmp.Diff(created(id("ConfigMap", "gone")), old.without(items), cmp.AllowUnexported(entry{}, record{}, liveMark{})); diff != "" {
		t.Errorf("stale (-want +got):\n%s", diff)
	}
	want := created(id("ConfigMap", "kept"), id("ConfigMap", "new"), id("ConfigMap", "refused"))
	if diff := cmp.Diff(want, kept(items, old), sortEntries, cmp.AllowUnexported(entry{}, record{}, liveMark{})); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
}

func TestInventoryReadsFormatV1(t *testing.T) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte("v1\tConfigMap\ta\tx\napps/v1\tDeployment\ta\tweb\n"))
	w.Close()
	inv, err := decodeInventory("r1", b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := []entry{
		{id: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "x"}, origin: originUnknown},
		{id: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "a", Name: "web"}, origin: originUnknown},
	}
	if diff := cmp.Diff(want, inv.entries, cmp.AllowUnexported(entry{}, record{}, liveMark{})); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestOriginOf(t *testing.T) {
	cm := func(annotations map[string]string) *unstructured.Unstructured {
		u := configMapObject("a", "x")
		u.SetAnnotations(annotations)
		return u
	}
	plain, adopt := cm(nil), cm(map[string]string{AdoptAnnotation: "true"})
	for _, tc := range []struct {
		name     string
		it       item
		recorded *origin
		want     origin
	}{
		{"created by this apply", item{obj: plain, res: ObjectResult{Action: Created}}, nil, originCreated},
		{"created again although found before", item{obj: plain, res: ObjectResult{Action: Created}}, ptr(originExisting), originCreated},
		{"listed absent, about to be created", item{obj: plain, listed: true}, nil, originCreated},
		{"listed absent, creation failed", item{obj: plain, listed: true, res: ObjectResult{Action: Failed}}, nil, originCreated},
		{"appeared between list and apply", item{obj: plain, listed: true, res: ObjectResult{Action: Configured}}, nil, originExisting},
		{"found", item{obj: plain, listed: true, existed: true, res: ObjectResult{Action: Configured}}, nil, originExisting},
		{"found, not known whether it existed", item{obj: plain}, nil, originExisting},
		{"found and adopted", item{obj: adopt, listed: true, existed: true}, nil, originAdopted},
		{"recorded created", item{obj: plain, listed: true, existed: true}, ptr(originCreated), originCreated},
		{"recorded created, annotation changes nothing", item{obj: adopt, listed: true, existed: true}, ptr(originCreated), originCreated},
		{"recorded found, now adopted", item{obj: adopt, listed: true, existed: true}, ptr(originExisting), originAdopted},
		{"recorded adopted, annotation removed", item{obj: plain, listed: true, existed: true}, ptr(originAdopted), originExisting},
		{"recorded before origins were kept", item{obj: plain, listed: true, existed: true}, ptr(originUnknown), originUnknown},
		{"a false annotation adopts nothing", item{obj: cm(map[string]string{AdoptAnnotation: "false"}), listed: true, existed: true}, nil, originExisting},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var recorded origin
			if tc.recorded != nil {
				recorded = *tc.recorded
			}
			if got := originOf(&tc.it, recorded, tc.recorded != nil); got != tc.want {
				t.Errorf("origin = %s, want %s", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestInventoryDecodedOncePerVersion: reads of an unchanged inventory
// share one decoding; an apply, or anyone's edit of the ConfigMap (a new
// resourceVersion), is decoded anew, so what was cached never hides what
// the cluster holds.
func TestInventoryDecodedOncePerVersion(t *testing.T) {
	f := newFixture(t)
	r := f.reconciler(t)
	ctx := t.Context()
	objs := objects(t, f.ns, basicObjects)
	mustApply(t, r, objs[:2], "rev1")
	read := func(records bool) *inventory {
		t.Helper()
		inv, err := r.readInventoryOf(ctx, records)
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	first, entries := read(true), read(false)
	if again := read(true); again != first {
		t.Error("an unchanged inventory was decoded again")
	}
	if again := read(false); again != entries {
		t.Error("an unchanged inventory without records was decoded again")
	}
	if len(first.entries) != 2 || len(entries.entries) != 2 {
		t.Fatalf("entries: %d and %d, want 2", len(first.entries), len(entries.entries))
	}
	mustApply(t, r, objs, "rev2")
	if after := read(true); after == first || len(after.entries) != len(objs) || after.revision != "rev2" {
		t.Errorf("after an apply: %d entries at %q, want %d at rev2", len(after.entries), after.revision, len(objs))
	}
	// Someone edits the inventory by hand: the next read sees it.
	f.kubectl(t, "-n", f.target.InventoryNamespace, "patch", "configmap", inventoryName(f.target), "--type=merge",
		"-p", `{"data":{"revision":"edited"}}`)
	edited := read(false)
	if edited.revision != "edited" {
		t.Errorf("after an edit: revision %q, want edited", edited.revision)
	}
	r.Release()
	if got := read(false); got == edited {
		t.Error("a released reconciler handed out the inventory it read before")
	}
}
