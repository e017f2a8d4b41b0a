package policy

import (
	"strconv"
	"testing"

	"github.com/gitvend/gitvend/internal/manifest"
)

// TestSubjectKeysTellContextsApart wants a different memo key for every
// context that policies can tell apart, including fields whose bytes
// run together and a missing list of namespaces against an empty one.
func TestSubjectKeysTellContextsApart(t *testing.T) {
	obj := &manifest.Object{ID: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "n", Name: "a"}}
	contexts := map[string]Context{
		"plain":            {Environment: "dev", Owner: "team-a", Namespace: "n"},
		"owner is empty":   {Environment: "dev", Namespace: "n"},
		"fields run on":    {Environment: "devt", Owner: "eam-a", Namespace: "n"},
		"owner, namespace": {Environment: "dev", Owner: "n", Namespace: "team-a"},
		"request":          {Environment: "dev", Request: "r", Owner: "team-a", Namespace: "n"},
		"no list":          {Environment: "dev", Owner: "team-a", Namespace: "n", AllowedNamespaces: nil},
		"empty list":       {Environment: "dev", Owner: "team-a", Namespace: "n", AllowedNamespaces: []string{}},
		"two namespaces":   {Environment: "dev", Owner: "team-a", Namespace: "n", AllowedNamespaces: []string{"a", "b"}},
		"one joined":       {Environment: "dev", Owner: "team-a", Namespace: "n", AllowedNamespaces: []string{"ab"}},
		"wildcard":         {Environment: "dev", Owner: "team-a", Namespace: "n", AllowedNamespaces: []string{"*"}},
	}
	seen := map[memoKey]string{}
	for name, c := range contexts {
		if name == "no list" {
			continue // the same context as "plain"
		}
		key := subjectKeyOf("engine", Subject{Object: obj, Context: c}, "content", contextKey(c))
		if other, dup := seen[key]; dup {
			t.Errorf("contexts %q and %q share a memo key", name, other)
		}
		seen[key] = name
	}
	plainKey := contextKey(contexts["plain"])
	plain := subjectKeyOf("engine", Subject{Object: obj, Context: contexts["plain"]}, "content", plainKey)
	v2 := *obj
	v2.ID.APIVersion = "v2"
	for _, other := range []memoKey{
		subjectKeyOf("other engine", Subject{Object: obj, Context: contexts["plain"]}, "content", plainKey),
		subjectKeyOf("engine", Subject{Object: obj, Context: contexts["plain"]}, "other content", plainKey),
		subjectKeyOf("engine", Subject{Object: &v2, Context: contexts["plain"]}, "content", plainKey),
	} {
		if other == plain {
			t.Error("another engine, content or apiVersion shares the memo key")
		}
	}
}

// TestMemoKeepsWhatIsAskedFor fills a memo past its bound again and
// again while asking for one subject every round: that subject stays,
// the memo never holds more than its bound, and a subject left alone is
// forgotten.
func TestMemoKeepsWhatIsAskedFor(t *testing.T) {
	m := NewMemo()
	asked, alone := memoKey{content: "asked"}, memoKey{content: "alone"}
	found := []memoFinding{{policy: 1, message: "m"}}
	m.put(asked, found)
	m.put(alone, found)
	for i := range 2 * memoSize {
		m.put(memoKey{content: strconv.Itoa(i)}, nil)
		if i%1000 == 0 {
			if fs, ok := m.get(asked); !ok || len(fs) != 1 || fs[0].message != "m" {
				t.Fatalf("after %d subjects the one asked for is gone", i)
			}
		}
		if n := len(m.cur) + len(m.old); n > memoSize {
			t.Fatalf("the memo holds %d subjects, more than %d", n, memoSize)
		}
	}
	if _, ok := m.get(alone); ok {
		t.Error("a subject nobody asked for is still remembered")
	}
}
