package blueprint

import (
	"fmt"
	"strconv"
	"strings"
)

// Placeholders a format may use. {param:<name>} inserts another
// parameter's effective value.
const (
	phValue       = "value"
	phName        = "name"
	phNamespace   = "namespace"
	phEnvironment = "environment"
	phOwner       = "owner"
	phParamPrefix = "param:"
)

// piece is a literal run of a format or one placeholder.
type piece struct {
	literal     string
	placeholder string // "" for a literal; "value", "name", ..., or "param:x"
}

// format is a parsed format string such as "{name}.apps.example.com".
type format []piece

// parseFormat splits s into literals and placeholders. allowValue says
// whether {value} and {param:...} may be used (target formats), or only the
// request placeholders (defaults).
func parseFormat(s string, allowValue bool) (format, error) {
	var out format
	rest := s
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if closeAt := strings.IndexByte(rest, '}'); closeAt >= 0 && (open < 0 || closeAt < open) {
			return nil, fmt.Errorf("unmatched '}' at offset %d", len(s)-len(rest)+closeAt)
		}
		if open < 0 {
			out = append(out, piece{literal: rest})
			break
		}
		if open > 0 {
			out = append(out, piece{literal: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed '{' at offset %d", len(s)-len(rest)+open)
		}
		ph := rest[open+1 : open+end]
		switch {
		case ph == phName || ph == phNamespace || ph == phEnvironment || ph == phOwner:
		case allowValue && ph == phValue:
		case allowValue && strings.HasPrefix(ph, phParamPrefix) && paramName.MatchString(strings.TrimPrefix(ph, phParamPrefix)):
		default:
			allowed := "{name}, {namespace}, {environment}, {owner}"
			if allowValue {
				allowed = "{value}, " + allowed + " and {param:<parameter>}"
			}
			return nil, fmt.Errorf("unknown placeholder {%s}; allowed: %s", ph, allowed)
		}
		out = append(out, piece{placeholder: ph})
		rest = rest[open+end+1:]
	}
	return out, nil
}

// params returns the parameters a format refers to with {param:...}.
func (f format) params() []string {
	var out []string
	for _, p := range f {
		if name, ok := strings.CutPrefix(p.placeholder, phParamPrefix); ok {
			out = append(out, name)
		}
	}
	return out
}

// expand fills the placeholders in. value is the parameter's own value and
// values the effective values of all parameters; an unset parameter expands
// to the empty string.
func (f format) expand(in Input, value any, values map[string]any) string {
	var b strings.Builder
	for _, p := range f {
		switch p.placeholder {
		case "":
			b.WriteString(p.literal)
		case phValue:
			b.WriteString(scalarString(value))
		case phName:
			b.WriteString(in.Name)
		case phNamespace:
			b.WriteString(in.Namespace)
		case phEnvironment:
			b.WriteString(in.Environment)
		case phOwner:
			b.WriteString(in.Owner)
		default:
			if v, ok := values[strings.TrimPrefix(p.placeholder, phParamPrefix)]; ok {
				b.WriteString(scalarString(v))
			}
		}
	}
	return b.String()
}

// scalarString formats a typed parameter value as text.
func scalarString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case int64:
		return strconv.FormatInt(t, 10)
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}
