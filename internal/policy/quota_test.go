package policy

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/config"
)

// TestQuotaInput: the quota policy reports at the ResourceQuota's hard
// value, comparing the amounts exactly; an input naming no subject or
// carrying a non-number is refused before evaluation.
func TestQuotaInput(t *testing.T) {
	ctx := context.Background()
	src := `apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: team-a}
spec:
  hard:
    requests.memory: 1Gi #@HARD
`
	subs := subjects(decode(t, src), Context{Environment: "dev", Namespace: "team-a"})
	mem := func(after string) QuotaResource {
		return QuotaResource{Name: "requests.memory", Hard: "1073741824", Used: "0", After: after, Share: after,
			HardText: "1Gi", UsedText: "0", AfterText: after, ShareText: after, HeadroomText: "1Gi"}
	}
	e := engine(t)
	for _, tc := range []struct {
		after string
		want  int
	}{{"1073741824", 0}, {"1073741824.001", 1}, {"99999999999999999999999999999999999999999", 1}} {
		res, err := e.Evaluate(ctx, Input{Subjects: subs, Quotas: []QuotaInput{{Subject: 0, Environment: "dev", Namespace: "team-a", Name: "compute",
			Resources: []QuotaResource{mem(tc.after)}}}})
		if err != nil {
			t.Fatal(err)
		}
		got := only(res.Violations, "quota")
		if len(got) != tc.want {
			t.Fatalf("after %s: %d quota findings, want %d: %s", tc.after, len(got), tc.want, describeViolations(got))
		}
		if tc.want == 1 && (got[0].Line != lineOf(t, src, "HARD") || got[0].Kind != "ResourceQuota" || got[0].Name != "compute") {
			t.Errorf("finding %+v, want it at the quota's hard value (line %d)", got[0], lineOf(t, src, "HARD"))
		}
	}
	// The sandbox that runs a pull request's policies is handed the
	// quotas too: without them its quota policy would find nothing, and
	// the impact of every change would say it stopped denying.
	sb, err := NewSandbox(nil, config.Policy{}, Limits{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	over := Input{Subjects: subs, Quotas: []QuotaInput{{Subject: 0, Environment: "dev", Namespace: "team-a", Name: "compute",
		Resources: []QuotaResource{mem("2147483648")}}}}
	want, err := e.Evaluate(ctx, over)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sb.Evaluate(ctx, over)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	if len(only(got.Violations, "quota")) != 1 || !reflect.DeepEqual(got, want) {
		t.Errorf("the sandbox judges quotas otherwise:\n got %s\nwant %s", describeViolations(got.Violations), describeViolations(want.Violations))
	}
	// The engine keeps quotas converted by content, not by subject: the
	// same quota judged again at another place among the subjects is
	// found there.
	cm := decode(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first, namespace: team-a}\n")
	moved := over
	moved.Subjects = subjects(append(cm, decode(t, src)...), Context{Environment: "dev", Namespace: "team-a"})
	moved.Quotas = []QuotaInput{over.Quotas[0]}
	moved.Quotas[0].Subject = 1
	res, err := e.Evaluate(ctx, moved)
	if err != nil {
		t.Fatal(err)
	}
	if got := only(res.Violations, "quota"); len(got) != 1 || got[0].Kind != "ResourceQuota" || got[0].Name != "compute" {
		t.Errorf("the quota moved to subject 1: findings %s, want one on the ResourceQuota", describeViolations(got))
	}
	for name, q := range map[string]QuotaInput{
		"subject out of range": {Subject: 1},
		"not a number":         {Subject: 0, Resources: []QuotaResource{mem("1Gi")}},
	} {
		_, err := e.Evaluate(ctx, Input{Subjects: subs, Quotas: []QuotaInput{q}})
		if err == nil || !strings.Contains(err.Error(), "quotas[0]") {
			t.Errorf("%s: error %v, want one naming quotas[0]", name, err)
		}
	}
}
