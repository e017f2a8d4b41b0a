package check

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/manifest/stamptest"
)

// linked claims the tree holds a link, with the stamps of another state.
type linked struct{ manifest.Stamps }

func (linked) Links() int { return 1 }

// TestRecordOwnerStampsRefusedWithLinks changes a request record's owner
// on disk and checks again with the stamps of before, which claim the
// record unchanged: with a link in the tree the stamps are not trusted,
// so the new owner is read and the request is denied.
func TestRecordOwnerStampsRefusedWithLinks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeRepo(t, dir, 10)
	fresh, err := New(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	caching := fresh.For(dir).CachingBases()
	before := stamptest.Of(t, dir)
	rep, err := caching.WithStamps(before).Check(ctx, []string{dir}, "")
	if err != nil || !rep.Passed {
		t.Fatalf("base check: passed %v, err %v, violations %v", rep != nil && rep.Passed, err, rep)
	}
	rec := filepath.Join(dir, "requests/dev/team-2/app-2.yaml")
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rec, []byte(strings.Replace(string(data), "owner: platform", "owner: intruder", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err = caching.WithStamps(linked{before}).Check(ctx, []string{dir}, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed {
		t.Error("a record's new owner was not read: stale stamps were trusted in a tree with a link")
	}
}
