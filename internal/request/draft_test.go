package request

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var webFields = []FormField{
	{"Request name", "metadata.name"},
	{"Environment", "spec.environment"},
	{"Namespace", "spec.namespace"},
	{"Owner", "spec.owner"},
	{"Image", "spec.parameters.image"},
	{"Min replicas", "spec.parameters.minReplicas"},
	{"Host", "spec.parameters.host"},
}

const formBody = "### Request name\n\npayments-api\n\n### Environment\n\ndev\n\n### Namespace\n\nteam-payments\n\n" +
	"### Owner\n\npayments\n\n### Image\n\nghcr.io/acme/payments:1.4.2\n\n### Min replicas\n\n_No response_\n\n" +
	"### Host\n\n\n\n### Something else\n\nignored\n"

func TestDraftFromForm(t *testing.T) {
	if got := BlueprintFromTitle("[gitvend] web-service: payments API"); got != "web-service" {
		t.Fatalf("blueprint from title = %q", got)
	}
	if got := BlueprintFromTitle("please give me a namespace"); got != "" {
		t.Fatalf("blueprint from plain title = %q", got)
	}
	sections, err := FormSections(strings.ReplaceAll(formBody, "\n", "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := DraftFromForm("web-service", sections, webFields)
	if err != nil {
		t.Fatal(err)
	}
	want := &Draft{Blueprint: "web-service", Name: "payments-api", Environment: "dev", Namespace: "team-payments",
		Owner: "payments", Parameters: map[string]string{"image": "ghcr.io/acme/payments:1.4.2"}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Fatalf("draft (-want +got):\n%s", diff)
	}

	cmds, errs := ParseCommands("/provision set minReplicas=3 namespace=payments-api ttl=7d")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	d.Apply(cmds[0])
	r, err := d.Request(map[string]any{"image": "ghcr.io/acme/payments:1.4.2", "minReplicas": int64(3)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Spec.Namespace != "payments-api" || r.Spec.TTL != "7d" || d.Parameters["minReplicas"] != "3" {
		t.Fatalf("after set: %+v, draft %+v", r.Spec, d)
	}
	if diff := cmp.Diff(d, DraftOf(r)); diff != "" {
		t.Fatalf("DraftOf does not give the draft back (-want +got):\n%s", diff)
	}

	cmds, _ = ParseCommands("/provision team-namespace name=x")
	d.Apply(cmds[0])
	if d.Blueprint != "team-namespace" || d.Namespace != "" || len(d.Parameters) != 0 {
		t.Fatalf("create did not replace the draft: %+v", d)
	}
}

func TestDraftRequestErrors(t *testing.T) {
	_, err := (&Draft{Name: "Bad_Name", Environment: "dev", Owner: "x"}).Request(nil)
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error()
	for _, want := range []string{
		"spec.blueprint: is required: start with /provision <blueprint> or open the issue from a gitvend form",
		`metadata.name: must be a DNS-1123 label`,
		"spec.namespace: is required",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("error %q lacks %q", got, want)
		}
	}
	if strings.Count(got, "spec.blueprint") != 1 {
		t.Errorf("blueprint reported twice: %q", got)
	}
}

func TestFormSectionsLimit(t *testing.T) {
	if _, err := FormSections(strings.Repeat("x", MaxBodyBytes+1)); err == nil || !strings.Contains(err.Error(), "issue body") {
		t.Fatalf("oversized body: %v", err)
	}
}

func FuzzFormSections(f *testing.F) {
	f.Add(formBody)
	f.Add("### \n### a\n_No response_")
	f.Fuzz(func(t *testing.T, body string) {
		s, err := FormSections(body)
		if err != nil {
			return
		}
		d, err := DraftFromForm("web-service", s, webFields)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = d.Request(nil)
	})
}
