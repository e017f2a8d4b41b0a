package approval

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/config"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: team-a}\ndata: {shards: \"%s\"}\n"

func repo(prodApprovals, shards, comment string) map[string]string {
	cfg := "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nteams:\n- {name: sre, namespaces: [\"*\"]}\nenvironments:\n- name: dev\n- name: prod\n" + prodApprovals
	return map[string]string{
		"gitvend.yaml":                         cfg,
		"environments/dev/kustomization.yaml":  "resources: [cm.yaml]\n",
		"environments/dev/cm.yaml":             strings.Replace(cm, "%s", "1", 1),
		"environments/prod/kustomization.yaml": "resources: [cm.yaml]\n",
		"environments/prod/cm.yaml":            comment + strings.Replace(cm, "%s", shards, 1),
	}
}

// TestTouched: a change of what prod builds, or of prod's settings,
// touches prod under the older checkout's rules; a comment in a prod file
// builds the same and touches nothing; a change that lifts the rule is
// judged by it.
func TestTouched(t *testing.T) {
	ctx := context.Background()
	const rule = "  approvals: {teams: [sre], count: 1}\n"
	digest := func(files map[string]string) (Digests, *config.Repo) {
		t.Helper()
		d, cfg, err := Digest(ctx, writeTree(t, files), []string{"dev", "prod"})
		if err != nil {
			t.Fatal(err)
		}
		return d, cfg
	}
	base, rules := digest(repo(rule, "3", ""))
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"shards changed", repo(rule, "4", ""), "prod"},
		{"a comment only", repo(rule, "3", "# why three\n"), ""},
		{"the rule lifted", repo("", "4", ""), "prod"},
		{"dev changed", func() map[string]string {
			f := repo(rule, "3", "")
			f["environments/dev/cm.yaml"] = strings.Replace(cm, "%s", "2", 1)
			return f
		}(), ""},
	} {
		head, _ := digest(c.files)
		var got []string
		for _, e := range Touched(rules, base, head) {
			got = append(got, e.Name)
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("%s: touched %v, want %q", c.name, got, c.want)
		}
	}
}

func TestMarker(t *testing.T) {
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	env, shas, ok := ParseMarker("text\n\n" + Marker("prod", []string{a, b}) + "\n")
	if !ok || env != "prod" || len(shas) != 2 || shas[0] != a || shas[1] != b {
		t.Errorf("ParseMarker = %q %v %v", env, shas, ok)
	}
	for _, bad := range []string{"no marker", "<!-- gitvend:unapproved prod -->", "<!-- gitvend:unapproved prod xyz -->", "<!-- gitvend:unapproved Prod! " + a + " -->"} {
		if _, _, ok := ParseMarker(bad); ok {
			t.Errorf("ParseMarker(%q) accepted", bad)
		}
	}
}
