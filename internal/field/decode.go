package field

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxNodes bounds how many nodes Decode visits in one document, aliases
// counted each time they are used, so that a crafted file cannot make it
// work without end. Files people write hold far fewer.
const MaxNodes = 1 << 17

// Lines holds the line of every field a document sets to a value other
// than null, by field path ("spec.parameters[0].name"). A field of a
// mapping has the line of its key, a list element the line of its value.
type Lines map[string]int

// Has tells whether the document sets the field path to a value other
// than null.
func (l Lines) Has(path string) bool {
	_, ok := l[path]
	return ok
}

// Of returns the line of the field path, or of its closest parent the
// document sets ("github" for a missing "github.privateKeyFile"); 0 when
// there is none.
func (l Lines) Of(path string) int {
	for path != "" {
		if line, ok := l[path]; ok {
			return line
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// Locate gives every *Error in err that has no line the line Of its field.
func (l Lines) Locate(err error) {
	for _, e := range All(err) {
		if e.Line == 0 {
			e.Line = l.Of(e.Field)
		}
	}
}

// Unmarshal decodes data, which must hold exactly one YAML document,
// strictly into out: it is Parse and then Decode.
func Unmarshal(file string, data []byte, out any) (Lines, error) {
	doc, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	return Decode(file, doc, out)
}

// Parse reads data as exactly one YAML document and returns its document
// node. An empty file (or one that holds only null), a syntax error and a
// second document are each an *Error.
func Parse(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "file is empty"}
		}
		return nil, YAMLError(file, err)
	}
	if len(doc.Content) == 0 || isNull(deref(doc.Content[0])) {
		return nil, &Error{File: file, Msg: "file is empty"}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &Error{File: file, Line: extra.Line, Msg: "must hold exactly one YAML document"}
	}
	return &doc, nil
}

// YAMLError turns an error of yaml.v3 into *Errors of file: a syntax error
// with the line it names, and each problem of a *yaml.TypeError.
func YAMLError(file string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		line, msg := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
		return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg}
	}
	errs := make([]error, 0, len(te.Errors))
	for _, m := range te.Errors {
		line, msg := splitLine(m)
		errs = append(errs, &Error{File: file, Line: line, Msg: msg})
	}
	return errors.Join(errs...)
}

// splitLine cuts a leading "line N: " off a yaml.v3 message.
func splitLine(msg string) (int, string) {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0, msg
	}
	i := strings.IndexByte(rest, ':')
	if i <= 0 {
		return 0, msg
	}
	n, err := strconv.Atoi(rest[:i])
	if err != nil {
		return 0, msg
	}
	return n, strings.TrimSpace(rest[i+1:])
}

// Decode checks node (a document or any node within one) against the Go
// type out points to and decodes it into out. It reports every problem,
// joined, each an *Error of file with its field path and line: every field
// a struct does not have (with the names it allows), every field set twice,
// every value of the wrong kind or type, and every field tagged
// `field:"required"` that is missing or null. Null values count as absent.
// Scalars are read strictly: integers need a YAML integer, floats a
// number, booleans true or false, durations a text such as 30s; strings
// take any scalar. A yaml.Node or interface field takes any value.
//
// It returns the lines of the fields the document sets. After an error,
// out holds what could be decoded, so that callers can still check the
// rest.
func Decode(file string, node *yaml.Node, out any) (Lines, error) {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, fmt.Errorf("decode %s: need a non-nil pointer, got %T", file, out)
	}
	w := walker{file: file, lines: Lines{}, budget: MaxNodes}
	w.walk(node, v.Type().Elem(), "", 0)
	if w.exhausted {
		return w.lines, errors.Join(w.errs...)
	}
	if err := node.Decode(out); err != nil && len(w.errs) == 0 {
		return w.lines, YAMLError(file, err)
	}
	return w.lines, errors.Join(w.errs...)
}

var (
	nodeType     = reflect.TypeFor[yaml.Node]()
	durationType = reflect.TypeFor[time.Duration]()
	unmarshaler  = reflect.TypeFor[yaml.Unmarshaler]()
)

// walker checks a node tree against a Go type.
type walker struct {
	file      string
	lines     Lines
	errs      []error
	budget    int
	exhausted bool
}

