package manifest

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// lineIndex is where each field of a document stands in its file, kept
// instead of the document's yaml.Node tree (several times its size, and
// kept for every object a check remembers). Its nodes are the tree's in
// depth-first order, a node's children following it up to its end. An
// alias is a node of its own, at the line where it is written, that
// leads to the node it names: the index grows with the document as
// written, never with what its aliases expand to.
//
// The nodes hold no pointers and the keys share one string: a check
// remembers tens of thousands of indexes, which the collector then has
// no need to walk, and which keep nothing of the parse alive.
type lineIndex struct {
	nodes []lineNode
	keys  string // every node's key, one after another
}

// lineNode is one node of a lineIndex.
type lineNode struct {
	keyAt   uint32 // the node's key in lineIndex.keys, naming it in its mapping
	keyLen  uint32
	keyLine int32 // the line of that key; 0 outside a mapping
	line    int32
	end     int32 // the index after the node's last descendant
	alias   int32 // for an alias, 1 + the index of the node it names
	kind    yaml.Kind
}

// indexLines flattens the tree under n; empty for none. For an alias (an
// item of a List may be one), the tree is the one it names, at the line of
// the alias.
func indexLines(n *yaml.Node) lineIndex {
	if n == nil {
		return lineIndex{}
	}
	root := n
	for root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	b := lineBuilder{anchors: map[*yaml.Node]int32{}}
	b.add(root, "", 0)
	b.nodes[0].line = int32(n.Line)
	return lineIndex{nodes: b.nodes, keys: b.keys.String()}
}

// lineBuilder builds a lineIndex, knowing where each anchored node went.
type lineBuilder struct {
	nodes   []lineNode
	keys    strings.Builder
	anchors map[*yaml.Node]int32
}

func (b *lineBuilder) add(n *yaml.Node, key string, keyLine int) {
	at := int32(len(b.nodes))
	b.nodes = append(b.nodes, lineNode{keyAt: uint32(b.keys.Len()), keyLen: uint32(len(key)),
		keyLine: int32(keyLine), line: int32(n.Line), kind: n.Kind})
	b.keys.WriteString(key)
	if n.Kind == yaml.AliasNode {
		// An anchor comes before its aliases, so its node is in already;
		// an alias to anything else leads nowhere.
		if to, ok := b.anchors[n.Alias]; ok {
			b.nodes[at].alias = to + 1
		}
		b.nodes[at].end = at + 1
		return
	}
	if n.Anchor != "" {
		b.anchors[n] = at
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			b.add(n.Content[i+1], n.Content[i].Value, n.Content[i].Line)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			b.add(c, "", 0)
		}
	}
	b.nodes[at].end = int32(len(b.nodes))
}

// key returns the key of the node at at.
func (ix lineIndex) key(at int) string {
	n := &ix.nodes[at]
	return ix.keys[n.keyAt : n.keyAt+n.keyLen]
}

// resolve follows aliases from the node at at to the node they name.
func (ix lineIndex) resolve(at int) int {
	for ix.nodes[at].alias > 0 {
		at = int(ix.nodes[at].alias) - 1
	}
	return at
}

// child returns the index of the node under node at at step p (a key of a
// mapping, an index into a sequence), -1 when there is none.
func (ix lineIndex) child(at int, p any) int {
	at = ix.resolve(at)
	n := ix.nodes[at]
	var want int
	switch k := p.(type) {
	case string:
		if n.kind != yaml.MappingNode {
			return -1
		}
		for c := at + 1; c < int(n.end); c = int(ix.nodes[c].end) {
			if ix.key(c) == k {
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
	for c, i := at+1, 0; c < int(n.end); c, i = int(ix.nodes[c].end), i+1 {
		if i == want {
			return c
		}
	}
	return -1
}

// fieldLine is FieldLine over the index.
func (ix lineIndex) fieldLine(path []any) int {
	at, line := 0, int(ix.nodes[0].line)
	for _, p := range path {
		next := ix.child(at, p)
		if next < 0 {
			return line
		}
		if kl := ix.nodes[next].keyLine; kl > 0 {
			line = int(kl)
		} else {
			line = int(ix.nodes[next].line)
		}
		at = next
	}
	return line
}
