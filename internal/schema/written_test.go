package schema_test

import (
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/schema"
)

// TestWrittenFilesReferenceSchemas checks what gitvend writes: a Request
// record opens with the line pointing editors at the Request schema and
// follows it, and each issue form names the schema of the record it
// becomes.
func TestWrittenFilesReferenceSchemas(t *testing.T) {
	r := request.New("payments-api", request.Spec{Blueprint: "web-service@2", Environment: "dev", Namespace: "team-payments",
		Owner: "payments", Parameters: map[string]any{"image": "ghcr.io/acme/payments:1.4.2", "minReplicas": 2}, TTL: "7d"})
	data, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(data), "\n"); first != schema.Comment(schema.Request) {
		t.Errorf("an encoded record opens with %q, want %q", first, schema.Comment(schema.Request))
	}
	if err := validate(t, schema.Request, data); err != nil {
		t.Errorf("an encoded record fails the schema: %v\n%s", err, data)
	}

	cat, err := blueprint.Load(t.Context(), blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	for _, bp := range cat.List() {
		form, err := blueprint.Form(bp, []string{"dev", "prod"})
		if err != nil {
			t.Fatal(err)
		}
		head := strings.Join(headComments(form), "\n")
		if !strings.Contains(head, "# yaml-language-server: $schema="+blueprint.IssueFormSchema) || !strings.Contains(head, schema.URL(schema.Request)) {
			t.Errorf("the %s form's leading comments name neither its own schema nor the Request schema:\n%s", bp.Name, head)
		}
	}
}
