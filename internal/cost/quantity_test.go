package cost

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQuantity(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want float64
		bad  string
	}{
		{name: "millicores", in: "250m", want: 0.25},
		{name: "binary suffix", in: "512Mi", want: 512 << 20},
		{name: "decimal suffix", in: "1G", want: 1e9},
		{name: "exponent", in: "1e3", want: 1000},
		{name: "integer", in: int64(2), want: 2},
		{name: "float", in: 0.5, want: 0.5},
		{name: "zero", in: "0", want: 0},
		{name: "not a quantity", in: "1 GB", bad: `"1 GB" is not a valid quantity; use a number with an optional suffix such as 250m, 0.5, 512Mi or 1G`},
		{name: "negative", in: "-250m", bad: `"-250m" must not be negative`},
		{name: "negative number", in: int64(-1), bad: `"-1" must not be negative`},
		{name: "too large", in: "1e40", bad: `"1e40" is too large`},
		{name: "huge exponent", in: "1e-999999999", bad: `"1e-999999999" has an exponent out of range (from -99 to 99)`},
		{name: "tiny float", in: 1e-300, bad: `"1e-300" has an exponent out of range (from -99 to 99)`},
		{name: "too long", in: "0." + strings.Repeat("0", 100) + "1", bad: `"0.00000000000000"... is too long for a quantity (at most 64 characters)`},
		{name: "boolean", in: true, bad: "must be a quantity such as 250m, 0.5, 512Mi or 1G, got a boolean"},
		{name: "list", in: []any{"1"}, bad: "must be a quantity such as 250m, 0.5, 512Mi or 1G, got a list"},
		{name: "null", in: nil, bad: "is empty; a quantity such as 250m, 0.5, 512Mi or 1G is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad := quantity(tt.in)
			if diff := cmp.Diff(struct {
				V   float64
				Bad string
			}{tt.want, tt.bad}, struct {
				V   float64
				Bad string
			}{got, bad}, approx); diff != "" {
				t.Errorf("quantity(%v) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}
