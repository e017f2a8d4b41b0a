package blueprint

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/field"
)

// sink loads the test blueprint that has every parameter type.
func sink(t testing.TB) *Blueprint {
	t.Helper()
	c, err := Load(context.Background(), Source{Root: "testdata/blueprints", FS: os.DirFS("testdata/blueprints")})
	if err != nil {
		t.Fatalf("load test blueprints: %v", err)
	}
	b, err := c.Get("kitchen-sink")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var demoInput = Input{Name: "demo", Namespace: "team-a", Environment: "dev", Owner: "alpha"}

func with(params map[string]any) Input {
	in := demoInput
	in.Parameters = params
	return in
}

func TestResolve(t *testing.T) {
	b := sink(t)
	defaults := map[string]any{"greeting": "hello alpha", "count": int64(1), "automount": false, "size": "64Mi", "tier": "small"}
	merge := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range defaults {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name   string
		params map[string]any
		want   map[string]any
	}{
		{"defaults only", nil, defaults},
		{"integer from a command string", map[string]any{"count": "3"}, merge(map[string]any{"count": int64(3)})},
		{"integer from YAML", map[string]any{"count": 3}, merge(map[string]any{"count": int64(3)})},
		{"integer from JSON", map[string]any{"count": 4.0}, merge(map[string]any{"count": int64(4)})},
		{"integer at the bounds", map[string]any{"count": "0"}, merge(map[string]any{"count": int64(0)})},
		{"boolean from a command string", map[string]any{"automount": "true"}, merge(map[string]any{"automount": true})},
		{"boolean in capitals", map[string]any{"automount": "FALSE"}, merge(map[string]any{"automount": false})},
		{"boolean from YAML", map[string]any{"automount": true}, merge(map[string]any{"automount": true})},
		{"quantity string", map[string]any{"size": "512Mi"}, merge(map[string]any{"size": "512Mi"})},
		{"quantity at the maximum", map[string]any{"size": "1Gi"}, merge(map[string]any{"size": "1Gi"})},
		{"enum option", map[string]any{"tier": "large"}, merge(map[string]any{"tier": "large"})},
		{"string from a YAML number", map[string]any{"text": 42}, merge(map[string]any{"text": "42"})},
		{"string given as is", map[string]any{"text": "  spaces kept  "}, merge(map[string]any{"text": "  spaces kept  "})},
		{"null means unset", map[string]any{"count": nil}, defaults},
		{"pattern matched", map[string]any{"arg": "abc"}, merge(map[string]any{"arg": "abc"})},
		{"default with a placeholder is expanded", map[string]any{"greeting": "{owner} stays literal"}, merge(map[string]any{"greeting": "{owner} stays literal"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.Resolve(with(tt.params))
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	b := sink(t)
	tests := []struct {
		name string
		in   Input
		want []string
	}{
		{"integer not a number", with(map[string]any{"count": "abc"}),
			[]string{`parameters.count: must be an integer from 0 to 10, got "abc"`}},
		{"integer above maximum", with(map[string]any{"count": "11"}),
			[]string{`parameters.count: must be an integer from 0 to 10, got "11"`}},
		{"integer below minimum", with(map[string]any{"count": -1}),
			[]string{`parameters.count: must be an integer from 0 to 10, got -1`}},
		{"integer with a fraction", with(map[string]any{"count": 2.5}),
			[]string{`parameters.count: must be an integer from 0 to 10, got 2.5`}},
		{"integer with spaces", with(map[string]any{"count": " 3"}),
			[]string{`parameters.count: must be an integer from 0 to 10, got " 3"`}},
		{"integer given a boolean", with(map[string]any{"count": true}),
			[]string{`parameters.count: must be an integer from 0 to 10, got true`}},
		{"boolean not true or false", with(map[string]any{"automount": "yes"}),
			[]string{`parameters.automount: must be true or false, got "yes"`}},
		{"boolean given a number", with(map[string]any{"automount": 1}),
			[]string{`parameters.automount: must be true or false, got 1`}},
		{"quantity malformed", with(map[string]any{"size": "lots"}),
			[]string{`parameters.size: must be a quantity such as 500m or 2Gi from 16Mi to 1Gi, got "lots"`}},
		{"quantity above max", with(map[string]any{"size": "2Gi"}),
			[]string{`parameters.size: must be a quantity such as 500m or 2Gi from 16Mi to 1Gi, got "2Gi"`}},
		{"quantity below min", with(map[string]any{"size": "1Mi"}),
			[]string{`parameters.size: must be a quantity such as 500m or 2Gi from 16Mi to 1Gi, got "1Mi"`}},
		{"enum not an option", with(map[string]any{"tier": "huge"}),
			[]string{`parameters.tier: must be one of small, large, got "huge"`}},
		{"string pattern", with(map[string]any{"arg": "ABC"}),
			[]string{`parameters.arg: must be a string of at most 253 characters matching ^[a-z]+$, got "ABC"`}},
		{"string too long", with(map[string]any{"arg": strings.Repeat("a", 254)}),
			[]string{`parameters.arg: must be a string of at most 253 characters matching ^[a-z]+$, got "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"… (254 characters)`}},
		{"string too short for its pattern", with(map[string]any{"arg": ""}),
			[]string{`parameters.arg: must be a string of at most 253 characters matching ^[a-z]+$, got ""`}},
		{"string given a float", with(map[string]any{"text": 1.5}),
			[]string{`parameters.text: must be a string of at most 200000 characters, got 1.5 (put the value in quotes)`}},
		{"string given a mapping", with(map[string]any{"text": map[string]any{"a": "b"}}),
			[]string{`parameters.text: must be a string of at most 200000 characters, got a mapping`}},
		{"string given a list", with(map[string]any{"text": []any{"a"}}),
			[]string{`parameters.text: must be a string of at most 200000 characters, got a list`}},
		{"string not UTF-8", with(map[string]any{"text": "\xff\xfe"}),
			[]string{`parameters.text: must be valid UTF-8 text`}},
		{"unknown parameters", with(map[string]any{"zeta": 1, "alpha": 2}),
			[]string{
				`parameters.alpha: unknown parameter; allowed: arg, automount, count, extra, greeting, size, text, tier`,
				`parameters.zeta: unknown parameter; allowed: arg, automount, count, extra, greeting, size, text, tier`,
			}},
		{"unknown parameter with an odd name", with(map[string]any{"a\nb: c": 1}),
			[]string{`parameters["a\nb: c"]: unknown parameter; allowed: arg, automount, count, extra, greeting, size, text, tier`}},
		{"request fields", Input{Name: "Bad_Name", Environment: "dev", Owner: "alpha"},
			[]string{
				`metadata.name: must be a DNS-1123 label: at most 63 lower case letters, digits and '-', starting and ending with a letter or digit; got "Bad_Name"`,
				`spec.namespace: is required`,
			}},
		{"every problem at once", with(map[string]any{"count": "x", "tier": "y"}),
			[]string{
				`parameters.count: must be an integer from 0 to 10, got "x"`,
				`parameters.tier: must be one of small, large, got "y"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.Resolve(tt.in)
			if err == nil {
				t.Fatal("Resolve succeeded, want an error")
			}
			var got []string
			for _, e := range field.All(err) {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequiredParameter(t *testing.T) {
	c := builtin(t)
	b, err := c.Get("web-service")
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Resolve(demoInput)
	var got []string
	for _, e := range field.All(err) {
		got = append(got, e.Error())
	}
	if diff := cmp.Diff([]string{"parameters.image: is required"}, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestDefaultPlaceholderTooLong(t *testing.T) {
	b, err := builtin(t).Get("preview")
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Name: strings.Repeat("a", 40), Namespace: strings.Repeat("b", 30), Environment: "dev", Owner: "alpha",
		Parameters: map[string]any{"image": "ghcr.io/acme/web:1.0.0"}}
	_, err = b.Resolve(in)
	errs := field.All(err)
	if len(errs) != 1 || errs[0].Field != "parameters.host" || !strings.Contains(errs[0].Msg, "give a value") {
		t.Fatalf("want one error on parameters.host asking for a value, got %v", err)
	}
	in.Parameters["host"] = "preview.example.com"
	if _, err := b.Resolve(in); err != nil {
		t.Fatalf("with an explicit host: %v", err)
	}
	// Without the Ingress the host is not used, so its default is not needed.
	delete(in.Parameters, "host")
	in.Parameters["ingress"] = "false"
	values, err := b.Resolve(in)
	if err != nil {
		t.Fatalf("without an Ingress: %v", err)
	}
	if _, ok := values["host"]; ok {
		t.Errorf("host = %v without an Ingress, want it left out", values["host"])
	}
}

func TestAllowed(t *testing.T) {
	one, twenty := int64(1), int64(20)
	minLen, maxLen := 2, 10
	tests := []struct {
		p    Parameter
		want string
	}{
		{Parameter{Type: Integer, Minimum: &one, Maximum: &twenty}, "an integer from 1 to 20"},
		{Parameter{Type: Integer, Minimum: &one}, "an integer of at least 1"},
		{Parameter{Type: Integer, Maximum: &twenty}, "an integer of at most 20"},
		{Parameter{Type: Integer}, "an integer"},
		{Parameter{Type: String, MinLength: &minLen, MaxLength: &maxLen, Pattern: "^a+$"}, "a string of 2 to 10 characters matching ^a+$"},
		{Parameter{Type: String}, "a string of at most 253 characters"},
		{Parameter{Type: Boolean}, "true or false"},
		{Parameter{Type: Enum, Options: []string{"a", "b"}}, "one of a, b"},
		{Parameter{Type: Quantity, Min: "1Gi"}, "a quantity such as 500m or 2Gi of at least 1Gi"},
		{Parameter{Type: Quantity, Max: "1Gi"}, "a quantity such as 500m or 2Gi of at most 1Gi"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.Allowed(); got != tt.want {
				t.Errorf("Allowed() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResolveAtLeast(t *testing.T) {
	cat, err := Load(context.Background(), Builtin())
	if err != nil {
		t.Fatal(err)
	}
	web, err := cat.Get("web-service")
	if err != nil {
		t.Fatal(err)
	}
	in := func(params map[string]any) Input {
		params["image"] = "ghcr.io/acme/web:1.0.0"
		return Input{Name: "web", Namespace: "team-a", Environment: "dev", Owner: "a", Parameters: params}
	}
	for _, tt := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"minReplicas": 5, "maxReplicas": 3}, "parameters.maxReplicas: must be at least minReplicas (5), got 3"},
		{map[string]any{"maxReplicas": "1"}, "parameters.maxReplicas: must be at least minReplicas (2), got 1"},
		{map[string]any{"minReplicas": 3, "maxReplicas": 3}, ""},
		{map[string]any{"minReplicas": 8}, "parameters.maxReplicas: must be at least minReplicas (8), got 5"},
	} {
		_, err := web.Resolve(in(tt.params))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Resolve(%v) = %q, want %q", tt.params, got, tt.want)
		}
	}
	if got := web.Parameter("maxReplicas").Allowed(); !strings.HasSuffix(got, "from 1 to 20, and at least minReplicas") {
		t.Errorf("Allowed() = %q", got)
	}
}
