package deploytest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Output writes a rendered installation to dir/name, as `kubectl
// kustomize` or `helm template` would print it, and decodes it again.
func Output(t testing.TB, dir, name string, data []byte) (string, []manifest.Object) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(path, data)
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	if len(objs) == 0 {
		t.Fatalf("%s holds no objects", name)
	}
	return path, objs
}

// PassesCheck runs gitvend's checks over paths, with the policy settings
// of the repository in repoDir (deploy/gitvend.yaml), and fails the test on
// any violation, denial or warning, and on input that could not be read.
func PassesCheck(t testing.TB, repoDir string, paths ...string) {
	t.Helper()
	ctx := t.Context()
	c, err := check.New(ctx, repoDir, nil)
	if err != nil {
		t.Fatalf("prepare checks: %v", err)
	}
	rep, err := c.Check(ctx, paths, "")
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	for _, e := range rep.Errors {
		t.Errorf("gitvend check: %s:%d: %s", e.File, e.Line, e.Message)
	}
	for _, v := range rep.Violations {
		t.Errorf("gitvend check: %s %s: %s: %s", v.Severity, v.Policy, v.ID, v.Message)
	}
	for _, n := range rep.Notices {
		t.Logf("gitvend check: notice: %s", n.Message)
	}
	if rep.Objects == 0 {
		t.Error("gitvend check found no objects")
	}
}

// ServerConfig parses the installation's config.yaml as gitvend serve
// would, with the GitHub credentials given through the environment. Every
// field in missing must be reported as absent, and nothing else; with no
// missing fields the configuration must be valid. Either way it must
// put the leader election Lease in Namespace, and enable it when more
// than one replica runs.
func ServerConfig(t testing.TB, objs []manifest.Object, missing ...string) {
	t.Helper()
	data := ""
	for _, o := range objs {
		if o.Kind == "ConfigMap" {
			if v, ok := manifest.Lookup(o.Content, "data", "config.yaml"); ok {
				data, _ = v.(string)
			}
		}
	}
	if data == "" {
		t.Fatal("no ConfigMap holds config.yaml")
	}
	env := func(key string) string {
		switch key {
		case config.EnvPrivateKey:
			return "-----BEGIN PRIVATE KEY-----\nMA==\n-----END PRIVATE KEY-----\n"
		case config.EnvWebhookSecret:
			return "webhook-secret"
		}
		return ""
	}
	var raw struct {
		LeaderElection struct {
			Enabled   bool   `yaml:"enabled"`
			Namespace string `yaml:"namespace"`
		} `yaml:"leaderElection"`
	}
	if err := yaml.Unmarshal([]byte(data), &raw); err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	if le := raw.LeaderElection; (!le.Enabled && replicas(objs) > 1) || le.Namespace != Namespace {
		t.Errorf("leaderElection %+v, want enabled in %s", le, Namespace)
	}
	_, err := config.ParseServer([]byte(data), env)
	switch {
	case len(missing) == 0 && err != nil:
		t.Fatalf("config.yaml is not a valid server configuration: %v\n%s", err, data)
	case len(missing) == 0:
		return
	case err == nil:
		t.Fatalf("config.yaml is valid, want it to lack %v", missing)
	}
	reported := map[string]bool{}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		i := slices.IndexFunc(missing, func(f string) bool { return strings.Contains(line, " "+f+": ") })
		if i < 0 {
			t.Errorf("config.yaml: %s", line)
			continue
		}
		reported[missing[i]] = true
	}
	for _, f := range missing {
		if !reported[f] {
			t.Errorf("config.yaml: %s is not reported missing", f)
		}
	}
}

// replicas is the Deployment's replica count, 1 when unset.
func replicas(objs []manifest.Object) int {
	for _, o := range objs {
		if o.Kind == "Deployment" {
			if v, ok := manifest.Lookup(o.Content, "spec", "replicas"); ok {
				switch n := v.(type) {
				case int:
					return n
				case int64:
					return int(n)
				case float64:
					return int(n)
				}
			}
		}
	}
	return 1
}
