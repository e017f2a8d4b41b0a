package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// ID identifies a Kubernetes object by API version, kind, namespace and name.
type ID struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// Group returns the API group of the ID's apiVersion ("" for the core group).
func (id ID) Group() string {
	if i := strings.IndexByte(id.APIVersion, '/'); i >= 0 {
		return id.APIVersion[:i]
	}
	return ""
}

// GroupKind returns "Kind" for the core group and "Kind.group" otherwise, the
// form kubectl prints.
func (id ID) GroupKind() string {
	if g := id.Group(); g != "" {
		return id.Kind + "." + g
	}
	return id.Kind
}

// String returns "Kind/namespace/name", or "Kind/name" for objects without a namespace.
func (id ID) String() string {
	if id.Namespace == "" {
		return id.Kind + "/" + id.Name
	}
	return id.Kind + "/" + id.Namespace + "/" + id.Name
}

// Less orders IDs by namespace, kind, name and apiVersion, the order gitvend
// uses wherever it lists objects.
func (id ID) Less(o ID) bool {
	if id.Namespace != o.Namespace {
		return id.Namespace < o.Namespace
	}
	if id.Kind != o.Kind {
		return id.Kind < o.Kind
	}
	if id.Name != o.Name {
		return id.Name < o.Name
	}
	return id.APIVersion < o.APIVersion
}

// Object is one Kubernetes object with the place it was read from.
type Object struct {
	ID
	// Content is the object as a JSON-compatible tree: map[string]any,
	// []any, string, int64, float64, bool and nil.
	Content map[string]any
	// File is the path the object was read from, relative to where reading
	// started; empty when the object did not come from a file.
	File string
	// Line is the 1-based line where the object's document starts, 0 when
	// unknown.
	Line int
	// lines is where the document's fields stand, to find the line of a
	// field.
	lines lineIndex
	// sum is the digest of Content, kept with the map it was computed for.
	sum *contentSum
}

// contentSum is the digest of one content map. It holds the map, so that
// a Content replaced after the digest was taken never passes for the map
// the digest describes.
type contentSum struct {
	of  map[string]any
	hex string
}

// Digest returns the SHA-256, in hex, of the object's content as JSON
// (map keys sorted): two objects with equal digests have equal content.
// The digest is computed once and travels with copies of the object and
// with its content as a Tree's caches keep it; a Content replaced since
// is hashed again. Content, once read, is never changed in place: the
// caches share it.
func (o *Object) Digest() string {
	if o.sum != nil && sameMap(o.sum.of, o.Content) {
		return o.sum.hex
	}
	o.sum = &contentSum{of: o.Content, hex: Shared(ContentDigest(o.Content))}
	return o.sum.hex
}

// ContentDigest returns the SHA-256, in hex, of content as JSON (map keys
// sorted), as Digest does, without keeping it.
func ContentDigest(content map[string]any) string {
	data, err := json.Marshal(content)
	if err != nil {
		data = []byte(fmt.Sprint(content))
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// copied returns o with a deep copy of its content, and the digest of its
// content when it has one.
func (o Object) copied() Object {
	content := deepCopy(o.Content).(map[string]any)
	if o.sum != nil && sameMap(o.sum.of, o.Content) {
		o.sum = &contentSum{of: content, hex: o.sum.hex}
	}
	o.Content = content
	return o
}

// sameMap tells whether a and b are the same map.
func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// FieldLine returns the line of the field at path (map keys as strings, list
// indexes as ints) in the object's source file. When the field itself is
// absent it returns the line of its deepest present parent, and the object's
// own line when positions are unknown.
func (o *Object) FieldLine(path ...any) int {
	if len(o.lines.nodes) == 0 {
		return o.Line
	}
	return o.lines.fieldLine(path)
}

// Labels returns metadata.labels as strings.
func (o *Object) Labels() map[string]string { return stringMap(o.Content, "metadata", "labels") }

// Annotations returns metadata.annotations as strings.
func (o *Object) Annotations() map[string]string {
	return stringMap(o.Content, "metadata", "annotations")
}

func stringMap(m map[string]any, path ...string) map[string]string {
	v, ok := Lookup(m, path...)
	if !ok {
		return nil
	}
	src, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(src))
	for k, v := range src {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// Lookup walks m along path and returns the value found there.
func Lookup(m map[string]any, path ...string) (any, bool) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = mm[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// Position names where an object came from, for messages: "file:line" or
// the object's ID when it has no file.
func (o *Object) Position() string {
	switch {
	case o.File != "" && o.Line > 0:
		return fmt.Sprintf("%s:%d", o.File, o.Line)
	case o.File != "":
		return o.File
	}
	return o.ID.String()
}
