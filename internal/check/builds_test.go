package check

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestCachingCheckerReusesRequestFolders checks that a pull request
// changing one request of a base the caching checker has seen rebuilds
// only that request's folder of the environment it touches: the other
// request folders of the environment come from the checker's folder
// builds.
func TestCachingCheckerReusesRequestFolders(t *testing.T) {
	ctx := context.Background()
	const n = 40 // 20 requests per environment
	baseDir := t.TempDir()
	writeRepo(t, baseDir, n)
	headDir := copyRepoForBench(t, baseDir)
	if err := os.WriteFile(filepath.Join(headDir, "requests/dev/team-0/app-0/deployment.yaml"),
		[]byte(synthDeployment("app-0", "team-0", "1.1")), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh, err := New(ctx, baseDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	caching := fresh.For(baseDir).CachingBases()
	if _, err := caching.For(baseDir).Check(ctx, []string{baseDir}, baseDir); err != nil {
		t.Fatal(err)
	}
	before := caching.builds.folders.Hits()
	got, err := caching.For(headDir).Check(ctx, []string{headDir}, baseDir)
	if err != nil {
		t.Fatal(err)
	}
	if reused := caching.builds.folders.Hits() - before; reused != n/2-1 {
		t.Errorf("%d request folders reused, want %d (every dev folder but the changed one)", reused, n/2-1)
	}
	want, err := fresh.For(headDir).Check(ctx, []string{headDir}, baseDir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Change == nil || want.Change == nil || *got.Change != *want.Change || got.Passed != want.Passed ||
		len(got.Violations) != len(want.Violations) || len(got.Errors) != len(want.Errors) {
		t.Errorf("caching check %+v passed %v, fresh %+v passed %v", got.Change, got.Passed, want.Change, want.Passed)
	}
}
