package policy

import (
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
	seen := map[string]string{}
	for name, c := range contexts {
		if name == "no list" {
			continue // the same context as "plain"
		}
		key := subjectKeyOf("engine", Subject{Object: obj, Context: c}, "content")
		if other, dup := seen[key]; dup {
			t.Errorf("contexts %q and %q share a memo key", name, other)
		}
		seen[key] = name
	}
	plain := subjectKeyOf("engine", Subject{Object: obj, Context: contexts["plain"]}, "content")
	for _, other := range []string{
		subjectKeyOf("other engine", Subject{Object: obj, Context: contexts["plain"]}, "content"),
		subjectKeyOf("engine", Subject{Object: obj, Context: contexts["plain"]}, "other content"),
	} {
		if other == plain {
			t.Error("another engine or content shares the memo key")
		}
	}
}
