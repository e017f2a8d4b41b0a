package blueprint

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/manifest"
)

// hostile are parameter values that would change the structure of a
// document if they were pasted into YAML text.
var hostile = map[string]string{
	"mapping":          "a: b",
	"list item":        "\n- x",
	"flow mapping":     "{}",
	"flow list":        "[]",
	"document marker":  "---",
	"second document":  "x\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\n",
	"anchor":           "&anchor",
	"alias":            "*alias",
	"tag":              "!!binary",
	"custom tag":       "!secret x",
	"literal block":    "|",
	"folded block":     ">\n  folded",
	"comment":          "#",
	"trailing comment": "value # comment",
	"nested keys":      "key: value\nother:\n  nested: true",
	"indentation":      "x\n  y: z",
	"unicode":          "日本語 — 🚀 ünïcödé",
	"NUL byte":         "a\x00b",
	"control bytes":    "\x01\x07\x1b[31m\x7f",
	"line separators":  "a\u2028b\u2029c\u0085d",
	"byte order mark":  "\ufeffbom",
	"null word":        "null",
	"tilde":            "~",
	"boolean word":     "true",
	"yes word":         "yes",
	"number":           "0x1F",
	"float":            "1e3",
	"date":             "2024-01-01",
	"quotes":           `'single' "double"`,
	"backslashes":      `\n\t\\`,
	"crlf":             "a\r\nb: c",
	"tabs":             "\tkey:\tvalue",
	"tab-led lines":    "\tx\ny: z",
	"lone line break":  "\n",
	"spaces only":      "   ",
	"empty":            "",
	"merge key":        "<<: *x",
	"directive":        "%YAML 1.1",
	"percent":          "%",
	"at sign":          "@x",
	"backtick":         "`x`",
	"json":             `{"apiVersion": "v1", "kind": "Secret"}`,
	"100 KiB":          strings.Repeat("a: [b, {c: d}]\n- ", 100<<10/17),
}

// checkSinkObjects asserts that rendering the kitchen-sink blueprint with
// text = value gave exactly the expected objects and fields, with value
// stored verbatim as one string.
func checkSinkObjects(t testing.TB, objs []manifest.Object, value string) {
	t.Helper()
	if len(objs) != 2 {
		t.Fatalf("got %d objects, want 2", len(objs))
	}
	cm, dep := objs[0], objs[1]
	if cm.ID != (manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "team-a", Name: "demo"}) ||
		dep.ID != (manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-a", Name: "demo"}) {
		t.Fatalf("objects are %s and %s", cm.ID, dep.ID)
	}
	keys := func(v any) []string {
		m, _ := v.(map[string]any)
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	shape := []struct {
		what string
		got  []string
		want []string
	}{
		{"ConfigMap keys", keys(cm.Content), []string{"apiVersion", "data", "kind", "metadata"}},
		{"ConfigMap metadata keys", keys(cm.Content["metadata"]), []string{"annotations", "labels", "name", "namespace"}},
		{"ConfigMap data keys", keys(cm.Content["data"]), []string{"greeting", "text"}},
		{"ConfigMap annotations", keys(cm.Content["metadata"].(map[string]any)["annotations"]), []string{"example.com/text"}},
		{"Deployment keys", keys(dep.Content), []string{"apiVersion", "kind", "metadata", "spec"}},
	}
	for _, s := range shape {
		if diff := cmp.Diff(s.want, s.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.what, diff)
		}
	}
	if got, _ := manifest.Lookup(cm.Content, "data", "text"); got != value {
		t.Errorf("data.text = %q, want %q", got, value)
	}
	if got := cm.Annotations()["example.com/text"]; got != value {
		t.Errorf("annotation = %q, want %q", got, value)
	}
	if got, _ := manifest.Lookup(cm.Content, "data", "greeting"); got != "hello alpha, demo in team-a/dev x1 "+value {
		t.Errorf("data.greeting = %q, want the format with the value inside", got)
	}
}

func TestInjectionRendersOneString(t *testing.T) {
	b := sink(t)
	for name, value := range hostile {
		t.Run(name, func(t *testing.T) {
			out, err := b.Render(context.Background(), with(map[string]any{"text": value}))
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			checkSinkObjects(t, out.Objects, value)
		})
	}
}

// TestInjectionSurvivesEncoding decodes what is written to Git, the
// rendered objects encoded by manifest.EncodeAll, and expects the same
// objects with the same strings.
func TestInjectionSurvivesEncoding(t *testing.T) {
	b := sink(t)
	for name, value := range hostile {
		t.Run(name, func(t *testing.T) {
			out, err := b.Render(context.Background(), with(map[string]any{"text": value}))
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			data, err := manifest.EncodeAll(out.Objects)
			if err != nil {
				t.Fatal(err)
			}
			back, err := manifest.Decode("rendered.yaml", data)
			if err != nil {
				t.Fatalf("decode rendered YAML: %v\n%s", err, data)
			}
			checkSinkObjects(t, back, value)
		})
	}
}

func TestInjectionRefusedByPatterns(t *testing.T) {
	c := builtin(t)
	params := map[string][]string{
		"web-service":    {"image", "healthPath", "host", "ingressClassName"},
		"preview":        {"image", "healthPath", "host", "ttl"},
		"scheduled-job":  {"image", "schedule", "timeZone"},
		"postgres":       {"image", "credentialsSecret", "database", "storageClassName"},
		"team-namespace": {"viewersGroup", "editorsGroup", "adminsGroup"},
	}
	for bpName, names := range params {
		bp, err := c.Get(bpName)
		if err != nil {
			t.Fatal(err)
		}
		for _, param := range names {
			for name, value := range hostile {
				// Plain words such as "true" or "null" may well match a
				// pattern; they are strings all the same (see the test above).
				if !strings.ContainsAny(value, ":\n\r{}[]&*!|#>%@`'\"\\\x00\ufeff") && !strings.HasPrefix(value, "---") {
					continue
				}
				t.Run(bpName+"/"+param+"/"+name, func(t *testing.T) {
					in := examples[bpName]
					in.Parameters = map[string]any{param: value}
					if param != "image" && bp.Parameter("image") != nil {
						in.Parameters["image"] = "ghcr.io/acme/x:1.0.0"
					}
					if bp.Parameter("ingress") != nil {
						in.Parameters["ingress"] = true
					}
					_, err := bp.Render(context.Background(), in)
					errs := field.All(err)
					if len(errs) != 1 || errs[0].Field != "parameters."+param {
						t.Fatalf("want one error on parameters.%s, got %v", param, err)
					}
				})
			}
		}
	}
}
