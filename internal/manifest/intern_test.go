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
