package desired

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
)

// TestAdoptIntoParametersAndPatches: on the example repository, a live
// image is adopted into the request's image parameter (the request
// rendered again), a field no parameter sets becomes a JSON patch named by
// the environment's root, and the environment then builds the live
// values; hidden values, deleted objects, values the parameter does not
// allow and shortened values are refused with why, and never written.
func TestAdoptIntoParametersAndPatches(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/desired-state")); err != nil {
		t.Fatal(err)
	}
	cat, err := blueprint.Load(ctx, blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	deploy := manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-payments", Name: "payments-api"}
	objs := []LiveObject{
		{ID: deploy, Fields: []LiveField{
			{Path: "spec.template.spec.containers[name=app].image", Live: `"ghcr.io/acme/payments:1.4.3"`},
			{Path: "spec.template.spec.containers[name=app].imagePullPolicy", Live: `"Always"`},
			{Path: "spec.template.metadata.labels[tier]", Live: `"gold"`},
			{Path: "spec.template.spec.containers[name=app].env[name=TOKEN].value", Live: `{"#1a2b3c4d"}`, Hidden: true},
		}},
		{ID: manifest.ID{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Namespace: "team-payments", Name: "payments-api"}, Fields: []LiveField{
			{Path: "spec.minReplicas", Live: `99`},
		}},
		{ID: manifest.ID{APIVersion: "v1", Kind: "Service", Namespace: "team-payments", Name: "payments-api"}, Missing: true},
		{ID: manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "team-search", Name: "search-settings"}, Fields: []LiveField{
			{Path: "metadata.labels[note]", Live: `"aaaa…`},
		}},
	}
	a, err := Adopt(ctx, dir, cfg, cat, []string{"dev"}, objs)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(a.Adopted, "\n") + "\n" + strings.Join(a.Refused, "\n")
	for _, want := range []string{
		"`requests/dev/team-payments/payments-api.yaml`: parameter `image` = `\"ghcr.io/acme/payments:1.4.3\"`",
		"`environments/dev/adopted/deployment-team-payments-payments-api.yaml`: Deployment/team-payments/payments-api `spec.template.spec.containers[name=app].imagePullPolicy`",
		"env[name=TOKEN].value`: its value is hidden",
		"Service/team-payments/payments-api: deleted from the cluster",
		"spec.minReplicas`: parameter `minReplicas` sets it, and does not allow the live value",
		"`metadata.labels[note]`: the value is too long",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("adoption does not say %s:\n%s", want, text)
		}
	}
	for _, f := range a.Files {
		if strings.Contains(string(f.Data), "1a2b3c4d") || strings.Contains(string(f.Data), "minReplicas: 99") || strings.Contains(string(f.Data), "aaaa") {
			t.Errorf("%s holds a refused value:\n%s", f.Path, f.Data)
		}
	}
	// Written to the checkout, the environment builds the live values.
	for _, d := range a.Delete {
		if err := os.RemoveAll(filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range a.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	record, _ := os.ReadFile(filepath.Join(dir, "requests/dev/team-payments/payments-api.yaml"))
	if !strings.Contains(string(record), "image: ghcr.io/acme/payments:1.4.3") {
		t.Errorf("request record:\n%s", record)
	}
	tree, err := manifest.OpenTree(ctx, dir, manifest.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	env, _ := cfg.Environment("dev")
	built, err := BuildEnvironment(tree, env)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, o := range built {
		if o.Kind != "Deployment" || o.Name != "payments-api" {
			continue
		}
		found = true
		steps := func(p string) []step { s, _ := parseFieldPath(p); return s }
		for p, want := range map[string]any{
			"spec.template.spec.containers[name=app].image":           "ghcr.io/acme/payments:1.4.3",
			"spec.template.spec.containers[name=app].imagePullPolicy": "Always",
			"spec.template.metadata.labels[tier]":                     "gold",
		} {
			if got, ok := valueAt(o.Content, steps(p)); !ok || got != want {
				t.Errorf("built %s = %v, want %v", p, got, want)
			}
		}
	}
	if !found {
		t.Fatal("the Deployment is not built any more")
	}
	// Adopting again with the same live values changes nothing more.
	again, err := Adopt(ctx, dir, cfg, cat, []string{"dev"}, objs[:1])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range again.Files {
		if old, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path))); string(old) != string(f.Data) && !strings.HasPrefix(f.Path, "requests/dev/team-payments/payments-api/") {
			t.Errorf("adopting again changes %s:\n%s\nwas:\n%s", f.Path, f.Data, old)
		}
	}
}
