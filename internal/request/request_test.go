package request

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseAndEncode(t *testing.T) {
	in := `apiVersion: gitvend.dev/v1alpha1
kind: Request
metadata:
  name: payments-api
spec:
  blueprint: web-service
  environment: dev
  namespace: team-payments
  owner: payments
  parameters:
    replicas: 3
    image: ghcr.io/acme/payments:1.4.2
    note: "a: b"
  ttl: 7d
`
	r, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Path(), "requests/dev/team-payments/payments-api.yaml"; got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	if got, want := r.RenderDir(), "requests/dev/team-payments/payments-api"; got != want {
		t.Errorf("RenderDir = %q, want %q", got, want)
	}
	out, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `# yaml-language-server: $schema=https://raw.githubusercontent.com/gitvend/gitvend/main/schemas/request.schema.json
apiVersion: gitvend.dev/v1alpha1
kind: Request
metadata:
  name: payments-api
spec:
  blueprint: web-service
  environment: dev
  namespace: team-payments
  owner: payments
  parameters:
    image: ghcr.io/acme/payments:1.4.2
    note: 'a: b'
    replicas: 3
  ttl: 7d
`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("Encode (-want +got):\n%s", diff)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, again); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"request: file is empty"}},
		{"syntax", "kind: [", []string{"request: invalid YAML"}},
		{"unknown field", "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nspec: {image: x}\n", []string{"spec.image: unknown field"}},
		{"every unknown field with its line", "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: a, team: x}\nspec:\n  image: x\nstatus: {}\n", []string{
			"line 3: metadata.team: unknown field; allowed: name",
			"line 5: spec.image: unknown field; allowed: blueprint, environment, namespace, owner, parameters, ttl",
			"line 6: status: unknown field; allowed: apiVersion, kind, metadata, spec",
		}},
		{"wrong type", "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nspec: {parameters: [a], ttl: {a: b}}\n", []string{
			"line 3: spec.parameters: must be a mapping", "line 3: spec.ttl: must be a string",
		}},
		{"not a mapping", "- a\n", []string{"line 1: request: must be a mapping with the fields apiVersion, kind, metadata, spec"}},
		{"everything missing", "apiVersion: v1\nkind: Pod\n", []string{
			`apiVersion: must be "gitvend.dev/v1alpha1"`, `kind: must be "Request"`, "metadata.name: is required",
			"spec.blueprint: is required", "spec.environment: is required", "spec.namespace: is required", "spec.owner: is required",
		}},
		{"bad labels", "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: -x}\nspec: {blueprint: a, environment: dev, namespace: Team, owner: \"a b\", ttl: soon}\n", []string{
			`line 3: metadata.name: must be a DNS-1123 label`, `line 4: spec.namespace: must be a DNS-1123 label`, `spec.owner: must be a DNS-1123 label`,
			`spec.ttl: must be a duration such as 90m, 168h or 7d, got "soon"`,
		}},
		{"long name", "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: " + strings.Repeat("a", 64) + "}\nspec: {blueprint: a, environment: dev, namespace: n, owner: o}\n", []string{"metadata.name: must be a DNS-1123 label"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseTTL(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90m", 90 * time.Minute, true}, {"168h", 168 * time.Hour, true}, {"7d", 7 * 24 * time.Hour, true},
		{"0h", 0, false}, {"-1h", 0, false}, {"1.5d", 0, false}, {"d", 0, false}, {"7days", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseTTL(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseTTL(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata: {name: a}\nspec: {blueprint: b, environment: c, namespace: d, owner: e}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			return
		}
		out, err := r.Encode()
		if err != nil {
			t.Fatalf("valid request does not encode: %v", err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("encoded request does not parse again: %v\n%s", err, out)
		}
	})
}

func TestSplitBlueprint(t *testing.T) {
	for _, c := range []struct {
		ref     string
		name    string
		version int
		err     string
	}{
		{ref: "web-service", name: "web-service"},
		{ref: "web-service@2", name: "web-service", version: 2},
		{ref: "web-service@0", err: `version "0" of blueprint web-service must be a whole number from 1 to 999999, such as web-service@2`},
		{ref: "web-service@02", err: `version "02" of blueprint web-service must be a whole number`},
		{ref: "web-service@two", err: `version "two"`},
		{ref: "Web@2", err: "must name a blueprint"},
		{ref: "web-service@2@3", err: `version "2@3"`},
	} {
		name, v, err := SplitBlueprint(c.ref)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("SplitBlueprint(%q) = %v, want an error containing %q", c.ref, err, c.err)
			}
			continue
		}
		if err != nil || name != c.name || v != c.version {
			t.Errorf("SplitBlueprint(%q) = %q, %d, %v; want %q, %d", c.ref, name, v, err, c.name, c.version)
		}
	}
	r := New("a", Spec{Blueprint: "web-service@3", Environment: "dev", Namespace: "ns", Owner: "team"})
	if err := r.Validate(); err != nil || !r.Pinned() {
		t.Errorf("a pinned request: Validate() = %v, Pinned() = %v", err, r.Pinned())
	}
	r.Spec.Blueprint = "web-service@x"
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "spec.blueprint") {
		t.Errorf("a bad pin: Validate() = %v, want a spec.blueprint error", err)
	}
}

func TestDraftPinsFromFormAndSet(t *testing.T) {
	d, err := DraftFromForm("web-service", map[string]string{"Blueprint version": "2", "Request name": "api"},
		[]FormField{{Label: "Request name", Key: "metadata.name"}, {Label: "Blueprint version", Key: "spec.blueprint.version"}})
	if err != nil || d.Blueprint != "web-service@2" {
		t.Fatalf("form with a version: %+v, %v; want blueprint web-service@2", d, err)
	}
	if _, err := DraftFromForm("web-service", map[string]string{"Blueprint version": "latest"},
		[]FormField{{Label: "Blueprint version", Key: "spec.blueprint.version"}}); err == nil || !strings.Contains(err.Error(), "spec.blueprint") {
		t.Errorf("form with a bad version: %v, want a spec.blueprint field error", err)
	}
	cmds, errs := ParseCommands("/provision set blueprint=web-service@3")
	if len(errs) > 0 || len(cmds) != 1 {
		t.Fatalf("ParseCommands: %v %v", cmds, errs)
	}
	d.Apply(cmds[0])
	if d.Blueprint != "web-service@3" {
		t.Errorf("set blueprint=web-service@3 gives %q", d.Blueprint)
	}
}
