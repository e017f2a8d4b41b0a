package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/field"
)

// MaxNodes bounds how many YAML nodes one document may expand to, aliases
// included, so that a crafted file cannot exhaust memory.
const MaxNodes = 1 << 20

// MaxDepth bounds how deeply one document's values may nest.
const MaxDepth = 128

// Decode reads every YAML document of data as a Kubernetes object. Empty
// documents are skipped and a v1 List is expanded into its items. Documents
// that are not objects give a *field.Error each (joined into the returned error)
// while the valid ones are still returned; a syntax error stops decoding at
// its line.
func Decode(file string, data []byte) ([]Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var objs []Object
	var errs []error
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, field.YAMLError(file, err))
			break
		}
		got, err := decodeDocument(file, &doc)
		objs = append(objs, got...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return objs, errors.Join(errs...)
}

func decodeDocument(file string, doc *yaml.Node) ([]Object, error) {
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &field.Error{File: file, Line: root.Line, Msg: "a document must be a mapping with apiVersion, kind and metadata"}
	}
	retagYAML11Bools(root)
	budget := MaxNodes
	v, err := toValue(root, &budget, "")
	if err != nil {
		var e *field.Error
		if errors.As(err, &e) {
			e.File = file
			return nil, e
		}
		return nil, &field.Error{File: file, Line: root.Line, Msg: err.Error()}
	}
	content := v.(map[string]any)
	if isList(content) {
		return decodeList(file, root, content)
	}
	obj, err := newObject(file, root, content)
	if err != nil {
		return nil, err
	}
	return []Object{obj}, nil
}

func isList(m map[string]any) bool {
	kind, _ := m["kind"].(string)
	api, _ := m["apiVersion"].(string)
	return api == "v1" && strings.HasSuffix(kind, "List") && m["items"] != nil
}

// yamlChild returns the node under n at step p: a key of a mapping or an
// index into a sequence; nil when there is none.
func yamlChild(n *yaml.Node, p any) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch k := p.(type) {
	case string:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					return n.Content[i+1]
				}
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && k >= 0 && k < len(n.Content) {
			return n.Content[k]
		}
	}
	return nil
}

