package field

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

type testDoc struct {
	Name    string            `yaml:"name" field:"required"`
	Count   int               `yaml:"count"`
	Ratio   float64           `yaml:"ratio"`
	On      bool              `yaml:"on"`
	Every   time.Duration     `yaml:"every"`
	Limit   *int64            `yaml:"limit"`
	Tags    []string          `yaml:"tags"`
	Labels  map[string]string `yaml:"labels"`
	Inner   testInner         `yaml:"inner"`
	Items   []testInner       `yaml:"items"`
	ByName  map[string]testInner
	Free    any       `yaml:"free"`
	Raw     yaml.Node `yaml:"raw"`
	Skipped string    `yaml:"-"`
	hidden  string
}

type testInner struct {
	Kind string `yaml:"kind" field:"required"`
	Path string `yaml:"path"`
	N    int    `yaml:"n"`
}

// problem is an *Error without its file, for comparisons.
type problem struct {
	Line  int
	Field string
	Msg   string
}

func problems(err error) []problem {
	var out []problem
	for _, e := range All(err) {
		out = append(out, problem{e.Line, e.Field, e.Msg})
	}
	return out
}

const allowedDoc = "allowed: name, count, ratio, on, every, limit, tags, labels, inner, items, byname, free, raw"

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []problem
	}{
		{"valid", "name: a\ncount: 2\nratio: 1\non: true\nevery: 5m\nlimit: 9\ntags: [x]\nlabels: {a: b}\ninner: {kind: K}\nitems: [{kind: K}]\nbyname: {x: {kind: K}}\nfree: {any: [thing]}\nraw: [1]\n", nil},
		{"every unknown field with its line", "name: a\ncolour: red\ninner:\n  kind: K\n  size: 3\nitems:\n- kind: K\n  shape: round\n  weight: 2\n", []problem{
			{2, "colour", "unknown field; " + allowedDoc},
			{5, "inner.size", "unknown field; allowed: kind, path, n"},
			{8, "items[0].shape", "unknown field; allowed: kind, path, n"},
			{9, "items[0].weight", "unknown field; allowed: kind, path, n"},
		}},
		{"skipped and unexported fields are unknown", "name: a\nskipped: x\nhidden: y\n", []problem{
			{2, "skipped", "unknown field; " + allowedDoc},
			{3, "hidden", "unknown field; " + allowedDoc},
		}},
		{"wrong scalar types", "name: a\ncount: many\nratio: high\non: yes\nevery: 300\nlimit: 1.5\n", []problem{
			{2, "count", `must be a whole number, got "many"`},
			{3, "ratio", `must be a number, got "high"`},
			{4, "on", `must be true or false, got "yes"`},
			{5, "every", `must be a duration such as 30s, 5m or 1h, got "300"`},
			{6, "limit", `must be a whole number, got "1.5"`},
		}},
		{"quoted number is no integer", "name: a\ncount: \"3\"\n", []problem{{2, "count", `must be a whole number, got "3"`}}},
		{"integer overflows", "name: a\ncount: 99999999999999999999\n", []problem{{2, "count", `must be a whole number, got "99999999999999999999"`}}},
		{"wrong kinds", "name: [a]\ntags: x\nlabels: [a]\ninner: 3\nitems: {kind: K}\n", []problem{
			{1, "name", "must be a string"},
			{2, "tags", "must be a list"},
			{3, "labels", "must be a mapping"},
			{4, "inner", "must be a mapping with the fields kind, path, n"},
			{5, "items", "must be a list"},
		}},
		{"nested in lists and maps", "name: a\nitems:\n- kind: K\n- n: x\nbyname:\n  first:\n    kind: K\n    n: [1]\n  second: {kind: K, extra: 1}\n", []problem{
			{4, "items[1].n", `must be a whole number, got "x"`},
			{4, "items[1].kind", "is required"},
			{8, "byname.first.n", "must be a whole number"},
			{9, "byname.second.extra", "unknown field; allowed: kind, path, n"},
		}},
		{"required missing or null", "count: 1\ninner: {path: p}\nitems: [{kind: ~}]\n", []problem{
			{2, "inner.kind", "is required"},
			{3, "items[0].kind", "is required"},
			{1, "name", "is required"},
		}},
		{"set twice", "name: a\ncount: 1\ncount: 2\nlabels: {a: b, a: c}\n", []problem{
			{3, "count", "is set twice (first on line 2)"},
			{4, "labels.a", "is set twice (first on line 4)"},
		}},
		{"merge keys", "name: a\nitems:\n- &base {kind: K, n: 1}\n- <<: *base\n  n: 2\n- <<: [*base, {path: p}]\n  color: red\n- <<: 3\n  kind: K\n", []problem{
			{7, "items[2].color", "unknown field; allowed: kind, path, n"},
			{8, "items[3]", "a merge key (<<) must bring in a mapping"},
		}},
		{"merged unknown field", "name: a\nx: &x {kind: K, bad: 1}\ninner: {<<: *x}\n", []problem{
			{2, "x", "unknown field; " + allowedDoc},
			{2, "inner.bad", "unknown field; allowed: kind, path, n"},
		}},
		{"merge of itself ends", "name: a\ninner: &x {kind: K, <<: *x}\n", []problem{{0, "", "invalid YAML: anchor 'x' value contains itself"}}},
		{"not a mapping", "- a\n", []problem{{1, "", "must be a mapping with the fields name, count, ratio, on, every, limit, tags, labels, inner, items, byname, free, raw"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out testDoc
			_, err := Unmarshal("f.yaml", []byte(tt.in), &out)
			got := problems(err)
			for i := range got {
				if i < len(tt.want) && strings.Contains(got[i].Msg, tt.want[i].Msg) {
					got[i].Msg = tt.want[i].Msg
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("problems (-want +got):\n%s\nfull error:\n%v", d, err)
			}
			for _, e := range All(err) {
				if e.File != "f.yaml" {
					t.Errorf("error %q does not name the file", e)
				}
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	in := `name: a
count: 2
ratio: 3
every: 90s
limit: 7
tags: [x, 5]
labels: {a: b}
inner: &in {kind: K, path: p}
items:
- <<: *in
  n: 4
free: {k: [1, two]}
raw: {r: 1}
`
	var got testDoc
	lines, err := Unmarshal("f.yaml", []byte(in), &got)
	if err != nil {
		t.Fatal(err)
	}
	seven := int64(7)
	want := testDoc{Name: "a", Count: 2, Ratio: 3, Every: 90 * time.Second, Limit: &seven, Tags: []string{"x", "5"},
		Labels: map[string]string{"a": "b"}, Inner: testInner{Kind: "K", Path: "p"}, Items: []testInner{{Kind: "K", Path: "p", N: 4}},
		Free: map[string]any{"k": []any{1, "two"}}}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(testDoc{}), cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Raw" }, cmp.Ignore())); d != "" {
		t.Errorf("decoded (-want +got):\n%s", d)
	}
	if got.Raw.Kind != yaml.MappingNode || got.Raw.Line != 13 {
		t.Errorf("raw node = %+v", got.Raw)
	}
	wantLines := Lines{"name": 1, "count": 2, "ratio": 3, "every": 4, "limit": 5, "tags": 6, "tags[0]": 6, "tags[1]": 6,
		"labels": 7, "labels.a": 7, "inner": 8, "inner.kind": 8, "inner.path": 8, "items": 9, "items[0]": 10,
		"items[0].kind": 8, "items[0].path": 8, "items[0].n": 11, "free": 12, "raw": 13}
	if d := cmp.Diff(wantLines, lines); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
	for path, want := range map[string]int{"items[0].n": 11, "items[0].missing": 10, "github.x": 0, "": 0, "labels.b": 7} {
		if got := lines.Of(path); got != want {
			t.Errorf("Of(%q) = %d, want %d", path, got, want)
		}
	}
	if !lines.Has("free") || lines.Has("on") {
		t.Errorf("Has: free %v, on %v", lines.Has("free"), lines.Has("on"))
	}
}

func TestDecodeKeepsWhatItCan(t *testing.T) {
	var got testDoc
	_, err := Unmarshal("f.yaml", []byte("name: a\ncount: many\ncolour: red\ntags: [x]\n"), &got)
	if err == nil {
		t.Fatal("want errors")
	}
	if got.Name != "a" || len(got.Tags) != 1 {
		t.Errorf("partial result = %+v", got)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     problem
	}{
		{"empty", "", problem{0, "", "file is empty"}},
		{"only a comment", "# nothing\n", problem{0, "", "file is empty"}},
		{"only null", "---\n~\n", problem{0, "", "file is empty"}},
		{"syntax", "a: [\n", problem{1, "", "invalid YAML: did not find expected node content"}},
		{"two documents", "a: 1\n---\nb: 2\n", problem{2, "", "must hold exactly one YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.in))
			if d := cmp.Diff([]problem{tt.want}, problems(err)); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}

func TestLocate(t *testing.T) {
	lines := Lines{"spec": 4, "spec.a": 5}
	a, b, c := &Error{Field: "spec.a"}, &Error{Field: "spec.b"}, &Error{Field: "meta", Line: 9}
	lines.Locate(errors.Join(a, b, c))
	if a.Line != 5 || b.Line != 4 || c.Line != 9 {
		t.Errorf("lines = %d, %d, %d; want 5, 4, 9", a.Line, b.Line, c.Line)
	}
}

// tree nests without end, so that only the node budget bounds the walk.
type tree []tree

func TestDecodeBoundsAliases(t *testing.T) {
	// Each list holds the previous one twice: 2^40 nodes if aliases were
	// followed without a bound.
	var b strings.Builder
	b.WriteString("- &a0 []\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "- &a%d [*a%d, *a%d]\n", i, i-1, i-1)
	}
	var out []tree
	_, err := Unmarshal("f.yaml", []byte(b.String()), &out)
	want := []problem{{2, "[16]" + strings.Repeat("[0]", 15) + "[1]", "the document expands to more than 131072 nodes"}}
	if d := cmp.Diff(want, problems(err)); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}

// FuzzUnmarshal decodes arbitrary bytes: it never panics, and every
// problem is an *Error of the file.
func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte("name: a\nitems: [{kind: K, n: 1}]\nbyname: {x: {kind: K}}\n"))
	f.Add([]byte("name: a\ninner: &x {kind: K}\nitems: [*x, {<<: *x, n: 2}]\n"))
	f.Add([]byte("- &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out testDoc
		_, err := Unmarshal("f.yaml", data, &out)
		if err == nil {
			return
		}
		all := All(err)
		if len(all) == 0 {
			t.Fatalf("error without an *Error: %v", err)
		}
		for _, e := range all {
			if e.File != "f.yaml" || e.Msg == "" {
				t.Fatalf("bad problem %+v", e)
			}
		}
	})
}
