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

// checksRun counts the checks the bot ran (gitvend_checks_total).
func checksRun(t *testing.T, h *harness) float64 {
	t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "gitvend_checks_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}

// TestResyncDoesNotCheckAnUnchangedHeadAgain: a resync brings a request's
// pull request up to date from the report of its head against the same
// base, without checking it again; a re-run asked for checks it again.
func TestResyncDoesNotCheckAnUnchangedHeadAgain(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	pr := h.onePR(n)
	before := checksRun(t, h)
	if before == 0 {
		t.Fatal("no check ran for the request")
	}
	for range 2 {
		if err := h.bot.Resync(ctx, repo); err != nil {
			t.Fatal(err)
		}
	}
	if got := checksRun(t, h); got != before {
		t.Errorf("two resyncs ran %v checks of a head that did not move, want none", got-before)
	}
	if err := h.bot.CheckPR(ctx, repo, bot.PRHead{Number: pr.Number, Branch: pr.Head, SHA: pr.HeadSHA}, true); err != nil {
		t.Fatal(err)
	}
	if got := checksRun(t, h); got != before+1 {
		t.Errorf("a re-run ran %v checks, want 1", got-before)
	}
}
