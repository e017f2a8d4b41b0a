package check

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const exampleRepo = "../../examples/desired-state"

// hostPathPod is a privileged Pod that mounts the node's root file system.
const hostPathPod = `apiVersion: v1
kind: Pod
metadata:
  name: node-shell
  namespace: team-payments
  labels: {app.kubernetes.io/name: node-shell, gitvend.dev/owner: payments}
spec:
  containers:
  - name: shell
    image: ghcr.io/acme/shell:1.0.0
    securityContext: {privileged: true}
    volumeMounts: [{name: host, mountPath: /host}]
  volumes:
  - name: host
    hostPath: {path: /}
`

// copyRepo copies the example repository and writes files over it.
func copyRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(exampleRepo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(exampleRepo, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		p := filepath.Join(dst, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// movedRoot is the example gitvend.yaml with the dev root moved to root.
func movedRoot(t *testing.T, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(exampleRepo, "gitvend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(string(data), "- name: dev\n", "- name: dev\n  root: "+root+"\n", 1)
}

// rootLine is the line movedRoot writes the root on: the one after dev's
// name in the example's gitvend.yaml.
func rootLine(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(exampleRepo, "gitvend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	before, _, ok := strings.Cut(string(data), "- name: dev\n")
	if !ok {
		t.Fatal("the example's gitvend.yaml defines no dev environment")
	}
	return strings.Count(before, "\n") + 2
}

// TestPullRequestChecksWhatApplyApplies checks pull requests that move the
// dev root, as the App does: with the base's settings and policies, the
// head's roots.
func TestPullRequestChecksWhatApplyApplies(t *testing.T) {
	ctx := context.Background()
	base, err := New(ctx, exampleRepo, nil)
	if err != nil {
		t.Fatal(err)
	}
	devRoot, err := os.ReadFile(filepath.Join(exampleRepo, "environments/dev/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	root := func(dir string, extra ...string) string {
		k := strings.ReplaceAll(string(devRoot), "../../requests/", strings.Repeat("../", strings.Count(dir, "/")+1)+"requests/")
		k = strings.Replace(k, "  - search-config.yaml\n", "  - search-config.yaml\n  - "+strings.Join(extra, "\n  - ")+"\n", 1)
		return k
	}
	tests := []struct {
		name  string
		files map[string]string
		// wantError is a problem the report must list; wantDenied a file
		// with denials.
		wantError, wantDenied string
	}{
		{name: "hidden root", files: map[string]string{
			"gitvend.yaml":              movedRoot(t, ".x/dev"),
			".x/dev/kustomization.yaml": root(".x/dev", "pod.yaml"),
			".x/dev/search-config.yaml": mustRead(t, "environments/dev/search-config.yaml"),
			".x/dev/pod.yaml":           hostPathPod,
		}, wantError: "gitvend.yaml:" + strconv.Itoa(rootLine(t)) + ": environments[0].root: must be a plain relative path inside the repository"},
		{name: "visible root elsewhere", files: map[string]string{
			"gitvend.yaml":                    movedRoot(t, "clusters/dev"),
			"clusters/dev/kustomization.yaml": root("clusters/dev", "pod.yaml"),
			"clusters/dev/search-config.yaml": mustRead(t, "environments/dev/search-config.yaml"),
			"clusters/dev/pod.yaml":           hostPathPod,
		}, wantDenied: "clusters/dev/pod.yaml"},
		{name: "hidden folder included by a root", files: map[string]string{
			"environments/dev/kustomization.yaml": root("environments/dev", "../../.hidden/shell"),
			".hidden/shell/kustomization.yaml":    "resources: [pod.yaml]\n",
			".hidden/shell/pod.yaml":              hostPathPod,
		}, wantDenied: ".hidden/shell/pod.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := copyRepo(t, tt.files)
			rep, err := base.For(head).Check(ctx, []string{head}, exampleRepo)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Passed {
				t.Fatalf("the check passed: %+v", rep)
			}
			if tt.wantError != "" {
				found := false
				for _, p := range rep.Errors {
					found = found || strings.HasPrefix(p.File+":"+strconv.Itoa(p.Line)+": "+p.Message, tt.wantError)
				}
				if !found {
					t.Errorf("errors %+v lack %q", rep.Errors, tt.wantError)
				}
			}
			if tt.wantDenied != "" {
				policies := map[string]bool{}
				for _, v := range rep.Violations {
					if v.Severity == "deny" && v.File == tt.wantDenied {
						policies[v.Policy] = true
					}
				}
				if !policies["host-path"] || !policies["privileged-container"] {
					t.Errorf("denials in %s: %v; want host-path and privileged-container (violations %+v, errors %+v)", tt.wantDenied, policies, rep.Violations, rep.Errors)
				}
			}
		})
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(exampleRepo, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestPullRequestConfigThroughALink makes the head's gitvend.yaml a link
// to a file outside the checkout: it is not read, and the check fails.
func TestPullRequestConfigThroughALink(t *testing.T) {
	ctx := context.Background()
	base, err := New(ctx, exampleRepo, nil)
	if err != nil {
		t.Fatal(err)
	}
	head := copyRepo(t, nil)
	outside := filepath.Join(filepath.Dir(head), "elsewhere.yaml")
	if err := os.WriteFile(outside, []byte(movedRoot(t, "clusters/dev")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(head, "gitvend.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../elsewhere.yaml", filepath.Join(head, "gitvend.yaml")); err != nil {
		t.Fatal(err)
	}
	rep, err := base.For(head).Check(ctx, []string{head}, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || len(rep.Errors) != 1 || rep.Errors[0].File != "gitvend.yaml" || !strings.Contains(rep.Errors[0].Message, "leads outside") {
		t.Errorf("passed %v, errors %+v; want the link refused", rep.Passed, rep.Errors)
	}
}
