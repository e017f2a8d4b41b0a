package blueprint

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Output is a rendered request.
type Output struct {
	// Objects are the rendered objects: Namespaces first, then by kind and
	// name. File and Line are unset.
	Objects []manifest.Object
	// Parameters are the effective typed values (string, int64, bool),
	// defaults included, by name.
	Parameters map[string]any
}

// maxDepth bounds the nesting of rendered objects.
const maxDepth = 100

// Render checks the input and renders the blueprint for it. The same
// blueprint and input always give the same objects; parameter values are
// written as typed scalars and can never add keys, objects or documents.
// Problems with the input are *Errors naming the field, joined.
func (b *Blueprint) Render(ctx context.Context, in Input) (Output, error) {
	values, err := b.Resolve(in)
	if err != nil {
		return Output{}, err
	}
	comps := b.components(values)
	k, err := b.kustomization(in, comps)
	if err != nil {
		return Output{}, err
	}
	rm, err := b.build(ctx, k)
	if err != nil {
		if ctx.Err() != nil {
			return Output{}, fmt.Errorf("render blueprint %s: %w", b.Name, ctx.Err())
		}
		return Output{}, &field.Error{File: b.Source, Msg: err.Error()}
	}
	// The base name of every rendered object, for targets that name one.
	origin := map[string]string{}
	for _, id := range b.ids(comps) {
		to := id.Name
		switch {
		case id.Kind == "Namespace":
			to = in.Namespace
		case renamable(id):
			to = renamed(id, in.Name)
		}
		origin[id.Kind+"/"+to] = id.Name
	}
	resources := rm.Resources()
	for _, p := range b.Parameters {
		v, ok := values[p.Name]
		if !ok {
			continue
		}
		for _, t := range p.Targets {
			for _, r := range resources {
				if r.GetKind() != t.Kind {
					continue
				}
				if base, known := origin[r.GetKind()+"/"+r.GetName()]; t.Name != "" && (!known || base != t.Name) {
					continue
				}
				if err := setScalar(r.YNode(), t.steps, valueNode(p, t, in, v, values)); err != nil {
					return Output{}, &field.Error{File: b.file, Line: t.line, Field: t.field + ".path",
						Msg: fmt.Sprintf("cannot set parameter %s in %s %s: %v", p.Name, r.GetKind(), r.GetName(), err)}
				}
			}
		}
	}
	out := Output{Parameters: values, Objects: make([]manifest.Object, 0, len(resources))}
	for _, r := range resources {
		v, err := nodeValue(r.YNode(), 0)
		if err != nil {
			return Output{}, &field.Error{File: b.Source, Msg: fmt.Sprintf("%s %s: %v", r.GetKind(), r.GetName(), err)}
		}
		content, ok := v.(map[string]any)
		if !ok {
			return Output{}, &field.Error{File: b.Source, Msg: fmt.Sprintf("%s %s is not a mapping", r.GetKind(), r.GetName())}
		}
		o := manifest.Object{Content: content}
		o.APIVersion, _ = content["apiVersion"].(string)
		o.Kind, _ = content["kind"].(string)
		o.Name = r.GetName()
		o.Namespace = r.GetNamespace()
		out.Objects = append(out.Objects, o)
	}
	sortObjects(out.Objects)
	return out, nil
}

// sortObjects orders objects Namespaces first, then by kind, name,
// namespace and apiVersion.
func sortObjects(objs []manifest.Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i].ID, objs[j].ID
		if (a.Kind == "Namespace") != (b.Kind == "Namespace") {
			return a.Kind == "Namespace"
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.APIVersion < b.APIVersion
	})
}

// valueNode builds the scalar node a target receives: a string when the
// target has a format, otherwise the parameter's own type.
func valueNode(p *Parameter, t FieldTarget, in Input, v any, values map[string]any) *kyaml.Node {
	if t.format != nil {
		return &kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!str", Value: t.format.expand(in, v, values)}
	}
	switch t := v.(type) {
	case int64:
		return &kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(t, 10)}
	case bool:
		return &kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}
	}
	return &kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!str", Value: scalarString(v)}
}

// nodeValue converts a rendered node into the JSON-compatible values of
// manifest.Object.Content. Timestamps and other tags stay strings.
func nodeValue(n *kyaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("values nest deeper than %d levels", maxDepth)
	}
	switch n.Kind {
	case kyaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0], depth)
	case kyaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: unknown alias", n.Line)
		}
		return nodeValue(n.Alias, depth+1)
	case kyaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "<<" && n.Content[i].ShortTag() == "!!merge" {
				return nil, fmt.Errorf("line %d: YAML merge keys are not supported", n.Content[i].Line)
			}
			v, err := nodeValue(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case kyaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case kyaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, nil
			}
		case "!!int":
			var i int64
			if err := n.Decode(&i); err == nil {
				return i, nil
			}
			var f float64
			if err := n.Decode(&f); err == nil {
				return f, nil
			}
		case "!!float":
			var f float64
			if err := n.Decode(&f); err == nil {
				return f, nil
			}
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}