func (w *walker) fail(line int, path, format string, args ...any) {
	w.errs = append(w.errs, &Error{File: w.file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// walk checks n against t; line is where the value's field starts.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string, line int) {
	if w.exhausted {
		return
	}
	if w.budget--; w.budget < 0 {
		w.exhausted = true
		w.fail(n.Line, path, "the document expands to more than %d nodes", MaxNodes)
		return
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	n = deref(n)
	if isNull(n) {
		return
	}
	if path != "" {
		w.lines[path] = line
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nodeType || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshaler) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.fail(n.Line, path, "must be a mapping with the fields %s", strings.Join(names(t), ", "))
			return
		}
		w.walkStruct(n, t, path)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.fail(n.Line, path, "must be a mapping")
			return
		}
		w.walkMap(n, t, path)
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			w.fail(n.Line, path, "must be a list")
			return
		}
		for i, c := range n.Content {
			w.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), deref(c).Line)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			w.fail(n.Line, path, "must be %s", describe(t))
			return
		}
		if !scalarFits(n, t) {
			w.fail(n.Line, path, "must be %s, got %q", describe(t), n.Value)
		}
	}
}

// walkStruct checks the fields of a mapping against struct type t.
func (w *walker) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	fields := fieldsOf(t)
	w.eachKey(n, path, func(k, v *yaml.Node) {
		f, ok := fields.byName[k.Value]
		if !ok {
			w.fail(k.Line, Join(path, k.Value), "unknown field; allowed: %s", strings.Join(fields.names, ", "))
			return
		}
		w.walk(v, f.typ, Join(path, k.Value), k.Line)
	})
	for _, name := range fields.required {
		if !w.lines.Has(Join(path, name)) {
			w.fail(n.Line, Join(path, name), "is required")
		}
	}
}

// walkMap checks the values of a mapping against the element type of map
// type t.
func (w *walker) walkMap(n *yaml.Node, t reflect.Type, path string) {
	w.eachKey(n, path, func(k, v *yaml.Node) {
		w.walk(v, t.Elem(), Join(path, k.Value), k.Line)
	})
}

// eachKey calls fn with every key and value of mapping n, including those
// that merge keys (<<) bring in, and reports keys the mapping sets twice.
// A key of the mapping itself wins over a merged one, and an earlier merged
// mapping over a later one, as in YAML.
func (w *walker) eachKey(n *yaml.Node, path string, fn func(k, v *yaml.Node)) {
	w.keys(n, path, map[string]bool{}, map[*yaml.Node]bool{}, true, fn)
}

// keys calls fn with the keys of n that are not taken yet and takes them;
// chain holds the mappings being merged, so that a mapping merging itself
// ends.
func (w *walker) keys(n *yaml.Node, path string, taken map[string]bool, chain map[*yaml.Node]bool, own bool, fn func(k, v *yaml.Node)) {
	chain[n] = true
	defer delete(chain, n)
	seen := map[string]int{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			if own {
				w.fail(k.Line, Join(path, k.Value), "is set twice (first on line %d)", first)
			}
			continue
		}
		seen[k.Value] = k.Line
		if !taken[k.Value] {
			fn(k, v)
		}
	}
	for k := range seen {
		taken[k] = true
	}
	for _, m := range merges {
		m = deref(m)
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			switch src = deref(src); {
			case src.Kind != yaml.MappingNode:
				w.fail(src.Line, path, "a merge key (<<) must bring in a mapping")
			case !chain[src]:
				w.keys(src, path, taken, chain, false, fn)
			}
		}
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// scalarFits tells whether scalar n decodes into type t without loss.
func scalarFits(n *yaml.Node, t reflect.Type) bool {
	tag := n.ShortTag()
	switch k := t.Kind(); {
	case t == durationType:
	case k == reflect.String:
		return true
	case k == reflect.Bool:
		if tag != "!!bool" {
			return false
		}
	case k >= reflect.Int && k <= reflect.Uint64:
		if tag != "!!int" {
			return false
		}
	case k == reflect.Float32 || k == reflect.Float64:
		if tag != "!!int" && tag != "!!float" {
			return false
		}
	}
	return n.Decode(reflect.New(t).Interface()) == nil
}

// describe says in words what a value of type t looks like.
func describe(t reflect.Type) string {
	switch k := t.Kind(); {
	case t == durationType:
		return "a duration such as 30s, 5m or 1h"
	case k == reflect.Bool:
		return "true or false"
	case k >= reflect.Int && k <= reflect.Uint64:
		return "a whole number"
	case k == reflect.Float32 || k == reflect.Float64:
		return "a number"
	case k == reflect.String:
		return "a string"
	}
	return "a single value"
}

// structFields are the YAML fields of a struct type.
type structFields struct {
	names    []string // in declaration order
	byName   map[string]structField
	required []string
}

type structField struct {
	typ reflect.Type
}

// fieldsOf lists the fields of struct type t as yaml.v3 names them.
func fieldsOf(t reflect.Type) structFields {
	out := structFields{byName: map[string]structField{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		out.names = append(out.names, name)
		out.byName[name] = structField{typ: f.Type}
		if f.Tag.Get("field") == "required" {
			out.required = append(out.required, name)
		}
	}
	return out
}

// names lists the YAML field names of struct type t.
func names(t reflect.Type) []string { return fieldsOf(t).names }
