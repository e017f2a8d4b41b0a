package check

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/policy"
)

// sarifSchema compiles testdata's SARIF 2.1.0 schema (the part gitvend
// writes), asserting formats such as uri-reference.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-2.1.0-subset.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sarif.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

// sarifOutput is what SARIF's results say about where they are.
type sarifOutput struct {
	Runs []struct {
		Results []struct {
			RuleID    string
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct{ URI string }
					Region           *struct{ StartLine int }
				}
			}
		}
	}
}

// TestSARIFValidAndLocated: the SARIF of a report with policy findings,
// a waived finding, unreadable input and a budget over its amount is
// valid SARIF 2.1.0, and every result has a location with a file and a
// line (code scanning rejects an upload with a result that has none): a
// budget's finding points at the budget in gitvend.yaml.
func TestSARIFValidAndLocated(t *testing.T) {
	ctx := context.Background()
	schema := sarifSchema(t)
	head := t.TempDir()
	if err := os.CopyFS(head, os.DirFS("../../examples/desired-state")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(head, "requests/dev/team-payments/payments-api/deployment-payments-api.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, bytes.Replace(data, []byte("cpu: 250m"), []byte(`cpu: "12"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	overBudget, err := New(ctx, head, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := New(ctx, badRepo, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		checker  *Checker
		path     string
		wantRule string
		wantURI  string
		wantLine int
	}{
		{"budget", overBudget, head, "budget", "gitvend.yaml", budgetLine(t, head, "payments")},
		{"bad", bad, badRepo, "namespace-boundary", "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := tt.checker.Check(ctx, []string{tt.path}, "")
			if err != nil {
				t.Fatal(err)
			}
			w, err := NewWriter(tt.checker.Policies())
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := w.Write(&out, rep, "sarif", false); err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(inst); err != nil {
				t.Fatalf("not valid SARIF 2.1.0: %v\n%s", err, out.String())
			}
			var log sarifOutput
			if err := json.Unmarshal(out.Bytes(), &log); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range log.Runs[0].Results {
				if len(r.Locations) != 1 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI == "" {
					t.Errorf("result %s has no location with a file: %+v", r.RuleID, r.Locations)
					continue
				}
				pl := r.Locations[0].PhysicalLocation
				if strings.HasSuffix(pl.ArtifactLocation.URI, ".yaml") && pl.Region == nil {
					t.Errorf("result %s in %s has no line", r.RuleID, pl.ArtifactLocation.URI)
				}
				if r.RuleID == tt.wantRule {
					found = true
					if tt.wantURI != "" && (pl.ArtifactLocation.URI != tt.wantURI || pl.Region == nil || pl.Region.StartLine != tt.wantLine) {
						t.Errorf("%s result at %s %+v, want %s line %d", r.RuleID, pl.ArtifactLocation.URI, pl.Region, tt.wantURI, tt.wantLine)
					}
				}
			}
			if !found {
				t.Errorf("no %s result in:\n%s", tt.wantRule, out.String())
			}
		})
	}
}

// TestLocateCostliest: a finding about a namespace that no budget covers
// points at the object that spends most of it.
func TestLocateCostliest(t *testing.T) {
	ctx := context.Background()
	c, err := New(ctx, "../../examples/desired-state", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Check(ctx, []string{"../../examples/desired-state"}, "")
	if err != nil {
		t.Fatal(err)
	}
	where := map[string]place{}
	var most float64
	var want place
	for _, o := range rep.Cost.Objects {
		if o.Namespace != "team-payments" {
			continue
		}
		p := place{file: o.Kind + "-" + o.Name + ".yaml", line: 3}
		where[placeKey(o.Environment, o.ID)] = p
		if o.Monthly > most {
			most, want = o.Monthly, p
		}
	}
	if most == 0 {
		t.Fatal("the examples spend nothing in team-payments")
	}
	vs := rep.Violations[:0:0]
	vs = append(vs, rep.Violations...)
	vs = append(vs, policyViolation("quota", "team-payments"))
	c.locate(vs, rep.Budgets, rep.Cost.Objects, func(key string) (place, bool) { p, ok := where[key]; return p, ok })
	got := vs[len(vs)-1]
	if got.File != want.file || got.Line != want.line {
		t.Errorf("finding placed at %s:%d, want %s:%d", got.File, got.Line, want.file, want.line)
	}
}

// policyViolation is a denial about namespace ns as a whole, as a policy
// on the cost or quota of a namespace reports it.
func policyViolation(id, ns string) policy.Violation {
	return policy.Violation{Policy: id, Severity: "deny", ID: manifest.ID{Namespace: ns}, Message: "namespace " + ns + " is over"}
}

// budgetLine is the line of owner's budget in repo's gitvend.yaml.
func budgetLine(t *testing.T, repo, owner string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, "gitvend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	before, _, ok := strings.Cut(string(data), "- owner: "+owner+"\n")
	if !ok {
		t.Fatalf("no budget of %s in %s/gitvend.yaml", owner, repo)
	}
	return strings.Count(before, "\n") + 1
}
