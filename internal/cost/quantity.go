package cost

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// notes collects the assumptions and problems of one object's estimate.
type notes []string

func (n *notes) add(format string, args ...any) {
	*n = append(*n, fmt.Sprintf(format, args...))
}

// bytesPerGiB and bytesPerGB are the units of memory and storage prices.
const (
	bytesPerGiB = 1 << 30
	bytesPerGB  = 1e9
)

// maxQuantity bounds any parsed quantity (cores, bytes or devices); larger
// values are refused so that sums and products stay finite.
const maxQuantity = 1e30

// maxQuantityLen and maxExponent bound the text of a quantity.
const (
	maxQuantityLen = 64
	maxExponent    = 99
)

// quantity parses a Kubernetes resource quantity held in a decoded manifest:
// a string such as "250m" or "512Mi", or a plain number. It returns the value
// in base units (cores, bytes or devices) and a message saying what is wrong
// when the value is not a valid, non-negative quantity.
func quantity(v any) (float64, string) {
	q, bad := ParseQuantity(v)
	if bad != "" {
		return 0, bad
	}
	return q.AsApproximateFloat64(), ""
}

// limitQuantity is maxQuantity as a quantity, for exact comparisons.
var limitQuantity = resource.MustParse("1e30")

// ParseQuantity parses a Kubernetes resource quantity held in a decoded
// manifest (a string such as "250m" or "512Mi", or a plain number) exactly,
// as the apiserver does. It returns a message saying what is wrong when the
// value is not a valid, non-negative quantity of at most 1e30 base units.
func ParseQuantity(v any) (resource.Quantity, string) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return resource.Quantity{}, fmt.Sprintf("%v is not a valid quantity", x)
		}
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		return resource.Quantity{}, "is empty; a quantity such as 250m, 0.5, 512Mi or 1G is required"
	default:
		return resource.Quantity{}, fmt.Sprintf("must be a quantity such as 250m, 0.5, 512Mi or 1G, got a %s", typeName(v))
	}
	// Bound what reaches the parser: it works through exponents digit by
	// digit, so that a value such as 1e-999999999 would never finish.
	if len(s) > maxQuantityLen {
		return resource.Quantity{}, fmt.Sprintf("%q... is too long for a quantity (at most %d characters)", s[:16], maxQuantityLen)
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if exp, err := strconv.Atoi(s[i+1:]); err == nil && (exp > maxExponent || exp < -maxExponent) {
			return resource.Quantity{}, fmt.Sprintf("%q has an exponent out of range (from -%d to %d)", s, maxExponent, maxExponent)
		}
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return resource.Quantity{}, fmt.Sprintf("%q is not a valid quantity; use a number with an optional suffix such as 250m, 0.5, 512Mi or 1G", s)
	}
	if q.Sign() < 0 {
		return resource.Quantity{}, fmt.Sprintf("%q must not be negative", s)
	}
	if q.Cmp(limitQuantity) > 0 {
		return resource.Quantity{}, fmt.Sprintf("%q is too large", s)
	}
	return q, ""
}

// typeName names the JSON type of a decoded value for messages.
func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "mapping"
	case []any:
		return "list"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, float64:
		return "number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// join appends key to the field path parent ("" for the object's root).
func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// count reads the whole number at key of m, such as replicas of spec. The
// field's path, parent.key, is only built for a note. An absent or null
// field gives def; an invalid one gives def and a note naming the field and
// what is allowed.
func count(m map[string]any, key, parent string, def int64, n *notes) int64 {
	v, ok := m[key]
	if !ok || v == nil {
		return def
	}
	field := func() string { return join(parent, key) }
	var i int64
	switch x := v.(type) {
	case int64:
		i = x
	case float64:
		if x != math.Trunc(x) || x < 0 || x > math.MaxInt32 {
			n.add("%s: must be a whole number from 0 to %d, got %v; counted as %d", field(), math.MaxInt32, x, def)
			return def
		}
		i = int64(x)
	default:
		n.add("%s: must be a whole number from 0 to %d, got a %s; counted as %d", field(), math.MaxInt32, typeName(v), def)
		return def
	}
	if i < 0 || i > math.MaxInt32 {
		n.add("%s: must be a whole number from 0 to %d, got %d; counted as %d", field(), math.MaxInt32, i, def)
		return def
	}
	return i
}

// mapAt returns m[key] as a mapping. An absent or null field gives nil
// without a note; any other non-mapping gives nil and a note naming
// parent.key.
func mapAt(m map[string]any, key, parent string, n *notes) map[string]any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	mm, ok := v.(map[string]any)
	if !ok {
		n.add("%s: must be a mapping, got a %s; ignored", join(parent, key), typeName(v))
		return nil
	}
	return mm
}

// listAt returns m[key] as a list, with the same rules as mapAt.
func listAt(m map[string]any, key, parent string, n *notes) []any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		n.add("%s: must be a list, got a %s; ignored", join(parent, key), typeName(v))
		return nil
	}
	return l
}

// formatFloat prints v with at most four decimals and no trailing zeros.
func formatFloat(v float64) string {
	return strconv.FormatFloat(math.Round(v*10000)/10000, 'f', -1, 64)
}
