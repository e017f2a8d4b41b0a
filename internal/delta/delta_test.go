package delta

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/gitvend/gitvend/internal/manifest"
)

// object decodes a ConfigMap named name holding value.
func object(t *testing.T, name, value string) *manifest.Object {
	t.Helper()
	objs, err := manifest.Decode("test.yaml", []byte(fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: ns}\ndata: {v: %q}\n", name, value)))
	if err != nil || len(objs) != 1 {
		t.Fatalf("decode %s: %v", name, err)
	}
	return &objs[0]
}

type item struct {
	env string
	obj *manifest.Object
}

// TestMatch matches heads against a base and wants which head objects
// are the same, which are new or changed and which base objects changed
// or left; with good hints, wrong ones and none alike. A key twice, in
// the base or the head, matches nothing.
func TestMatch(t *testing.T) {
	base := []item{{"dev", object(t, "a", "1")}, {"dev", object(t, "b", "1")}, {"", nil}, {"prod", object(t, "a", "1")}}
	x := NewIndex(len(base))
	for i, it := range base {
		if it.obj != nil {
			x.Add(i, it.env, it.obj)
		}
	}
	head := []item{{"prod", object(t, "a", "1")}, {"dev", object(t, "a", "2")}, {"dev", object(t, "c", "1")}, {"", nil}}
	want := &Match{Same: []int{3, -1, -1, -1}, HeadAt: []int{1, -1, -1, 0}, Fresh: []int{1, 2}, Gone: []bool{true, true, false, false}}
	of := func(items []item) func(int) (string, *manifest.Object) {
		return func(i int) (string, *manifest.Object) { return items[i].env, items[i].obj }
	}
	for name, hint := range map[string][]int{
		"no hints":     nil,
		"good hints":   {3, 0, -1, -1},
		"wrong hints":  {0, 3, 1, 2},
		"out of range": {99, -5, 4, 1000},
		"short":        {3},
	} {
		got, ok := x.Match(len(head), of(head), hint)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v (%v), want %+v", name, got, ok, want)
		}
	}
	twice := append(append([]item(nil), head...), item{"dev", object(t, "c", "2")})
	if _, ok := x.Match(len(twice), of(twice), nil); ok {
		t.Error("a head that holds a key twice was matched")
	}
	again := append(append([]item(nil), head...), head[0])
	if _, ok := x.Match(len(again), of(again), nil); ok {
		t.Error("a head that holds a base key twice was matched")
	}
	x.Add(2, "dev", object(t, "a", "3"))
	if x.Unique() {
		t.Error("a base that holds a key twice is taken as unique")
	}
	if _, ok := x.Match(len(head), of(head), nil); ok {
		t.Error("a head was matched against a base that holds a key twice")
	}
}

// TestHeadMatchesOncePerIndex matches one head against two indexes and
// wants each index's own match, the first worked out once.
func TestHeadMatchesOncePerIndex(t *testing.T) {
	a, b := object(t, "a", "1"), object(t, "b", "1")
	one, other := NewIndex(1), NewIndex(1)
	one.Add(0, "dev", a)
	other.Add(0, "dev", b)
	calls := 0
	h := NewHead(1, func(int) (string, *manifest.Object) { calls++; return "dev", a }, nil)
	first, _ := h.Match(one)
	again, _ := h.Match(one)
	if first != again || calls != 1 {
		t.Errorf("matched against the same index twice: %d walks, same result %v", calls, first == again)
	}
	m, ok := h.Match(other)
	if !ok || m.Same[0] != -1 || !m.Gone[0] {
		t.Errorf("against another index: %+v (%v), want a fresh match that keeps nothing", m, ok)
	}
}
