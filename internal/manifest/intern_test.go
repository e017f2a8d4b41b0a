package manifest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestInternSharesOneCopy(t *testing.T) {
	a := Intern(strings.Repeat("team-", 3) + "payments")
	b := Intern(strings.Clone("team-team-team-payments"))
	if a != b || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatalf("Intern gave two copies of %q", a)
	}
	docs, err := Decode("a.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: team-a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: team-a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.StringData(docs[0].Namespace) != unsafe.StringData(docs[1].Namespace) ||
		unsafe.StringData(docs[0].Kind) != unsafe.StringData(docs[1].Kind) {
		t.Fatal("two objects of one namespace and kind hold two copies of them")
	}
}

// TestSharedNamesAndDigests: objects read apart, as a base's and a
// head's are, hold one copy of equal names, field names and digests, so
// that matching them compares pointers.
func TestSharedNamesAndDigests(t *testing.T) {
	const doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared-name, namespace: team-a}\ndata: {k: v}\n"
	a, err := Decode("base/a.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Decode("head/a.yaml", []byte(strings.Clone(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.StringData(a[0].Name) != unsafe.StringData(b[0].Name) {
		t.Error("two reads of one object hold two copies of its name")
	}
	if da, db := a[0].Digest(), b[0].Digest(); da != db || unsafe.StringData(da) != unsafe.StringData(db) {
		t.Error("two reads of one object hold two copies of its digest")
	}
	keyOf := func(o Object) string {
		for k := range o.Content["data"].(map[string]any) {
			return k
		}
		return ""
	}
	if unsafe.StringData(keyOf(a[0])) != unsafe.StringData(keyOf(b[0])) {
		t.Error("two reads of one object hold two copies of a field name")
	}
}

// Input chooses the strings interned: past maxInterned of them, the set
// stops growing, even with checks interning at the same time, and
// strings come back as given.
func TestInternBounded(t *testing.T) {
	t.Cleanup(func() { interned.m.Clear(); interned.n.Store(0) }) // for the tests after it
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; i < maxInterned/2; i++ {
				if s := fmt.Sprintf("ns-bound-%d-%d", g, i); Intern(s) != s {
					t.Errorf("Intern(%q) gave another string", s)
					return
				}
			}
		})
	}
	wg.Wait()
	stored := 0
	interned.m.Range(func(any, any) bool { stored++; return true })
	if stored != maxInterned {
		t.Fatalf("%d strings kept, want the bound, %d", stored, maxInterned)
	}
	s := "ns-past-the-bound"
	if got := Intern(s); got != s {
		t.Fatalf("Intern(%q) = %q", s, got)
	}
	if _, kept := interned.m.Load(s); kept || interned.n.Load() != maxInterned {
		t.Fatalf("the set grew past %d strings (%d)", maxInterned, interned.n.Load())
	}
}
