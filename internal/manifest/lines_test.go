package manifest

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// nodeFieldLine is FieldLine over the document's yaml.Node tree, as
// objects kept it before the line index: the reference the index must
// agree with.
func nodeFieldLine(n *yaml.Node, path []any) int {
	line := n.Line
	for _, p := range path {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		keyLine := 0
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next, keyLine = n.Content[i+1], n.Content[i].Line
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k >= 0 && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		if next == nil {
			return line
		}
		if keyLine > 0 {
			line = keyLine
		} else {
			line = next.Line
		}
		n = next
	}
	return line
}

// paths lists every path into v, and for each a step that leads nowhere.
func paths(v any, prefix []any, out *[][]any) {
	here := append([]any(nil), prefix...)
	*out = append(*out, here, append(append([]any(nil), here...), "absent"), append(append([]any(nil), here...), 99))
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			paths(c, append(here, k), out)
		}
	case []any:
		for i, c := range t {
			paths(c, append(here, i), out)
		}
	}
}

// TestLineIndexAsNodes: the line of every field, present or absent, of
// documents with nested mappings and lists, flow style, aliases and
// lists of objects is the line the yaml.Node tree gives.
func TestLineIndexAsNodes(t *testing.T) {
	docs := []string{
		`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: "front"}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: a
        image: x
        ports: [{containerPort: 80}, {containerPort: 443}]
      - name: b
        securityContext:
          privileged: true
        env:
        - {name: A, value: "1"}
`,
		`apiVersion: v1
kind: ConfigMap
metadata:
  name: c
base: &base
  a: 1
  nested:
    - x
    - y: 2
copy: *base
list: [*base, *base]
`,
		`apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: one}
  data: {k: v}
- apiVersion: v1
  kind: Secret
  metadata:
    name: two
  stringData:
    s: t
- &third
  apiVersion: v1
  kind: ConfigMap
  metadata: {name: three}
  data: &data {k: v, list: [a, b]}
  again: *data
- *third
`,
	}
	for i, src := range docs {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			t.Fatal(err)
		}
		objs, err := Decode(fmt.Sprintf("f%d.yaml", i), []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		for j, o := range objs {
			root := doc.Content[0]
			if o.Kind != "Deployment" && o.Kind != "ConfigMap" || i == 2 {
				root = yamlChild(yamlChild(root, "items"), j)
			}
			var all [][]any
			paths(o.Content, nil, &all)
			for _, p := range all {
				if got, want := o.FieldLine(p...), nodeFieldLine(root, p); got != want {
					t.Errorf("doc %d object %d: FieldLine(%v) = %d, the node tree gives %d", i, j, p, got, want)
				}
			}
		}
	}
}

// TestLineIndexOfAliasesCostsTheSource: a document whose aliases expand to
// a hundred thousand nodes (under what decoding accepts) keeps a line
// index the size of what is written, and its fields are still found
// through the aliases.
func TestLineIndexOfAliasesCostsTheSource(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 5; i++ {
		b.WriteString(strings.NewReplacer("N", strconv.Itoa(i), "P", strconv.Itoa(i-1)).Replace(
			"aN: &aN [*aP, *aP, *aP, *aP, *aP, *aP, *aP, *aP, *aP, *aP]\n"))
	}
	objs, err := Decode("aliases.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	o := objs[0]
	if n := len(o.lines.nodes); n > 100 {
		t.Errorf("line index of %d nodes for a document of 60 written nodes", n)
	}
	// a4[9] is an alias written on line 8; a4[9][3][0] lies in a0, line 4.
	for _, tt := range []struct {
		path []any
		want int
	}{{[]any{"a4", 9}, 8}, {[]any{"a4", 9, 3}, 7}, {[]any{"a4", 9, 3, 0, 0, 0}, 4}} {
		if got := o.FieldLine(tt.path...); got != tt.want {
			t.Errorf("FieldLine(%v) = %d, want %d", tt.path, got, tt.want)
		}
	}
}

// TestLineNodesHoldNoPointers: the nodes of a line index, kept for every
// object a check remembers, are numbers only, so the collector never walks
// them and they keep nothing of the parse alive.
func TestLineNodesHoldNoPointers(t *testing.T) {
	typ := reflect.TypeOf(lineNode{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch f.Type.Kind() {
		case reflect.Int32, reflect.Uint32, reflect.Int, reflect.Uint8:
		default:
			t.Errorf("lineNode.%s is a %s: a line index must hold numbers only", f.Name, f.Type)
		}
	}
}
