package blueprint

import (
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/utils"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// stepKind tells what one step of a field path does.
type stepKind int

const (
	stepField  stepKind = iota // a mapping key
	stepSelect                 // a list element chosen by [key=value] or [=value]
	stepIndex                  // a list element chosen by position
)

// step is one element of a kyaml field path such as
// spec.template.spec.containers.[name=app].image.
type step struct {
	kind  stepKind
	field string // stepField: the key; stepSelect: the key to match ("" for scalar elements)
	value string // stepSelect: the value to match
	index int    // stepIndex
}

func (s step) String() string {
	switch s.kind {
	case stepSelect:
		return "[" + s.field + "=" + s.value + "]"
	case stepIndex:
		return strconv.Itoa(s.index)
	}
	if strings.Contains(s.field, ".") {
		return "[" + s.field + "]"
	}
	return s.field
}

// parsePath reads a kyaml field path: keys separated by dots, keys holding
// dots in brackets ([gitvend.dev/ttl]), list elements as [key=value],
// [=value] or a position. The path must end at a key or a list element.
func parsePath(p string) ([]step, error) {
	if p == "" {
		return nil, fmt.Errorf("is required")
	}
	var steps []step
	for _, part := range utils.SmarterPathSplitter(p, ".") {
		switch {
		case part == "":
			return nil, fmt.Errorf("has an empty element in %q", p)
		case part == "-" || part == "*":
			return nil, fmt.Errorf("element %q is not allowed: a target names one existing field", part)
		case kyaml.IsListIndex(part):
			key, value, err := kyaml.SplitIndexNameValue(part)
			if err != nil {
				return nil, fmt.Errorf("element %q: %w", part, err)
			}
			steps = append(steps, step{kind: stepSelect, field: key, value: value})
		case kyaml.IsIdxNumber(part):
			i, _ := strconv.Atoi(part)
			steps = append(steps, step{kind: stepIndex, index: i})
		case strings.ContainsAny(part, "[]"):
			return nil, fmt.Errorf("element %q has unbalanced brackets", part)
		default:
			steps = append(steps, step{kind: stepField, field: part})
		}
	}
	if steps[len(steps)-1].kind == stepSelect && steps[len(steps)-1].field != "" {
		return nil, fmt.Errorf("must end at a scalar field, not at the list element %s", steps[len(steps)-1])
	}
	return steps, nil
}

// setScalar writes val at the field path below root. Missing mappings on the
// way are created; list elements must already exist, and the field set must
// be absent, null or a scalar, so that a target can only ever replace one
// scalar with another.
func setScalar(root *kyaml.Node, steps []step, val *kyaml.Node) error {
	cur := root
	if cur.Kind == kyaml.DocumentNode && len(cur.Content) == 1 {
		cur = cur.Content[0]
	}
	var done []string
	where := func() string {
		if len(done) == 0 {
			return "the object"
		}
		return strings.Join(done, ".")
	}
	for i, s := range steps {
		last := i == len(steps)-1
		if cur.Kind == kyaml.AliasNode {
			return fmt.Errorf("%s is a YAML alias; targets cannot follow aliases", where())
		}
		switch s.kind {
		case stepField:
			if cur.Kind != kyaml.MappingNode {
				return fmt.Errorf("%s is %s, not a mapping", where(), nodeKind(cur))
			}
			at := -1
			for j := 0; j+1 < len(cur.Content); j += 2 {
				if cur.Content[j].Value == s.field {
					at = j + 1
				}
			}
			if last {
				if at >= 0 {
					if !isNull(cur.Content[at]) && cur.Content[at].Kind != kyaml.ScalarNode {
						return fmt.Errorf("%s.%s is %s, not a scalar", where(), s, nodeKind(cur.Content[at]))
					}
					cur.Content[at] = val
					return nil
				}
				cur.Content = append(cur.Content, &kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!str", Value: s.field}, val)
				return nil
			}
			if at < 0 || isNull(cur.Content[at]) {
				if steps[i+1].kind != stepField {
					return fmt.Errorf("%s has no list %s", where(), s)
				}
				m := &kyaml.Node{Kind: kyaml.MappingNode, Tag: "!!map"}
				if at < 0 {
					cur.Content = append(cur.Content, &kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!str", Value: s.field}, m)
				} else {
					cur.Content[at] = m
				}
				cur = m
			} else {
				cur = cur.Content[at]
			}
		case stepSelect, stepIndex:
			if cur.Kind != kyaml.SequenceNode {
				return fmt.Errorf("%s is %s, not a list", where(), nodeKind(cur))
			}
			at := -1
			if s.kind == stepIndex {
				if s.index < len(cur.Content) {
					at = s.index
				}
			} else {
				for j, e := range cur.Content {
					if matches(e, s) {
						at = j
						break
					}
				}
			}
			if at < 0 {
				return fmt.Errorf("%s has no element %s", where(), s)
			}
			if last {
				if cur.Content[at].Kind != kyaml.ScalarNode {
					return fmt.Errorf("%s.%s is %s, not a scalar", where(), s, nodeKind(cur.Content[at]))
				}
				cur.Content[at] = val
				return nil
			}
			cur = cur.Content[at]
		}
		done = append(done, s.String())
	}
	return nil
}

// matches tells whether list element e is the one s selects.
func matches(e *kyaml.Node, s step) bool {
	if s.field == "" {
		return e.Kind == kyaml.ScalarNode && e.Value == s.value
	}
	if e.Kind != kyaml.MappingNode {
		return false
	}
	for j := 0; j+1 < len(e.Content); j += 2 {
		if e.Content[j].Value == s.field {
			v := e.Content[j+1]
			return v.Kind == kyaml.ScalarNode && v.Value == s.value
		}
	}
	return false
}

func isNull(n *kyaml.Node) bool {
	return n.Kind == kyaml.ScalarNode && n.ShortTag() == "!!null"
}

func nodeKind(n *kyaml.Node) string {
	switch n.Kind {
	case kyaml.MappingNode:
		return "a mapping"
	case kyaml.SequenceNode:
		return "a list"
	case kyaml.ScalarNode:
		return "a scalar"
	case kyaml.AliasNode:
		return "an alias"
	}
	return "empty"
}
