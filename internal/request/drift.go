package request

import (
	"fmt"
	"strings"
)

// ObjectRef names one object of a target, as a drift issue lists it:
// Kind/namespace/name, or Kind/name for a cluster-scoped object.
type ObjectRef struct {
	Kind, Namespace, Name string
}

// String writes the reference as object= takes it.
func (o ObjectRef) String() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// ParseObjectRef reads Kind/namespace/name or Kind/name.
func ParseObjectRef(s string) (ObjectRef, error) {
	parts := strings.Split(s, "/")
	var o ObjectRef
	switch len(parts) {
	case 2:
		o = ObjectRef{Kind: parts[0], Name: parts[1]}
	case 3:
		o = ObjectRef{Kind: parts[0], Namespace: parts[1], Name: parts[2]}
	default:
		return ObjectRef{}, fmt.Errorf("object %s: want Kind/namespace/name, or Kind/name for a cluster-wide object", Code(s))
	}
	if !validKind(o.Kind) {
		return ObjectRef{}, fmt.Errorf("object %s: the kind %s must start with a capital letter and hold only letters and digits", Code(s), Code(o.Kind))
	}
	names := []string{o.Name}
	if len(parts) == 3 {
		names = append(names, o.Namespace)
	}
	for _, n := range names {
		if !validObjectName(n) {
			return ObjectRef{}, fmt.Errorf("object %s: %s is not a Kubernetes name", Code(s), Code(n))
		}
	}
	return o, nil
}

func validKind(k string) bool {
	if k == "" || len(k) > 63 || k[0] < 'A' || k[0] > 'Z' {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// validObjectName accepts a DNS-1123 subdomain.
func validObjectName(n string) bool {
	if n == "" || len(n) > 253 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// parseDriftCommand reads the arguments of revert and adopt: none for the
// whole target, or object=Kind/namespace/name.
func parseDriftCommand(verb Verb, rest []word) (Command, error) {
	cmd := Command{Verb: verb}
	switch {
	case len(rest) == 0:
		return cmd, nil
	case len(rest) > 1:
		return Command{}, fmt.Errorf("%s takes at most one object=Kind/namespace/name, got %d arguments", verb, len(rest))
	}
	key, value, ok := strings.Cut(rest[0].text, "=")
	if !ok || key != "object" || rest[0].keyQuoted {
		return Command{}, fmt.Errorf("%s takes only object=Kind/namespace/name, got %s", verb, Code(rest[0].text))
	}
	ref, err := ParseObjectRef(value)
	if err != nil {
		return Command{}, err
	}
	cmd.Object = ref.String()
	cmd.Args = []Arg{{Key: "object", Value: cmd.Object}}
	return cmd, nil
}
