package desired

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/request"
)

func TestLocate(t *testing.T) {
	cfg := config.DefaultRepo()
	tests := []struct {
		path string
		want Place
	}{
		{"requests/dev/team-a/web/deployment-web.yaml", Place{Environment: "dev", Namespace: "team-a", Request: "web"}},
		{"requests/dev/team-a/web.yaml", Place{Environment: "dev", Namespace: "team-a", Request: "web"}},
		{"./requests/prod/ns/db/kustomization.yaml", Place{Environment: "prod", Namespace: "ns", Request: "db"}},
		{"environments/prod/extra.yaml", Place{Environment: "prod"}},
		{"environments/production/extra.yaml", Place{}},
		{"elsewhere/x.yaml", Place{}},
	}
	for _, tt := range tests {
		if got := Locate(cfg, tt.path); got != tt.want {
			t.Errorf("Locate(%q) = %+v, want %+v", tt.path, got, tt.want)
		}
	}
}

func TestEnvironmentRootKeepsHandWrittenEntries(t *testing.T) {
	env := config.Environment{Name: "dev", Root: "environments/dev"}
	existing := []byte(`# dev: hand-written notes stay
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ignored-by-gitvend
resources:
  - ../../requests/dev/old/gone
  - extra.yaml
  - ../../requests/dev/a/web
`)
	got, err := EnvironmentRoot(env, existing, []string{"requests/dev/b/api", "requests/dev/a/web"})
	if err != nil {
		t.Fatal(err)
	}
	want := `# dev: hand-written notes stay
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ignored-by-gitvend
resources:
  - extra.yaml
  - ../../requests/dev/a/web
  - ../../requests/dev/b/api
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("root (-want +got):\n%s", diff)
	}
	refs, err := RequestRefs(env, got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"requests/dev/a/web", "requests/dev/b/api"}, refs); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	fresh, err := EnvironmentRoot(env, nil, []string{"requests/dev/a/web"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../requests/dev/a/web\n"; string(fresh) != want {
		t.Errorf("new root = %q, want %q", fresh, want)
	}
	if _, err := EnvironmentRoot(env, []byte("resources: 3\n"), nil); err == nil {
		t.Error("a root whose resources is not a list must be refused")
	}
}

func TestRenderIsDeterministicAndDecodes(t *testing.T) {
	ctx := context.Background()
	cat, err := blueprint.Load(ctx, blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	req := request.New("web", request.Spec{Blueprint: "web-service", Environment: "dev", Namespace: "team-a", Owner: "a",
		Parameters: map[string]any{"image": "ghcr.io/acme/web:1.0.0", "ingress": true}})
	first, err := Render(ctx, cat, req)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := Render(ctx, cat, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Files) != len(first.Files) {
			t.Fatalf("file count changed: %d then %d", len(first.Files), len(again.Files))
		}
		for i := range again.Files {
			if again.Files[i].Path != first.Files[i].Path || !bytes.Equal(again.Files[i].Data, first.Files[i].Data) {
				t.Fatalf("render is not deterministic at %s", again.Files[i].Path)
			}
		}
	}
	var paths []string
	for _, f := range first.Files {
		paths = append(paths, f.Path)
	}
	want := []string{
		"requests/dev/team-a/web/deployment-web.yaml",
		"requests/dev/team-a/web/horizontalpodautoscaler-web.yaml",
		"requests/dev/team-a/web/ingress-web.yaml",
		"requests/dev/team-a/web/kustomization.yaml",
		"requests/dev/team-a/web/poddisruptionbudget-web.yaml",
		"requests/dev/team-a/web/service-web.yaml",
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	for _, o := range first.Objects {
		if o.Line == 0 || o.File == "" {
			t.Errorf("%s has no source position", o.ID)
		}
	}
}

func TestPropose(t *testing.T) {
	ctx := context.Background()
	dir, cfg, cat := exampleRepo(t)
	r := request.New("orders", request.Spec{Blueprint: "web-service", Environment: "dev", Namespace: "team-payments",
		Owner: "payments", Parameters: map[string]any{"image": "ghcr.io/acme/orders:2.0.0"}})
	c, err := Propose(ctx, dir, cfg, cat, r, "acme/infra#7")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range c.Files {
		paths = append(paths, f.Path)
	}
	want := []string{
		"requests/dev/team-payments/orders.yaml",
		"requests/dev/team-payments/orders/deployment-orders.yaml",
		"requests/dev/team-payments/orders/horizontalpodautoscaler-orders.yaml",
		"requests/dev/team-payments/orders/kustomization.yaml",
		"requests/dev/team-payments/orders/poddisruptionbudget-orders.yaml",
		"requests/dev/team-payments/orders/service-orders.yaml",
		"environments/dev/kustomization.yaml",
	}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Fatalf("files (-want +got):\n%s", diff)
	}
	if got := OriginOf(c.Files[0].Data); got != "acme/infra#7" {
		t.Fatalf("origin = %q", got)
	}
	if !strings.Contains(string(c.Files[len(c.Files)-1].Data), "- ../../requests/dev/team-payments/orders\n") ||
		!strings.Contains(string(c.Files[len(c.Files)-1].Data), "- search-config.yaml\n") {
		t.Fatalf("environment root:\n%s", c.Files[len(c.Files)-1].Data)
	}

	// Written, the same origin may change it; another may not, nor may
	// anyone change a record written by hand.
	writeChange(t, dir, c)
	if _, err := Propose(ctx, dir, cfg, cat, r, "acme/infra#7"); err != nil {
		t.Fatalf("same origin: %v", err)
	}
	_, err = Propose(ctx, dir, cfg, cat, r, "acme/infra#8")
	if err == nil || err.Error() != "metadata.name: requests/dev/team-payments/orders.yaml already exists (asked for in acme/infra#7); pick another name with /provision set name=…" {
		t.Fatalf("other origin: %v", err)
	}
	hand := request.New("payments-api", request.Spec{Blueprint: "web-service", Environment: "dev", Namespace: "team-payments", Owner: "payments"})
	if _, err := Propose(ctx, dir, cfg, cat, hand, "acme/infra#9"); err == nil || !strings.Contains(err.Error(), "written by hand") {
		t.Fatalf("hand-written record: %v", err)
	}
	w, err := Withdraw(dir, cfg, r, "acme/infra#7")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"requests/dev/team-payments/orders.yaml", "requests/dev/team-payments/orders"}, w.Delete); diff != "" {
		t.Errorf("withdraw deletes (-want +got):\n%s", diff)
	}
	if len(w.Files) != 1 || strings.Contains(string(w.Files[0].Data), "orders") || !strings.Contains(string(w.Files[0].Data), "payments-api") {
		t.Errorf("environment root after withdraw:\n%s", w.Files[0].Data)
	}
	if _, err := Withdraw(dir, cfg, r, "acme/infra#8"); err == nil || !strings.Contains(err.Error(), "asked for in acme/infra#7") {
		t.Errorf("withdraw from another origin: %v", err)
	}
	gone := request.New("nothing", request.Spec{Blueprint: "web-service", Environment: "dev", Namespace: "team-payments", Owner: "payments"})
	if _, err := Withdraw(dir, cfg, gone, "acme/infra#7"); !errors.Is(err, ErrNotInBranch) {
		t.Errorf("withdraw of a request not in the repository: %v", err)
	}
	bad := request.New("x", request.Spec{Blueprint: "web-service", Environment: "staging", Namespace: "team-payments", Owner: "payments"})
	if _, err := Propose(ctx, dir, cfg, cat, bad, "acme/infra#9"); err == nil || !strings.HasPrefix(err.Error(), "spec.environment: unknown environment \"staging\"; this repository has dev, prod") {
		t.Fatalf("unknown environment: %v", err)
	}
}

// TestPlainEnvironmentRootAsYAML writes roots line by line and through
// YAML and wants the same bytes wherever the lines answer, and an answer
// for every root gitvend writes itself.
func TestPlainEnvironmentRootAsYAML(t *testing.T) {
	env := config.Environment{Name: "dev", Root: "environments/dev"}
	dirs := []string{"requests/dev/ns-b/app", "requests/dev/ns-a/app", "requests/dev/ns-a/app-2"}
	written, err := EnvironmentRoot(env, nil, dirs)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		existing string
		dirs     []string
		answers  bool
	}{
		{"written by gitvend", string(written), append(dirs, "requests/dev/ns-c/new"), true},
		{"a request taken out", string(written), dirs[1:], true},
		{"hand-written entries kept first", plainRootHeader + "  - ../../shared/base\n  - ../../requests/dev/ns-a/app\n  - ./extra/config\n", dirs, true},
		{"the last request taken out", plainRootHeader + "  - ../../requests/dev/ns-a/app\n", nil, false},
		{"written with another indent", strings.ReplaceAll(string(written), "  - ", "- "), dirs, false},
		{"a comment", string(written) + "# note\n", dirs, false},
		{"another field", string(written) + "namePrefix: x-\n", dirs, false},
		{"a quoted entry", plainRootHeader + "  - \"../../shared/base\"\n", dirs, false},
		{"an entry without a slash", plainRootHeader + "  - extra.yaml\n", dirs, false},
		{"no last newline", strings.TrimSuffix(string(written), "\n"), dirs, false},
		{"empty", "", dirs, false},
	}
	for _, tc := range cases {
		got, ok := plainEnvironmentRoot(env, []byte(tc.existing), requestRefs(env, tc.dirs))
		if ok != tc.answers {
			t.Errorf("%s: lines answer %v, want %v", tc.name, ok, tc.answers)
		}
		if !ok {
			continue
		}
		// The round trip, with the line editor out of the way.
		want, err := yamlEnvironmentRoot(env, []byte(tc.existing), requestRefs(env, tc.dirs))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: lines write\n%s\nYAML writes\n%s", tc.name, got, want)
		}
	}
}

// TestRefNamerAsRel names request folders from roots at many places and
// wants what the relative path from the root gives, folder by folder.
func TestRefNamerAsRel(t *testing.T) {
	dirs := []string{"requests/dev/ns-a/app", "requests/dev/ns-b/app-2", "requests/dev/x/y/z", "requests/dev-2/ns/app",
		"requests/dev/../prod/ns/app", "requests/devx/ns/app", "elsewhere/app"}
	for _, root := range []string{"environments/dev", "dev", ".", "a/b/c/d", "requests", "requests/dev", "requests/dev/ns-a",
		"requests/dev-2", "environments/dev/", "./environments/dev"} {
		env := config.Environment{Name: "dev", Root: root}
		n := newRefNamer(env)
		for _, d := range dirs {
			if got, want := n.of(d), requestRef(env, d); got != want {
				t.Errorf("root %s, folder %s: named %q, want %q", root, d, got, want)
			}
		}
	}
}

// TestCheckoutRootsAsEnvironmentRoot: a checkout writes an environment's
// root from references it sorted once, putting the proposed request in
// its place and leaving out the one withdrawn; the bytes are those
// EnvironmentRoot writes from every request folder, for requests named
// before, between and after the others, and for one already there.
func TestCheckoutRootsAsEnvironmentRoot(t *testing.T) {
	ctx := context.Background()
	dir, cfg, cat := exampleRepo(t)
	newRequest := func(name string) *request.Request {
		return request.New(name, request.Spec{Blueprint: "web-service", Environment: "dev", Namespace: "team-payments",
			Owner: "payments", Parameters: map[string]any{"image": "ghcr.io/acme/" + name + ":1.0.0"}})
	}
	for _, name := range []string{"bbb", "ddd"} {
		c, err := Propose(ctx, dir, cfg, cat, newRequest(name), "acme/infra#1")
		if err != nil {
			t.Fatal(err)
		}
		writeChange(t, dir, c)
	}
	env, err := admission.Environment(cfg, "dev")
	if err != nil {
		t.Fatal(err)
	}
	existing, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(env.Root), "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	records, err := Requests(dir)
	if err != nil {
		t.Fatal(err)
	}
	co := NewCheckout(dir)
	for _, name := range []string{"aaa", "ccc", "eee", "bbb"} {
		r := newRequest(name)
		for _, include := range []bool{true, false} {
			var dirs []string
			if include {
				dirs = append(dirs, r.RenderDir())
			}
			for _, rec := range records {
				if rec.Err == nil && rec.Request.Spec.Environment == "dev" && rec.Path != r.Path() {
					dirs = append(dirs, rec.Request.RenderDir())
				}
			}
			want, err := EnvironmentRoot(env, existing, dirs)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := co.rootWith(env, r, include)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%s (include %v): checkout writes\n%s\nEnvironmentRoot writes\n%s", name, include, got, want)
			}
		}
	}
}

// exampleRepo copies the example desired-state repository into a new
// folder and loads its configuration and the built-in blueprints.
func exampleRepo(t *testing.T) (string, *config.Repo, *blueprint.Catalog) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../examples/desired-state")); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := blueprint.Load(context.Background(), blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	return dir, cfg, cat
}

// writeChange writes the files of c into the repository in dir.
func writeChange(t *testing.T, dir string, c *Change) {
	t.Helper()
	for _, f := range c.Files {
		writeFile(t, dir, f.Path, f.Data)
	}
}
