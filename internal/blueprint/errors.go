package blueprint

import (
	"fmt"
	"strings"
)

// Error is a problem with a blueprint or with the values given to one. Load
// errors name the blueprint, the file and the field; parameter errors name
// the field, such as "parameters.replicas".
type Error struct {
	Blueprint string // blueprint name, when known
	File      string // file at fault, such as "blueprints/web/blueprint.yaml"
	Line      int    // 1-based line in File, 0 when unknown
	Field     string // field path, such as "spec.parameters[2].maximum"
	Msg       string // what is wrong and what is allowed
}

// Error formats the problem as
// "blueprint NAME: FILE:LINE: FIELD: MESSAGE", leaving out unknown parts.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Blueprint != "" {
		fmt.Fprintf(&b, "blueprint %s: ", e.Blueprint)
	}
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors returns every *Error joined into err, in order.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		switch t := err.(type) {
		case nil:
		case *Error:
			out = append(out, t)
		case interface{ Unwrap() []error }:
			for _, e := range t.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(t.Unwrap())
		}
	}
	walk(err)
	return out
}

// quoteLimit is how many characters of a value messages show.
const quoteLimit = 64

// quote formats a value for a message, cutting long strings short.
func quote(v any) string {
	switch t := v.(type) {
	case string:
		r := []rune(t)
		if len(r) > quoteLimit {
			return fmt.Sprintf("%q… (%d characters)", string(r[:quoteLimit]), len(r))
		}
		return fmt.Sprintf("%q", t)
	case nil:
		return "null"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}
