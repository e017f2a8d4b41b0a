package policy

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/config"
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

// TestLocalsGivenBack gives what one evaluation found about each subject
// (EvaluateKeeping) back with the same subjects to another engine of the
// same policies, whose memo is empty: it finds the same without looking a
// subject up or evaluating one. An engine with other settings passes over
// what it is given and judges by its own.
func TestLocalsGivenBack(t *testing.T) {
	ctx := context.Background()
	in := Input{Subjects: subjects(decode(t, mixed), requestContext)}
	want, locals, err := engine(t).EvaluateKeeping(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Violations) == 0 || len(locals) != len(in.Subjects) {
		t.Fatalf("%d violations, %d locals for %d subjects: want findings and one local each", len(want.Violations), len(locals), len(in.Subjects))
	}
	again := Input{Subjects: slices.Clone(in.Subjects)}
	for i := range again.Subjects {
		again.Subjects[i].Local = locals[i]
	}
	same, err := New(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := same.Evaluate(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("given back (-want +got):\n%s", diff)
	}
	if hits, misses := same.MemoStats(); hits+misses != 0 {
		t.Errorf("%d subjects looked up and %d evaluated, want none", hits, misses)
	}

	off := want.Violations[0].Policy
	other, err := New(ctx, Options{Settings: config.Policy{Policies: map[string]config.PolicySetting{off: {Severity: "off"}}}})
	if err != nil {
		t.Fatal(err)
	}
	wantOther, err := other.Evaluate(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	gotOther, err := other.Evaluate(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantOther, gotOther); diff != "" {
		t.Errorf("another engine took what it was given (-want +got):\n%s", diff)
	}
	for _, v := range gotOther.Violations {
		if v.Policy == off {
			t.Errorf("policy %s is off, yet found %s", off, v.Message)
		}
	}
}
