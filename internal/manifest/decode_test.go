package manifest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/field"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []ID
		lines   []int
		wantErr []string
	}{
		{
			name: "multi-document with empty documents and comments",
			in: `# leading comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: ns
---
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b}
`,
			want:  []ID{{"v1", "ConfigMap", "ns", "a"}, {"apps/v1", "Deployment", "", "b"}},
			lines: []int{3, 10},
		},
		{
			name: "v1 List is expanded",
			in: `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: s}
- apiVersion: v1
  kind: Secret
  metadata: {name: t}
`,
			want:  []ID{{"v1", "Service", "", "s"}, {"v1", "Secret", "", "t"}},
			lines: []int{4, 7},
		},
		{
			name:    "missing kind and name",
			in:      "apiVersion: v1\nmetadata: {}\n",
			wantErr: []string{"f.yaml:1: kind: is required"},
		},
		{
			name:    "name of the wrong type",
			in:      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: 7\n",
			wantErr: []string{"f.yaml:4: metadata.name: must be a non-empty string"},
		},
		{
			name:    "scalar document",
			in:      "just text\n",
			wantErr: []string{"f.yaml:1: a document must be a mapping with apiVersion, kind and metadata"},
		},
		{
			name:    "syntax error names its line",
			in:      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n",
			wantErr: []string{"f.yaml:3: invalid YAML"},
		},
		{
			name:    "duplicate key",
			in:      "apiVersion: v1\nkind: Pod\nkind: Service\nmetadata: {name: a}\n",
			wantErr: []string{"f.yaml:3: kind: key is defined twice"},
		},
		{
			name: "good document kept next to a bad one",
			in:   "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: b}\n",
			want: []ID{{"v1", "Pod", "", "a"}}, lines: []int{1},
			wantErr: []string{"f.yaml:5: apiVersion: is required"},
		},
		{
			name: "merge keys and anchors",
			in: `apiVersion: v1
kind: ConfigMap
metadata: &m
  name: c
data:
  <<: {a: "1"}
  b: "2"
`,
			want: []ID{{"v1", "ConfigMap", "", "c"}}, lines: []int{1},
		},
		{
			name:    "non-string keys are refused",
			in:      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  ? [a]\n  : b\n",
			wantErr: []string{"f.yaml:5: data: mapping keys must be strings"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode("f.yaml", []byte(tt.in))
			var ids []ID
			var lines []int
			for _, o := range objs {
				ids = append(ids, o.ID)
				lines = append(lines, o.Line)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.lines, lines); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			var got []string
			for _, e := range field.All(err) {
				got = append(got, e.Error())
			}
			if len(got) != len(tt.wantErr) {
				t.Fatalf("errors = %q, want prefixes %q", got, tt.wantErr)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.wantErr[i]) {
					t.Errorf("error %d = %q, want prefix %q", i, got[i], tt.wantErr[i])
				}
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	objs, err := Decode("f.yaml", []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data:
  int: 3
  float: 1.5
  bool: true
  null: ~
  date: 2024-01-02
  str: "3"
  list: [1, two]
  alias: &a x
  again: *a
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"int": int64(3), "float": 1.5, "bool": true, "null": nil, "date": "2024-01-02",
		"str": "3", "list": []any{int64(1), "two"}, "alias": "x", "again": "x"}
	if diff := cmp.Diff(want, objs[0].Content["data"]); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

func TestFieldLine(t *testing.T) {
	objs, err := Decode("f.yaml", []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: a
        image: x
      - name: b
        securityContext:
          privileged: true
`))
	if err != nil {
		t.Fatal(err)
	}
	o := objs[0]
	tests := []struct {
		path []any
		want int
	}{
		{nil, 1},
		{[]any{"metadata", "name"}, 4},
		{[]any{"spec", "template", "spec", "containers", 1, "securityContext", "privileged"}, 13},
		{[]any{"spec", "template", "spec", "containers", int64(0), "image"}, 10},
		{[]any{"spec", "template", "spec", "containers", 1, "resources", "limits"}, 11},
		{[]any{"spec", "replicas"}, 5},
	}
	for _, tt := range tests {
		if got := o.FieldLine(tt.path...); got != tt.want {
			t.Errorf("FieldLine(%v) = %d, want %d", tt.path, got, tt.want)
		}
	}
}

func TestDecodeAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		p := i - 1
		b.WriteString(strings.NewReplacer("N", string(rune('0'+i)), "P", string(rune('0'+p))).Replace(
			"aN: &aN [*aP, *aP, *aP, *aP, *aP, *aP, *aP, *aP, *aP, *aP]\n"))
	}
	_, err := Decode("bomb.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("expected an error for a document that expands without bound")
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	in := `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: n
  labels:
    b: "2"
    a: "1"
data:
  z: "yes"
  a: "0123"
  n: "null"
  multi: |
    line one
    line two
`
	objs, err := Decode("f.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Encode(objs[0].Content)
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: "n"
  labels:
    a: "1"
    b: "2"
data:
  a: "0123"
  multi: |
    line one
    line two
  "n": "null"
  z: "yes"
`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("encoded (-want +got):\n%s", diff)
	}
	again, err := Decode("g.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(objs[0].Content, again[0].Content); diff != "" {
		t.Errorf("round trip changed content (-want +got):\n%s", diff)
	}
}

func TestScope(t *testing.T) {
	tests := []struct {
		id                ID
		namespaced, known bool
	}{
		{ID{APIVersion: "v1", Kind: "Namespace"}, false, true},
		{ID{APIVersion: "apps/v1", Kind: "Deployment"}, true, true},
		{ID{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"}, false, true},
		{ID{APIVersion: "example.com/v1", Kind: "Widget"}, false, false},
	}
	for _, tt := range tests {
		ns, known := Scope(tt.id)
		if ns != tt.namespaced || known != tt.known {
			t.Errorf("Scope(%s) = %v, %v; want %v, %v", tt.id.GroupKind(), ns, known, tt.namespaced, tt.known)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"))
	f.Add([]byte("---\n- a\n---\n{a: *b}\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [1, {kind: Pod}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Decode("fuzz.yaml", data)
		for _, o := range objs {
			if o.Kind == "" || o.APIVersion == "" {
				t.Fatalf("object without kind or apiVersion returned: %+v", o.ID)
			}
			if _, encErr := Encode(o.Content); encErr != nil {
				t.Fatalf("decoded object does not encode: %v", encErr)
			}
		}
		for _, e := range field.All(err) {
			if e.File != "fuzz.yaml" || e.Msg == "" {
				t.Fatalf("error without file or message: %#v", e)
			}
		}
	})
}

func TestEncodeKeepsEveryString(t *testing.T) {
	for _, s := range []string{"\n- x", "  indented\nmore", "a: b", "---", "yes", "line\n", "\ttab\n", "{}", "#c", "x\n\n\n"} {
		out, err := Encode(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}, "data": map[string]any{"v": s}})
		if err != nil {
			t.Fatal(err)
		}
		objs, err := Decode("f.yaml", out)
		if err != nil || len(objs) != 1 {
			t.Fatalf("%q: re-decode: %v (%d objects)\n%s", s, err, len(objs), out)
		}
		if got := objs[0].Content["data"].(map[string]any)["v"]; got != s {
			t.Errorf("%q came back as %q\n%s", s, got, out)
		}
	}
}
