package manifest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitvend/gitvend/internal/manifest/stamptest"
)

// TestStampedBuildReadsWhatChanged builds an environment of 40 requests
// for a base, then for a pull request that changes one request and adds
// another, both with stamps and a shared cache: the pull request's build
// equals kustomize's and reads only the root and the two folders that
// changed, where a build without stamps reads every folder again.
func TestStampedBuildReadsWhatChanged(t *testing.T) {
	files := map[string]string{}
	var folders []string
	request := func(i int, image string) {
		req := fmt.Sprintf("requests/dev/team-%d/app-%d", i%3, i)
		folders = append(folders, "../../"+req)
		files[req+"/kustomization.yaml"] = kust("cm.yaml", "deploy.yaml")
		files[req+"/cm.yaml"] = cm(fmt.Sprintf("app-%d", i))
		files[req+"/deploy.yaml"] = fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%d\n  namespace: team-%d\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: %s\n", i, i%3, image)
	}
	for i := range 40 {
		request(i, "x:1")
	}
	files["environments/dev/kustomization.yaml"] = kust(folders...)
	base := writeTree(t, files)
	request(7, "x:2")
	folders = folders[:40] // request 7 is listed once
	request(40, "x:1")
	files["environments/dev/kustomization.yaml"] = kust(folders...)
	head := writeTree(t, files)

	cache := NewBuildCache(1000)
	build := func(dir string, stamps Stamps) (builtBy, string) {
		tree, err := OpenTree(context.Background(), dir, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer tree.Close()
		tree.UseCache(cache)
		tree.UseStamps(stamps)
		dirs, err := tree.Folders("environments/dev")
		if err != nil {
			t.Fatal(err)
		}
		digest, err := tree.Digest(dirs)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := tree.Build("environments/dev")
		if err != nil {
			t.Fatal(err)
		}
		return builtBy{objs: objs, files: tree.files}, digest
	}
	_, baseDigest := build(base, stamptest.Of(t, base))
	got, headDigest := build(head, stamptest.Of(t, head))
	want, _ := buildWay(t, head, "environments/dev", true, Limits{})
	sameBuild(t, "stamped head", builtBy{objs: got.objs}, builtBy{objs: want.objs})
	if len(got.objs) != 2*41 {
		t.Errorf("%d objects, want %d", len(got.objs), 2*41)
	}
	// The root, and the kustomization and two files of each of the two
	// folders that changed.
	if got.files > 7 {
		t.Errorf("stamped build of the pull request read %d files, want at most 7", got.files)
	}
	unstamped, unstampedDigest := build(head, nil)
	if unstamped.files < 40 {
		t.Errorf("build without stamps read %d files: the comparison means nothing", unstamped.files)
	}
	if baseDigest == headDigest || headDigest == unstampedDigest {
		t.Errorf("digests: base %s, head %s, head without stamps %s: want three different", baseDigest, headDigest, unstampedDigest)
	}
	if _, again := build(head, stamptest.Of(t, head)); again != headDigest {
		t.Errorf("the same stamps gave digest %s, then %s", headDigest, again)
	}

	// Folders a build without stamps kept are known by their stamps once
	// a stamped build has found them by content, as when a server first
	// applies from a plain checkout and then plans pull requests.
	cache = NewBuildCache(1000)
	build(base, nil)
	build(base, stamptest.Of(t, base))
	if got, _ := build(head, stamptest.Of(t, head)); got.files > 7 {
		t.Errorf("stamped build after builds by content read %d files, want at most 7", got.files)
	}
}

// TestStampsRefusedWithLinks: a link can lead to a file whose content
// changes while the folder holding the link keeps its stamp, so a tree
// holding any link reads its files instead.
func TestStampsRefusedWithLinks(t *testing.T) {
	dir := writeTree(t, map[string]string{"a/kustomization.yaml": kust("cm.yaml"), "b/cm.yaml": cm("b")})
	if err := os.Symlink("../b/cm.yaml", filepath.Join(dir, "a/cm.yaml")); err != nil {
		t.Fatal(err)
	}
	tree, err := OpenTree(context.Background(), dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	tree.UseCache(NewBuildCache(10))
	s := stamptest.Of(t, dir)
	if s.Links() != 1 {
		t.Fatalf("%d links stamped, want 1", s.Links())
	}
	tree.UseStamps(s)
	if st, _ := tree.stamped(); st != nil {
		t.Fatal("a tree with a link took stamps")
	}
}
