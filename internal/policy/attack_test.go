package policy

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gitvend/gitvend/internal/config"
)

// TestSandboxAttacks: a policy of a pull request that loops, allocates
// without bound, reaches for the network, the runtime's environment or
// files beside it fails safely with a clear problem, and the evaluation
// ends within its bounds.
func TestSandboxAttacks(t *testing.T) {
	cases := []struct {
		name   string
		files  map[string]string
		limits Limits
		want   []string // in the problem
		line   int      // the problem's line, 0 for none
	}{{
		name: "loops forever",
		files: map[string]string{"spin.rego": policyModule("spin", "spin", `violation contains {"message": "never"} if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i + j < 0
}`)},
		limits: Limits{Timeout: 2 * time.Second},
		want:   []string{"ran longer than the 2s the sandbox allows"},
	}, {
		name: "allocates without bound",
		files: map[string]string{"hog.rego": policyModule("hog", "hog", `violation contains {"message": sprintf("%d", [count(xs)])} if {
	xs := numbers.range(1, 2000000000)
}`)},
		limits: Limits{Timeout: 60 * time.Second, Memory: 256 << 20},
		want:   []string{"more than the 256 MiB of memory the sandbox allows"},
	}, {
		name: "calls http.send",
		files: map[string]string{"exfil.rego": policyModule("exfil", "exfil", `violation contains {"message": r.body} if {
	r := http.send({"method": "GET", "url": "http://169.254.169.254/latest/meta-data"})
}`)},
		want: []string{"policies/exfil.rego", "undefined function http.send"},
		line: 6,
	}, {
		name: "looks up an address",
		files: map[string]string{"dns.rego": policyModule("dns", "dns", `violation contains {"message": "x"} if {
	net.lookup_ip_addr("example.com")
}`)},
		want: []string{"policies/dns.rego", "undefined function net.lookup_ip_addr"},
		line: 6,
	}, {
		name: "reads the runtime's environment",
		files: map[string]string{"env.rego": policyModule("env", "env", `violation contains {"message": sprintf("%v", [opa.runtime().env])} if {
	true
}`)},
		want: []string{"policies/env.rego", "undefined function opa.runtime"},
		line: 5,
	}, {
		name: "reads a file beside it",
		files: map[string]string{
			"secret.json": `{"token": "s3cret"}`,
			"leak.rego": policyModule("leak", "leak", `violation contains {"message": data.secret.token} if {
	true
}`) + "\nread := http.send({\"method\": \"GET\", \"url\": \"file:///etc/passwd\", \"tls_client_cert_file\": \"/etc/passwd\"})\n",
		},
		want: []string{"policies/leak.rego", "undefined function http.send"},
		line: 9,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.limits.Memory > 0 && raceDetector {
				t.Skip("under the race detector the sandbox's runtime dies of its memory limit before it can say so")
			}
			extra := fstest.MapFS{}
			for name, src := range tc.files {
				extra[name] = &fstest.MapFile{Data: []byte(src)}
			}
			sb, err := NewSandbox(extra, config.Policy{}, tc.limits)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = sb.Evaluate(context.Background(), Input{Subjects: subjects(decode(t, sandboxManifest), requestContext)})
			took := time.Since(start)
			var re *RulesError
			if !errors.As(err, &re) {
				t.Fatalf("want a RulesError, got %v", err)
			}
			if len(re.Problems) == 0 {
				t.Fatal("no problem reported")
			}
			text := re.Error()
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("problem %q does not say %q", text, w)
				}
			}
			if tc.line > 0 && re.Problems[0].Line != tc.line {
				t.Errorf("problem at line %d, want %d: %s", re.Problems[0].Line, tc.line, text)
			}
			if strings.Contains(text, "s3cret") || strings.Contains(text, "root:") {
				t.Errorf("the problem leaks what the policy read: %s", text)
			}
			if bound := sb.limits.Timeout + 5*time.Second; took > bound {
				t.Errorf("took %s, past %s", took, bound)
			}
			t.Logf("%s in %s", text, took.Round(time.Millisecond))
		})
	}
}

// TestSandboxSeesNoDataBesideThePolicies: a data file in policies/ never
// reaches a policy, which only sees its input.
func TestSandboxSeesNoDataBesideThePolicies(t *testing.T) {
	extra := fstest.MapFS{
		"secret.json": {Data: []byte(`{"token": "s3cret"}`)},
		"data.yaml":   {Data: []byte("token: s3cret\n")},
		"leak.rego": {Data: []byte(policyModule("leak", "leak", `violation contains {"message": sprintf("saw %v %v", [data.secret, data.data])} if {
	true
}`))},
	}
	sb, err := NewSandbox(extra, config.Policy{}, Limits{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sb.Evaluate(context.Background(), Input{Subjects: subjects(decode(t, sandboxManifest), requestContext)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Violations {
		if v.Policy == "leak" {
			t.Fatalf("the policy saw data beside it: %s", v.Message)
		}
	}
}

// TestSandboxRefusesLinks: a policy file that is a link is refused before
// it is read, so no parse error can quote the file it points at.
func TestSandboxRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/etc/passwd", dir+"/passwd.rego"); err != nil {
		t.Fatal(err)
	}
	_, err := NewSandbox(os.DirFS(dir), config.Policy{}, Limits{})
	if err == nil || !strings.Contains(err.Error(), "policies/passwd.rego: a policy file must be a regular file, not a link") {
		t.Fatalf("want a refusal naming the link, got %v", err)
	}
	if strings.Contains(err.Error(), "root:") {
		t.Fatalf("the refusal quotes the file: %v", err)
	}
}
