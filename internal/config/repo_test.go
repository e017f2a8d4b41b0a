package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseRepo(t *testing.T) {
	good := `apiVersion: gitvend.dev/v1alpha1
kind: Config
environments:
- name: dev
- name: prod
  root: clusters/prod
  teams: [payments]
  prices: {cpu: 0.05}
teams:
- name: payments
  namespaces: [team-payments, "payments-*"]
budgets:
- owner: payments
  monthly: 100
policy:
  policies:
    probes: {severity: deny}
  exceptions:
  - policy: host-path
    name: node-exporter
    reason: needs /proc of the node to export metrics
`
	r, err := ParseRepo([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := r.Environment("dev"); e.Root != "environments/dev" {
		t.Errorf("default root = %q", e.Root)
	}
	if e, _ := r.Environment("prod"); e.Root != "clusters/prod" || !e.AllowsTeam("payments") || e.AllowsTeam("search") {
		t.Errorf("prod = %+v", e)
	}
	team, _ := r.Team("payments")
	for ns, want := range map[string]bool{"team-payments": true, "payments-eu": true, "team-search": false} {
		if team.MayUse(ns) != want {
			t.Errorf("MayUse(%q) = %v", ns, !want)
		}
	}
	if r.Intake.Permission != "write" || r.Intake.Label != "gitvend" {
		t.Errorf("intake defaults = %+v", r.Intake)
	}
	if r.Forks != ForksCheck || DefaultRepo().Forks != ForksCheck {
		t.Errorf("forks default = %q, %q; want check", r.Forks, DefaultRepo().Forks)
	}
}

func TestParseRepoExpiry(t *testing.T) {
	r, err := ParseRepo([]byte("apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n- {name: dev}\n- {name: preview, requireTTL: true, maxTTL: 7d, expiryWarning: 2h, autoMerge: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := r.Environment("dev")
	if dev.RequireTTL || dev.AutoMerge || dev.MaxTTLDuration() != 0 || dev.Warning() != DefaultExpiryWarning {
		t.Errorf("dev's expiry: %+v, warning %s", dev, dev.Warning())
	}
	pv, _ := r.Environment("preview")
	if !pv.RequireTTL || !pv.AutoMerge || pv.MaxTTLDuration() != 7*24*time.Hour || pv.Warning() != 2*time.Hour {
		t.Errorf("preview's expiry: %+v", pv)
	}
}

func TestParseRepoForks(t *testing.T) {
	head := "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments: [{name: dev}]\n"
	for _, mode := range []string{"check", "neutral"} {
		r, err := ParseRepo([]byte(head + "forks: " + mode + "\n"))
		if err != nil || r.Forks != mode {
			t.Errorf("forks: %s = %+v, %v", mode, r, err)
		}
	}
	for in, want := range map[string]string{
		"forks: skip\n":          `line 4: forks: must be one of check, neutral (what pull requests from forks get), got "skip"`,
		"forks: {mode: check}\n": "line 4: forks:",
	} {
		_, err := ParseRepo([]byte(head + in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func TestParseRepoErrors(t *testing.T) {
	head := "apiVersion: gitvend.dev/v1alpha1\nkind: Config\n"
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"file is empty"}},
		{"not YAML", "a: [", []string{"invalid YAML"}},
		{"unknown field", head + "environments: [{name: dev, cluster: x}]\n", []string{"line 3: environments[0].cluster: unknown field; allowed: name, root, teams, prices"}},
		{"every unknown field", head + "environments:\n- name: dev\n  cluster: x\npolicy:\n  policies: {probes: {level: deny}}\nowners: []\n", []string{
			"line 5: environments[0].cluster: unknown field; allowed: name, root, teams, prices",
			"line 7: policy.policies.probes.level: unknown field; allowed: severity, params",
			"line 8: owners: unknown field; allowed: apiVersion, kind, environments, teams, budgets, policy, intake",
		}},
		{"wrong type", head + "environments: [{name: dev}]\nbudgets: [{owner: a, monthly: lots}]\n", []string{`line 4: budgets[0].monthly: must be a number, got "lots"`}},
		{"wrong apiVersion", "apiVersion: v1\nkind: Config\nenvironments: [{name: dev}]\n", []string{`apiVersion: must be "gitvend.dev/v1alpha1"`}},
		{"no environments", head, []string{"environments: must name at least one environment"}},
		{"line of the closest parent", head + "environments: [{name: dev}]\nbudgets:\n- namespace: x\n  monthly: 5\n  environment: qa\n- {monthly: 5}\n", []string{
			`line 7: budgets[0].environment: unknown environment "qa"`,
			"line 8: budgets[1]: must set exactly one of owner or namespace",
		}},
		{"bad names", head + "environments: [{name: Dev}, {name: dev}, {name: dev}]\nteams: [{name: a, namespaces: [Bad]}]\n", []string{
			`teams[0].namespaces[0]: must be a namespace name or a prefix ending in '*', got "Bad"`,
			`line 3: environments[0].name: must be a DNS-1123 label, got "Dev"`,
			`environments[2].name: environment "dev" is defined twice`,
		}},
		{"root outside", head + "environments: [{name: dev, root: ../x}]\n", []string{"environments[0].root: must be a plain relative path inside the repository"}},
		{"roots that are not plain paths", head + "environments:\n- {name: a, root: .x/dev}\n- {name: b, root: envs/.hidden}\n- {name: c, root: /abs}\n- {name: d, root: envs/../x}\n- {name: e, root: ./envs}\n- {name: f, root: envs//g}\n- {name: g, root: 'envs\\\\g'}\n- {name: h, root: envs/h/}\n", []string{
			`line 4: environments[0].root: must be a plain relative path inside the repository such as environments/dev (no leading '/', no '..' or '.' segments, no folder whose name starts with '.'), got ".x/dev"`,
			`line 5: environments[1].root: must be a plain relative path`,
			`line 6: environments[2].root: must be a plain relative path`,
			`line 7: environments[3].root: must be a plain relative path`,
			`line 8: environments[4].root: must be a plain relative path`,
			`line 9: environments[5].root: must be a plain relative path`,
			`line 10: environments[6].root: must be a plain relative path`,
		}},
		{"unknown team", head + "environments: [{name: dev, teams: [ghost]}]\n", []string{`environments[0].teams[0]: unknown team "ghost"`}},
		{"negative price", head + "environments: [{name: dev, prices: {gpu: -1}}]\n", []string{"environments[0].prices.gpu: must not be negative"}},
		{"budget scope", head + "environments: [{name: dev}]\nbudgets: [{monthly: 5}, {namespace: x, monthly: 0, environment: qa}]\n", []string{
			"budgets[0]: must set exactly one of owner or namespace",
			`budgets[1].environment: unknown environment "qa"`,
			"budgets[1].monthly: must be a positive amount",
		}},
		{"policy settings", head + "environments: [{name: dev}]\npolicy:\n  policies: {probes: {severity: fatal}}\n  exceptions: [{policy: probes, reason: short}, {reason: a reason long enough}]\n", []string{
			`policy.policies.probes.severity: must be one of deny, warn, off, got "fatal"`,
			"policy.exceptions[0]: must match objects by at least one of kind, namespace or name",
			"policy.exceptions[0].reason: must explain in at least 10 characters",
			"policy.exceptions[1].policy: is required",
		}},
		{"intake", head + "environments: [{name: dev}]\nintake: {permission: owner}\n", []string{`intake.permission: must be one of read, triage, write, maintain, admin, got "owner"`}},
		{"expiry settings", head + "environments:\n- {name: dev, maxTTL: 3 days, expiryWarning: 0h}\n- {name: qa, maxTTL: 48h, expiryWarning: 2d}\n", []string{
			`line 4: environments[0].maxTTL: must be a duration such as 90m, 168h or 7d, got "3 days"`,
			`line 4: environments[0].expiryWarning: must be a positive duration such as 90m, 168h or 7d, got "0h"`,
			`line 5: environments[1].expiryWarning: must be shorter than maxTTL (48h), got "2d"`,
		}},
		{"requireTTL", head + "environments: [{name: pr, requireTTL: sometimes}]\n", []string{`line 3: environments[0].requireTTL: must be true or false, got "sometimes"`}},
		{"two documents", head + "environments: [{name: dev}]\n---\nkind: Config\n", []string{"must hold exactly one YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRepo([]byte(tt.in))
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

func TestPermissionAtLeast(t *testing.T) {
	tests := []struct {
		have, want string
		ok         bool
	}{
		{"admin", "write", true}, {"write", "write", true}, {"triage", "write", false},
		{"read", "read", true}, {"none", "read", false}, {"write", "bogus", false},
	}
	for _, tt := range tests {
		if got := PermissionAtLeast(tt.have, tt.want); got != tt.ok {
			t.Errorf("PermissionAtLeast(%q, %q) = %v", tt.have, tt.want, got)
		}
	}
}

func FuzzParseRepo(f *testing.F) {
	f.Add([]byte("apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments: [{name: dev}]\n"))
	f.Add([]byte("budgets: [{owner: a}]\npolicy: {policies: {x: {params: {a: [1]}}}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRepo(data)
		if err == nil && (r == nil || len(r.Environments) == 0) {
			t.Fatalf("accepted a config without environments")
		}
	})
}

func TestCheckRoot(t *testing.T) {
	tests := []struct {
		root string
		ok   bool
	}{
		{"environments/dev", true}, {"clusters/prod-eu/apps", true}, {"envs/h/", true}, {"dev", true}, {"a.b/c", true},
		{"", false}, {".", false}, {"..", false}, {".x/dev", false}, {"envs/.hidden", false}, {"/abs", false},
		{"envs/../x", false}, {"./envs", false}, {"envs//g", false}, {`envs\g`, false}, {"../x", false}, {"envs/.", false},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			err := CheckRoot(tt.root)
			if (err == nil) != tt.ok {
				t.Errorf("CheckRoot(%q) = %v, want ok %v", tt.root, err, tt.ok)
			}
		})
	}
}

func TestParseRepoRollbackOnFailure(t *testing.T) {
	head := "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n- name: prod\n"
	r, err := ParseRepo([]byte(head + "  rollbackOnFailure: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if dev, _ := r.Environment("dev"); dev.RollbackOnFailure {
		t.Error("dev rolls back without asking")
	}
	if prod, _ := r.Environment("prod"); !prod.RollbackOnFailure {
		t.Error("prod does not roll back though it asks to")
	}
	for in, want := range map[string]string{
		"  rollbackOnFailure: sometimes\n": "line 6: environments[1].rollbackOnFailure:",
		"  rollbackOnFaliure: true\n":      "line 6: environments[1].rollbackOnFaliure: unknown field; allowed: name, root, teams, prices, rollbackOnFailure",
	} {
		_, err := ParseRepo([]byte(head + in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func TestParseRepoFanout(t *testing.T) {
	head := "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments: [{name: dev}]\n"
	r, err := ParseRepo([]byte(head))
	if err != nil || r.Fanout.MaxRequests != DefaultFanoutMaxRequests {
		t.Fatalf("no fanout: %+v, %v; want maxRequests %d", r, err, DefaultFanoutMaxRequests)
	}
	if r, err := ParseRepo([]byte(head + "fanout: {maxRequests: 5}\n")); err != nil || r.Fanout.MaxRequests != 5 {
		t.Errorf("maxRequests 5: %+v, %v", r, err)
	}
	for in, want := range map[string]string{
		"fanout: {maxRequests: 500}\n": "line 4: fanout.maxRequests: must be from 1 to 200 (requests per fan-out pull request; 20 when not set), got 500",
		"fanout: {maxRequests: -1}\n":  "fanout.maxRequests: must be from 1 to 200",
		"fanout: {perPR: 3}\n":         "fanout.perPR",
		"fanout: {maxRequests: x}\n":   "fanout.maxRequests",
	} {
		_, err := ParseRepo([]byte(head + in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}
