package config

import (
	"strings"
	"testing"
)

func TestParseRepoApprovals(t *testing.T) {
	const head = "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nteams:\n- {name: payments}\n- {name: sre}\nenvironments:\n- name: dev\n"
	r, err := ParseRepo([]byte(head + "- name: prod\n  approvals: {teams: [sre, payments], count: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if dev, _ := r.Environment("dev"); dev.NeedsApproval() {
		t.Errorf("dev needs approvals: %+v", dev.Approvals)
	}
	prod, _ := r.Environment("prod")
	if !prod.NeedsApproval() || prod.Approvals.Count != 2 || strings.Join(prod.Approvals.Teams, ",") != "sre,payments" {
		t.Errorf("prod approvals = %+v", prod.Approvals)
	}

	for _, c := range []struct{ yaml, want string }{
		{"  approvals: {teams: [sre], count: 0}\n", `environments[1].approvals.count: must be a whole number of approvals of at least 1, got 0`},
		{"  approvals: {teams: [sre]}\n", `environments[1].approvals.count: must be a whole number of approvals of at least 1, got 0`},
		{"  approvals: {teams: [], count: 1}\n", `environments[1].approvals.teams: must name at least one team`},
		{"  approvals: {teams: [acme/sre], count: 1}\n", `environments[1].approvals.teams[0]: unknown team "acme/sre"; approval teams are spelled as environment teams`},
		{"  approvals: {teams: [sre, sre], count: 1}\n", `environments[1].approvals.teams[1]: team "sre" is named twice`},
		{"  approvals: {teams: [sre], count: 1, of: 3}\n", `environments[1].approvals.of: unknown field; allowed: teams, count`},
		{"  approvals: {teams: [sre], count: two}\n", `approvals.count`},
	} {
		_, err := ParseRepo([]byte(head + "- name: prod\n" + c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.yaml, err, c.want)
		}
	}
}
