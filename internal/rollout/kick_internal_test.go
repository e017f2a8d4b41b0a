package rollout

import (
	"context"
	"errors"
	"testing"

	"github.com/gitvend/gitvend/internal/github"
)

// unreachableClients fails every ForRepo, as an unreachable GitHub does.
type unreachableClients struct{}

func (unreachableClients) ForRepo(context.Context, string, string) (*github.Client, error) {
	return nil, errors.New("GitHub unreachable")
}

// TestKickOnlyServedRepositories: a push signal names a repository, and
// whoever can write one must not make the leader fetch a repository it
// does not serve.
func TestKickOnlyServedRepositories(t *testing.T) {
	r, err := New(Options{Clients: unreachableClients{}, Git: &failingGit{}, Branches: map[string]string{"acme/infra": "main", "acme/apps": ""}})
	if err != nil {
		t.Fatal(err)
	}
	r.Kick("evil/other")
	if n := len(r.kick); n != 0 {
		t.Fatalf("an unserved repository was kicked (%d queued)", n)
	}
	r.Kick("acme/infra")
	if got := <-r.kick; got != "acme/infra" {
		t.Fatalf("kicked %q", got)
	}
	ctx := context.Background()
	for _, c := range []struct {
		repo, branch string
		want         bool
	}{
		{"acme/infra", "main", true},
		{"acme/infra", "gitvend/request-3", false},
		{"evil/other", "main", false},
		// The default branch cannot be read here: a needless reconcile
		// costs less than a missed one.
		{"acme/apps", "trunk", true},
	} {
		if got := r.Wants(ctx, c.repo, c.branch); got != c.want {
			t.Errorf("Wants(%s, %s) = %v, want %v", c.repo, c.branch, got, c.want)
		}
	}
}
