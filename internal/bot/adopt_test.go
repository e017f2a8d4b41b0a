package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// adopter answers every checkout with the same adoptions and remembers
// the repositories it was asked about.
type adopter struct {
	mu    sync.Mutex
	asked []string
	lines []string
}

func (a *adopter) Adoptions(_ context.Context, repo string, _, _ reconcile.Checkout) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, repo)
	return a.lines
}

// TestPullRequestSaysWhatItsMergeWouldAdopt: objects that already exist on
// a cluster without gitvend having created them are named in the pull
// request's summary before anyone merges it.
func TestPullRequestSaysWhatItsMergeWouldAdopt(t *testing.T) {
	line := "dev: adopts existing object Service/team-payments/orders (left in place when it leaves Git)"
	a := &adopter{lines: []string{line}}
	h := newHarness(t, func(o *bot.Options) { o.Adopter = a })
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()

	pr := h.onePR(n)
	got := h.botComments(pr.Number)
	if len(got) != 1 || !strings.Contains(got[0], line) {
		t.Errorf("PR summary does not say what the merge would adopt: %q", got)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.asked) == 0 || a.asked[0] != repo {
		t.Errorf("adopter asked about %q, want %q", a.asked, repo)
	}
}
