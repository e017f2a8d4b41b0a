package reconcile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/manifest"
)

// exampleRepo returns the path of the example desired-state repository.
func exampleRepo(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples", "desired-state"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gitvend.yaml")); err != nil {
		t.Skipf("example repository missing: %v", err)
	}
	return dir
}

func TestDesired(t *testing.T) {
	repo := exampleRepo(t)
	objs, err := Desired(t.Context(), repo, cluster.Target{Name: "dev", Environments: []string{"dev"}})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, o := range objs {
		ids[idOf(o).String()] = true
		if manifest.IsGitvendKind(idOf(o)) {
			t.Errorf("gitvend record %s among the desired objects", idOf(o))
		}
	}
	for _, want := range []string{
		"ConfigMap/team-search/search-settings",
		"Deployment/team-payments/payments-api",
		"Namespace/team-payments",
	} {
		if !ids[want] {
			t.Errorf("%s missing from the dev environment (%d objects)", want, len(objs))
		}
	}
	prod, err := Desired(t.Context(), repo, cluster.Target{Name: "prod", Environments: []string{"prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(prod) == 0 || len(prod) >= len(objs) {
		t.Errorf("prod has %d objects, dev %d: want fewer in prod but some", len(prod), len(objs))
	}
}

func TestDesiredErrors(t *testing.T) {
	broken := t.TempDir()
	writeFile(t, filepath.Join(broken, "gitvend.yaml"), "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n")
	writeFile(t, filepath.Join(broken, "environments", "dev", "kustomization.yaml"), "resources:\n- missing.yaml\n")
	noRoot := t.TempDir()
	writeFile(t, filepath.Join(noRoot, "gitvend.yaml"), "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n")

	for _, tc := range []struct {
		name, repo string
		envs       []string
		want       string
	}{
		{"failed build", broken, []string{"dev"}, "build environment dev"},
		{"missing root", noRoot, []string{"dev"}, "no kustomization.yaml"},
		{"unknown environment", exampleRepo(t), []string{"staging"}, `environment "staging" is not defined`},
		{"conflicting environments", exampleRepo(t), []string{"dev", "prod"}, "with different content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Desired(t.Context(), tc.repo, cluster.Target{Name: "x", Environments: tc.envs})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			if len(objs) != 0 {
				t.Errorf("%d objects returned with the error", len(objs))
			}
		})
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDesiredCachedEqualsDesired: builds kept between calls give what a
// fresh build gives, the second call decodes no folder again, and objects
// changed by a caller never reach the cache or the next caller.
func TestDesiredCachedEqualsDesired(t *testing.T) {
	repo := exampleRepo(t)
	target := cluster.Target{Name: "dev", Environments: []string{"dev"}}
	want, err := Desired(t.Context(), repo, target)
	if err != nil {
		t.Fatal(err)
	}
	cache := manifest.NewBuildCache(1000)
	for call := range 3 {
		got, err := DesiredCached(t.Context(), Checkout{Dir: repo}, target, cache)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("call %d: %d objects, want %d", call, len(got), len(want))
		}
		for i := range got {
			if !equality.Semantic.DeepEqual(got[i].Object, want[i].Object) {
				t.Fatalf("call %d: %s differs from a fresh build", call, idOf(got[i]))
			}
		}
		if call > 0 && cache.Hits() == 0 {
			t.Fatalf("call %d: no folder build came from the cache", call)
		}
		// A caller that changes what it got changes nothing kept.
		for _, o := range got {
			o.SetLabels(map[string]string{"changed": "by-caller"})
			o.Object["spec"] = "changed by the caller"
		}
	}
}

// TestDesiredSharedEqualsDesired: a shared build holds the objects a
// build of copies holds, and two shared builds of one checkout share each
// object's content, which SameContent tells without comparing.
func TestDesiredSharedEqualsDesired(t *testing.T) {
	repo := filepath.Join("..", "..", "examples", "desired-state")
	target := cluster.Target{Name: "dev", Environments: []string{"dev"}}
	want, err := Desired(t.Context(), repo, target)
	if err != nil {
		t.Fatal(err)
	}
	cache := manifest.NewBuildCache(1000)
	first, err := DesiredShared(t.Context(), Checkout{Dir: repo}, target, cache)
	if err != nil {
		t.Fatal(err)
	}
	second, err := DesiredShared(t.Context(), Checkout{Dir: repo}, target, cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(want) || len(second) != len(want) {
		t.Fatalf("%d and %d objects, want %d", len(first), len(second), len(want))
	}
	for i := range want {
		if !equality.Semantic.DeepEqual(first[i].Object, want[i].Object) {
			t.Errorf("object %d differs from a build of copies: %v", i, first[i].Object)
		}
		if reflect.ValueOf(first[i].Object).UnsafePointer() != reflect.ValueOf(second[i].Object).UnsafePointer() {
			t.Errorf("object %s: two shared builds do not share its content", idOf(first[i]))
		}
		if !SameContent(first[i], want[i]) || !SameContent(first[i], second[i]) {
			t.Errorf("object %s: SameContent says equal objects differ", idOf(first[i]))
		}
	}
	changed := want[0].DeepCopy()
	changed.SetLabels(map[string]string{"changed": "yes"})
	if SameContent(first[0], changed) {
		t.Error("SameContent says a changed object is the same")
	}
}
