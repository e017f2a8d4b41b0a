package reconcile

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitvend/gitvend/internal/manifest"
)

func TestInventoryRoundTrip(t *testing.T) {
	inv := newInventory("abc", []manifest.ID{
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "b", Name: "web"},
		{APIVersion: "v1", Kind: "Namespace", Name: "b"},
		{APIVersion: "apps/v1beta2", Kind: "Deployment", Namespace: "b", Name: "web"}, // same object
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "x"},
	})
	if len(inv.entries) != 3 {
		t.Fatalf("entries = %v, want 3 (one per object, whatever its version)", inv.entries)
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
	data, err := newInventory("0123456789abcdef0123456789abcdef01234567", ids).encode()
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
	old := newInventory("r1", []manifest.ID{id("ConfigMap", "kept"), id("ConfigMap", "gone"), id("ConfigMap", "refused")})
	items := []*item{
		{key: keyOfID(id("ConfigMap", "kept")), res: ObjectResult{ID: id("ConfigMap", "kept"), Action: Unchanged}},
		{key: keyOfID(id("ConfigMap", "new")), res: ObjectResult{ID: id("ConfigMap", "new"), Action: Created}},
		{key: keyOfID(id("ConfigMap", "refused")), res: ObjectResult{ID: id("ConfigMap", "refused"), Action: Refused}},
		{key: keyOfID(id("ConfigMap", "elsewhere")), res: ObjectResult{ID: id("ConfigMap", "elsewhere"), Action: Refused}},
	}
	sortIDs := cmpopts.SortSlices(func(a, b manifest.ID) bool { return a.Less(b) })
	if diff := cmp.Diff([]manifest.ID{id("ConfigMap", "gone")}, old.without(items)); diff != "" {
		t.Errorf("stale (-want +got):\n%s", diff)
	}
	want := []manifest.ID{id("ConfigMap", "kept"), id("ConfigMap", "new"), id("ConfigMap", "refused")}
	if diff := cmp.Diff(want, kept(items, old), sortIDs); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
}
