package rollout

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/retry"
)

// noClients hands out no client; the syncs under test fail before one is used.
type noClients struct{}

func (noClients) ForRepo(context.Context, string, string) (*github.Client, error) { return nil, nil }

// failingGit counts Opens and fails each with err.
type failingGit struct {
	err   error
	opens atomic.Int32
}

func (g *failingGit) Open(context.Context, string, string) (*gitrepo.Repo, error) {
	g.opens.Add(1)
	return nil, g.err
}

// TestRunHonoursTheRetryContract: a sync failing with a retryable error is
// tried again after a second, one failing with a terminal error waits for
// the next push or interval.
func TestRunHonoursTheRetryContract(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantOpens int32
	}{
		{"retryable error is retried soon", errors.New("fetch: connection reset"), 2},
		{"terminal error waits for the interval", retry.Terminal(errors.New("fetch: authentication required")), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			git := &failingGit{err: tt.err}
			r, err := New(Options{Clients: noClients{}, Git: git, Branches: map[string]string{"acme/infra": "main"}, Interval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			if err := r.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if got := git.opens.Load(); got != tt.wantOpens {
				t.Errorf("syncs = %d, want %d", got, tt.wantOpens)
			}
		})
	}
}
