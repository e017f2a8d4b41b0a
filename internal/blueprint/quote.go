package blueprint

import "fmt"

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
