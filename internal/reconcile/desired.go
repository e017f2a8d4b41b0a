package reconcile

import (
	"context"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Desired builds, with desired.BuildEnvironment (as the checks of pull
// requests do), the root of every environment t serves in the
// desired-state repository checked out in repoDir (roots come from its
// gitvend.yaml) and returns their objects merged, in environment order then
// kustomize's order. An object built by two environments must be identical
// in both. A failed build is an error, never an empty result.
func Desired(ctx context.Context, repoDir string, t cluster.Target) ([]*unstructured.Unstructured, error) {
	return DesiredCached(ctx, Checkout{Dir: repoDir}, t, nil)
}

// Checkout is a commit's files on disk as a build reads them: the folder
// Dir and, when known, the commit's Stamps (manifest.Stamps), which a
// cached build trusts for what Dir holds, so that folders whose stamps it
// has built before are not read again.
type Checkout struct {
	Dir    string
	Stamps manifest.Stamps
}

// DesiredCached is Desired of checkout c with the builds of folders kept
// in cache (nil for none) for later calls: a server builds a target from
// checkouts of one repository again and again (the plan of every pull
// request, base and head, every apply), and folders whose files (or, with
// stamps, whose stamps) have not changed are not decoded again. The
// objects returned are copies, never the cache's.
func DesiredCached(ctx context.Context, c Checkout, t cluster.Target, cache *manifest.BuildCache) ([]*unstructured.Unstructured, error) {
	return desiredOf(ctx, c, t, cache, false)
}

// DesiredShared is DesiredCached for callers that only read the objects
// (plans, adoptions): they share their content with the cache instead of
// being copied, so two builds of a folder give the same content, which
// SameContent tells at once.
func DesiredShared(ctx context.Context, c Checkout, t cluster.Target, cache *manifest.BuildCache) ([]*unstructured.Unstructured, error) {
	return desiredOf(ctx, c, t, cache, cache != nil)
}

func desiredOf(ctx context.Context, c Checkout, t cluster.Target, cache *manifest.BuildCache, share bool) ([]*unstructured.Unstructured, error) {
	repoDir := c.Dir
	repo, err := config.LoadRepo(repoDir)
	if err != nil {
		return nil, fmt.Errorf("load repository configuration: %w", err)
	}
	if len(t.Environments) == 0 {
		return nil, fmt.Errorf("build target %s: it serves no environment", t.Name)
	}
	tree, err := manifest.OpenTree(ctx, repoDir, manifest.Limits{})
	if err != nil {
		return nil, fmt.Errorf("build target %s: %w", t.Name, err)
	}
	defer tree.Close()
	if cache != nil {
		tree.UseCache(cache)
		tree.ReadOnly() // every object is copied below before it is used
		tree.UseStamps(c.Stamps)
	}
	var out []*unstructured.Unstructured
	// built is where each object was first built: its environment and
	// its place in out.
	type built struct {
		env string
		at  int
	}
	var seen map[key]built
	for _, name := range t.Environments {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("build target %s: %w", t.Name, err)
		}
		env, ok := repo.Environment(name)
		if !ok {
			return nil, fmt.Errorf("build target %s: environment %q is not defined in %s (defined: %v)", t.Name, name, config.RepoFile, repo.EnvironmentNames())
		}
		objs, err := desired.BuildEnvironment(tree, env)
		if err != nil {
			return nil, fmt.Errorf("build environment %s: %w", name, err)
		}
		if seen == nil {
			seen = make(map[key]built, len(objs)*len(t.Environments))
			out = make([]*unstructured.Unstructured, 0, len(objs)*len(t.Environments))
		}
		for _, o := range objs {
			if manifest.IsGitvendKind(o.ID) {
				continue
			}
			u := &unstructured.Unstructured{Object: o.Content}
			if !share {
				u = u.DeepCopy()
			}
			k := keyOfID(o.ID)
			if prev, dup := seen[k]; dup {
				if !SameContent(out[prev.at], u) {
					return nil, fmt.Errorf("build target %s: %s is built by environments %s and %s with different content", t.Name, k, prev.env, name)
				}
				continue
			}
			seen[k] = built{env: name, at: len(out)}
			out = append(out, u)
		}
	}
	return out, nil
}

// SameObjects tells whether two builds of a target hold the same objects
// in the same order.
func SameObjects(a, b []*unstructured.Unstructured) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !SameContent(a[i], b[i]) {
			return false
		}
	}
	return true
}

// SameContent tells whether a and b hold the same content: at once when
// they share it (DesiredShared), else compared field by field.
func SameContent(a, b *unstructured.Unstructured) bool {
	if reflect.ValueOf(a.Object).UnsafePointer() == reflect.ValueOf(b.Object).UnsafePointer() {
		return true
	}
	return equality.Semantic.DeepEqual(a.Object, b.Object)
}