func decodeList(file string, root *yaml.Node, content map[string]any) ([]Object, error) {
	items, ok := content["items"].([]any)
	itemsNode := yamlChild(root, "items")
	if !ok || itemsNode == nil {
		return nil, &field.Error{File: file, Line: root.Line, Field: "items", Msg: "must be a list of objects"}
	}
	var objs []Object
	var errs []error
	for i, it := range items {
		m, ok := it.(map[string]any)
		n := yamlChild(itemsNode, i)
		if !ok || n == nil {
			errs = append(errs, &field.Error{File: file, Line: itemsNode.Line, Field: fmt.Sprintf("items[%d]", i), Msg: "must be an object"})
			continue
		}
		obj, err := newObject(file, n, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objs = append(objs, obj)
	}
	return objs, errors.Join(errs...)
}

// newObject checks the identity fields of content and builds an Object.
func newObject(file string, node *yaml.Node, content map[string]any) (Object, error) {
	o := Object{Content: content, File: file, Line: node.Line, lines: indexLines(node)}
	identity := func(path ...string) (string, error) {
		v, ok := Lookup(content, path...)
		name := strings.Join(path, ".")
		line := o.FieldLine(anyPath(path)...)
		if !ok || v == nil {
			return "", &field.Error{File: file, Line: line, Field: name, Msg: "is required"}
		}
		s, ok := v.(string)
		if !ok || s == "" {
			return "", &field.Error{File: file, Line: line, Field: name, Msg: "must be a non-empty string"}
		}
		return s, nil
	}
	var errs []error
	var err error
	if o.APIVersion, err = identity("apiVersion"); err != nil {
		errs = append(errs, err)
	}
	if o.Kind, err = identity("kind"); err != nil {
		errs = append(errs, err)
	}
	if md, ok := content["metadata"]; ok {
		if _, isMap := md.(map[string]any); !isMap {
			errs = append(errs, &field.Error{File: file, Line: o.FieldLine("metadata"), Field: "metadata", Msg: "must be a mapping"})
		}
	}
	if len(errs) == 0 {
		if o.Name, err = identity("metadata", "name"); err != nil {
			if _, hasGenerate := Lookup(content, "metadata", "generateName"); !hasGenerate {
				errs = append(errs, err)
			}
		}
		if ns, ok := Lookup(content, "metadata", "namespace"); ok && ns != nil {
			s, isString := ns.(string)
			if !isString {
				errs = append(errs, &field.Error{File: file, Line: o.FieldLine("metadata", "namespace"), Field: "metadata.namespace", Msg: "must be a string"})
			}
			o.Namespace = s
		}
	}
	o.APIVersion, o.Kind, o.Namespace, o.Name = Intern(o.APIVersion), Intern(o.Kind), Intern(o.Namespace), Shared(o.Name)
	return o, errors.Join(errs...)
}

func anyPath(path []string) []any {
	out := make([]any, len(path))
	for i, p := range path {
		out[i] = p
	}
	return out
}

// toValue converts a YAML node into a JSON-compatible value. Timestamps stay
// strings, as they do in Kubernetes, and merge keys are applied.
func toValue(n *yaml.Node, budget *int, path string) (any, error) {
	*budget--
	if *budget < 0 {
		return nil, &field.Error{Line: n.Line, Field: strings.TrimPrefix(path, "."), Msg: fmt.Sprintf("document expands to more than %d nodes", MaxNodes)}
	}
	if strings.Count(path, ".")+strings.Count(path, "[") > MaxDepth {
		return nil, &field.Error{Line: n.Line, Field: strings.TrimPrefix(path, "."), Msg: fmt.Sprintf("values nest deeper than %d levels (an alias may refer to itself)", MaxDepth)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, &field.Error{Line: n.Line, Field: strings.TrimPrefix(path, "."), Msg: "unknown alias"}
		}
		return toValue(n.Alias, budget, path)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toValue(n.Content[0], budget, path)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, err := toValue(c, budget, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return mappingValue(n, budget, path)
	case yaml.ScalarNode:
		return scalarValue(n, path)
	}
	return nil, &field.Error{Line: n.Line, Field: strings.TrimPrefix(path, "."), Msg: "unsupported YAML node"}
}

func mappingValue(n *yaml.Node, budget *int, path string) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	explicit := make(map[string]bool, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode || (k.Tag != "!!str" && k.Tag != "!!int" && k.Tag != "!!bool" && k.Tag != "!!float" && k.Tag != "!!null") {
			return nil, &field.Error{Line: k.Line, Field: strings.TrimPrefix(path, "."), Msg: "mapping keys must be strings"}
		}
		// Field names repeat in every object: one copy of each is kept,
		// held only while some object uses it.
		key := Shared(k.Value)
		if explicit[key] {
			return nil, &field.Error{Line: k.Line, Field: strings.TrimPrefix(path+"."+key, "."), Msg: "key is defined twice"}
		}
		explicit[key] = true
		val, err := toValue(v, budget, path+"."+key)
		if err != nil {
			return nil, err
		}
		out[key] = val
	}
	for _, m := range merges {
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, s := range srcs {
			v, err := toValue(s, budget, path)
			if err != nil {
				return nil, err
			}
			mm, ok := v.(map[string]any)
			if !ok {
				return nil, &field.Error{Line: s.Line, Field: strings.TrimPrefix(path, "."), Msg: "merge key (<<) must refer to a mapping"}
			}
			for k, val := range mm {
				if _, set := out[k]; !set {
					out[k] = val
				}
			}
		}
	}
	return out, nil
}

func scalarValue(n *yaml.Node, path string) (any, error) {
	bad := func(what string) error {
		return &field.Error{Line: n.Line, Field: strings.TrimPrefix(path, "."), Msg: fmt.Sprintf("%q is not a valid %s", n.Value, what)}
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, bad("boolean")
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			var f float64
			if ferr := n.Decode(&f); ferr != nil {
				return nil, bad("integer")
			}
			return f, nil
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, bad("number")
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, bad("finite number")
		}
		return f, nil
	}
	return n.Value, nil
}
