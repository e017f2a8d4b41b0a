package desired

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/request"
)

func TestRerender(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.DefaultRepo()
	cat, err := blueprint.Load(ctx, blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	write := func(rel, data string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	add := func(name, bp string, params map[string]any) *request.Request {
		r := request.New(name, request.Spec{Blueprint: bp, Environment: "dev", Namespace: "team-a", Owner: "a", Parameters: params})
		data, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		write(r.Path(), string(data))
		return r
	}
	img := map[string]any{"image": "ghcr.io/acme/web:1.0"}
	add("current", "web-service", img)
	stale := add("stale", "web-service", img)
	add("pinned", "web-service@1", img)
	plan, err := Build(ctx, dir, cfg, cat)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(ctx, dir, plan); err != nil {
		t.Fatal(err)
	}
	// stale was rendered by an older blueprint: one file differs, one is
	// gone from the new render.
	svc := stale.RenderDir() + "/service-stale.yaml"
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(svc)))
	if err != nil {
		t.Fatal(err)
	}
	write(svc, strings.Replace(string(data), "ClusterIP", "NodePort", 1))
	write(stale.RenderDir()+"/configmap-old.yaml", "kind: ConfigMap\n")
	// failing asks for what the blueprint no longer allows.
	add("failing", "web-service", map[string]any{"image": "ghcr.io/acme/web:1.0", "port": 80})
	// A record that does not parse is verify's to report.
	write("requests/dev/team-a/broken.yaml", "kind: Nonsense\n")

	rr, err := Rerender(ctx, dir, cfg, cat)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Current != 1 || len(rr.Stale) != 1 || len(rr.Failing) != 1 || len(rr.Pinned) != 1 {
		t.Fatalf("Rerender = current %d, stale %+v, failing %+v, pinned %v", rr.Current, rr.Stale, rr.Failing, rr.Pinned)
	}
	s := rr.Stale[0]
	if s.Path != stale.Path() || s.Change.Delete[0] != stale.RenderDir() || len(s.Change.Files) == 0 {
		t.Errorf("stale: %+v", s)
	}
	for _, want := range []string{
		"--- a/" + svc + "\n+++ b/" + svc + "\n", "-  type: NodePort\n+  type: ClusterIP\n",
		"--- a/" + stale.RenderDir() + "/configmap-old.yaml\n+++ /dev/null\n",
	} {
		if !strings.Contains(s.Diff, want) {
			t.Errorf("the diff lacks %q:\n%s", want, s.Diff)
		}
	}
	if f := rr.Failing[0]; f.Path != "requests/dev/team-a/failing.yaml" || !strings.Contains(f.Err.Error(), "parameters.port") {
		t.Errorf("failing: %s: %v; want the parameter named", f.Path, f.Err)
	}
	if rr.Pinned[0] != "requests/dev/team-a/pinned.yaml" {
		t.Errorf("pinned: %v", rr.Pinned)
	}
}
