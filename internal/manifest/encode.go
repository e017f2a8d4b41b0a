package manifest

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// keyRank orders the top-level keys of an object the way people write them.
var keyRank = map[string]int{"apiVersion": 1, "kind": 2, "metadata": 3, "spec": 4, "data": 5, "stringData": 6, "type": 7}

// metadataRank orders the keys of metadata.
var metadataRank = map[string]int{"name": 1, "namespace": 2, "labels": 3, "annotations": 4}

// nestedRank puts "name" first in nested mappings, as in containers,
// ports, volumes and env lists.
var nestedRank = map[string]int{"name": 1}

// Encode writes content as one YAML document with a stable key order:
// apiVersion, kind, metadata, spec first, everything else alphabetically.
// The same content always gives the same bytes.
func Encode(content map[string]any) ([]byte, error) {
	n, err := toNode(content, keyRank)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encode object: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode object: %w", err)
	}
	return buf.Bytes(), nil
}

// EncodeAll writes objects as a multi-document YAML stream separated by "---".
func EncodeAll(objs []Object) ([]byte, error) {
	var buf bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		b, err := Encode(o.Content)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", o.ID, err)
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

func toNode(v any, rank map[string]int) (*yaml.Node, error) {
	switch t := v.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			ri, rj := rank[keys[i]], rank[keys[j]]
			if ri == 0 {
				ri = 1 << 30
			}
			if rj == 0 {
				rj = 1 << 30
			}
			if ri != rj {
				return ri < rj
			}
			return keys[i] < keys[j]
		})
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range keys {
			childRank := nestedRank
			if rank != nil && k == "metadata" {
				childRank = metadataRank
			}
			c, err := toNode(t[k], childRank)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, stringNode(k), c)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range t {
			c, err := toNode(e, nestedRank)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case string:
		return stringNode(t), nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}, nil
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(t)}, nil
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(t, 10)}, nil
	case float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(t, 'g', -1, 64)}, nil
	}
	return nil, fmt.Errorf("encode value: unsupported type %T", v)
}

// yaml11Bools are the plain scalars that YAML 1.1 parsers, which kubectl
// and much of the Kubernetes tool chain still use, read as booleans.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "n": true, "N": true, "no": true, "No": true, "NO": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
}

// stringNode returns a string scalar that every YAML parser reads back as
// the same string.
func stringNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	// Block scalars cannot keep a leading line break or leading blanks on
	// their first line, so such strings are double-quoted.
	if yaml11Bools[s] || (strings.Contains(s, "\n") && strings.IndexFunc(s, notBlank) != 0) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func notBlank(r rune) bool { return r != ' ' && r != '\t' && r != '\n' && r != '\r' }
