package manifest

import "gopkg.in/yaml.v3"

// lineIndex is where each field of a document stands in its file, kept
// instead of the document's yaml.Node tree (several times its size, and
// kept for every object a check remembers). Its nodes are the tree's in
// depth-first order, aliases resolved to copies of what they name (at
// the line of the alias); a node's children follow it up to its end.
type lineIndex []lineNode

// lineNode is one node of a lineIndex.
type lineNode struct {
	key     string // the key naming the node in its mapping
	keyLine int32  // the line of that key; 0 outside a mapping
	line    int32
	end     int32 // the index after the node's last descendant
	kind    yaml.Kind
}

// indexLines flattens the tree under n; nil for none. It stops copying
// aliases once the index holds MaxNodes nodes (decoding refuses more).
func indexLines(n *yaml.Node) lineIndex {
	if n == nil {
		return nil
	}
	var ix lineIndex
	ix.add(n, "", 0)
	return ix
}

func (ix *lineIndex) add(n *yaml.Node, key string, keyLine int) {
	line := n.Line // an alias stands where it is written
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	at := len(*ix)
	*ix = append(*ix, lineNode{key: key, keyLine: int32(keyLine), line: int32(line), kind: n.Kind})
	switch {
	case len(*ix) > MaxNodes:
	case n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			ix.add(n.Content[i+1], n.Content[i].Value, n.Content[i].Line)
		}
	case n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			ix.add(c, "", 0)
		}
	}
	(*ix)[at].end = int32(len(*ix))
}

// child returns the index of the node under node at at step p (a key of a
// mapping, an index into a sequence), -1 when there is none.
func (ix lineIndex) child(at int, p any) int {
	n := ix[at]
	var want int
	switch k := p.(type) {
	case string:
		if n.kind != yaml.MappingNode {
			return -1
		}
		for c := at + 1; c < int(n.end); c = int(ix[c].end) {
			if ix[c].key == k {
				return c
			}
		}
		return -1
	case int:
		want = k
	case int64:
		want = int(k)
	case float64:
		want = int(k)
	default:
		return -1
	}
	if n.kind != yaml.SequenceNode || want < 0 {
		return -1
	}
	for c, i := at+1, 0; c < int(n.end); c, i = int(ix[c].end), i+1 {
		if i == want {
			return c
		}
	}
	return -1
}

// fieldLine is FieldLine over the index.
func (ix lineIndex) fieldLine(path []any) int {
	at, line := 0, int(ix[0].line)
	for _, p := range path {
		next := ix.child(at, p)
		if next < 0 {
			return line
		}
		if kl := ix[next].keyLine; kl > 0 {
			line = int(kl)
		} else {
			line = int(ix[next].line)
		}
		at = next
	}
	return line
}
