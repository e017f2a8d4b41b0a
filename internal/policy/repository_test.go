package policy

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
)

// policyFile builds a repository policy module in package
// gitvend.policies.<name> with the given metadata and rules.
func policyFile(name, metadata, rules string) fstest.MapFS {
	return fstest.MapFS{name + ".rego": {Data: []byte("package gitvend.policies." + name + "\n\nmetadata := " + metadata + "\n\n" + rules + "\n")}}
}

const goodMetadata = `{"id": "team-label", "severity": "deny", "title": "t", "description": "d", "fix": "f", "params": {}}`

const goodRules = `violation contains {"subject": i, "message": "m", "path": []} if {
	some i, s in input.subjects
	not s.object.metadata.labels.team
}`

func TestRepositoryPolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{
			name: "syntax error",
			fsys: fstest.MapFS{"broken.rego": {Data: []byte("package gitvend.policies.broken\n\nviolation contains x if {\n")}},
			want: "parse policies/broken.rego: 1 error occurred: policies/broken.rego:4: rego_parse_error: unexpected eof token",
		},
		{
			name: "id does not match the package",
			fsys: policyFile("team_label", strings.Replace(goodMetadata, `"team-label"`, `"team"`, 1), goodRules),
			want: `policies/team_label.rego: package gitvend.policies.team_label: metadata: id must be "team-label" to match the package name, got "team"`,
		},
		{
			name: "missing metadata fields and bad severity",
			fsys: policyFile("team_label", `{"id": "team-label", "severity": "error", "title": "", "description": "d", "fix": "f", "params": {}}`, goodRules),
			want: `metadata: severity must be deny or warn, got "error"; title is required`,
		},
		{
			name: "unknown metadata key",
			fsys: policyFile("team_label", strings.Replace(goodMetadata, `"params": {}`, `"params": {}, "owner": "x"`, 1), goodRules),
			want: `unknown field "owner"`,
		},
		{
			name: "bad param type",
			fsys: policyFile("team_label", strings.Replace(goodMetadata, `"params": {}`, `"params": {"key": {"type": "list", "default": [], "description": "k"}}`, 1), goodRules),
			want: `params.key.type must be one of string, integer, number, boolean, string-array, got "list"`,
		},
		{
			name: "default of the wrong type",
			fsys: policyFile("team_label", strings.Replace(goodMetadata, `"params": {}`, `"params": {"key": {"type": "integer", "default": "x", "description": "k"}}`, 1), goodRules),
			want: `params.key.default must be an integer, got the string "x"`,
		},
		{
			name: "no violation rule",
			fsys: policyFile("team_label", goodMetadata, `deny contains "x" if { input.subjects[_] }`),
			want: "policies/team_label.rego: package gitvend.policies.team_label has no violation rule",
		},
		{
			name: "violation is not a set",
			fsys: policyFile("team_label", goodMetadata, `violation := [] if { true }`),
			want: "violation must be a set (violation contains finding if { ... })",
		},
		{
			name: "nested policy package",
			fsys: fstest.MapFS{"x.rego": {Data: []byte("package gitvend.policies.acme.team_label\n\nmetadata := " + goodMetadata + "\n\n" + goodRules + "\n")}},
			want: "package gitvend.policies.acme.team_label: a policy must be in package gitvend.policies.<name>",
		},
		{
			name: "network access is not available",
			fsys: policyFile("team_label", goodMetadata, `violation contains {"subject": 0, "message": r.body, "path": []} if {
	r := http.send({"method": "GET", "url": "http://127.0.0.1:1"})
}`),
			want: "undefined function http.send",
		},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(ctx, Options{Extra: tt.fsys})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRepositoryPolicyBadFindings(t *testing.T) {
	tests := []struct {
		name, rules, want string
	}{
		{
			name:  "no message",
			rules: `violation contains {"subject": 0, "path": []} if { true }`,
			want:  "policy team-label: finding",
		},
		{
			name:  "subject out of range",
			rules: `violation contains {"subject": 5, "message": "m", "path": []} if { true }`,
			want:  `policy team-label: finding "m": subject must be an index into input.subjects (0 to 0), got 5`,
		},
		{
			name:  "bad path step",
			rules: `violation contains {"subject": 0, "message": "m", "path": ["spec", true]} if { true }`,
			want:  `policy team-label: finding "m": path[1] must be a key or an index, got true`,
		},
		{
			name:  "not an object",
			rules: `violation contains "m" if { true }`,
			want:  "policy team-label: a finding must be an object with subject, message and path, got m",
		},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(ctx, Options{Extra: policyFile("team_label", goodMetadata, tt.rules)})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			_, err = e.Evaluate(ctx, Input{Subjects: subjects(decode(t, compliantDeployment), requestContext)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Evaluate: got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
