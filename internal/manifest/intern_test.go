package manifest

import (
	"fmt"
	"strings"
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
// stops growing and strings come back as given.
func TestInternBounded(t *testing.T) {
	for i := 0; interned.n.Load() < maxInterned; i++ {
		Intern(fmt.Sprintf("ns-bound-%d", i))
	}
	s := "ns-past-the-bound"
	if got := Intern(s); got != s {
		t.Fatalf("Intern(%q) = %q", s, got)
	}
	if _, kept := interned.m.Load(s); kept || interned.n.Load() != maxInterned {
		t.Fatalf("the set grew past %d strings (%d)", maxInterned, interned.n.Load())
	}
}
