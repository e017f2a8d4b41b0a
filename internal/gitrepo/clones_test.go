package gitrepo

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// remote is the fixture's GitHub double as a Remote that records the
// repositories it hands out tokens for.
type remote struct {
	f     *fixture
	asked []string
}

func (r *remote) CloneURL(full string) string { return r.f.gh.CloneURL(full) }

func (r *remote) RepoToken(ctx context.Context, owner, repo string) (string, error) {
	r.asked = append(r.asked, owner+"/"+repo)
	return r.f.auth(ctx)
}

func TestClonesOpen(t *testing.T) {
	f := newFixture(t)
	rm := &remote{f: f}
	clones := Clones{Cache: f.cache, Remote: rm}
	ctx := context.Background()
	r, err := clones.Open(ctx, "acme", "infra")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	head, err := r.Head(ctx, "main")
	if err != nil || head != f.branch(t, "main") {
		t.Fatalf("Head(main) = %q, %v; want %q", head, err, f.branch(t, "main"))
	}
	again, err := clones.Open(ctx, "acme", "infra")
	if err != nil || again != r {
		t.Errorf("second Open = %p, %v; want the cached clone %p", again, err, r)
	}
	if len(rm.asked) == 0 {
		t.Fatal("no token asked for")
	}
	for _, a := range rm.asked {
		if diff := cmp.Diff("acme/infra", a); diff != "" {
			t.Errorf("token asked for another repository (-want +got):\n%s", diff)
		}
	}
}
