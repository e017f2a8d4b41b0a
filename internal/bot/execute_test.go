package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/github"
)

// TestOnePRPerRequestUnderConcurrentSyncs runs the syncs of one request
// side by side, as a webhook, a comment on its pull request and a resync
// may: the request still has one pull request and one status comment.
func TestOnePRPerRequestUnderConcurrentSyncs(t *testing.T) {
	h := newHarness(t)
	h.gh.DropWebhooks(1) // the bot hears of the issue only from the syncs below
	n := h.openForm("alice", "web-service", paymentsForm)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = h.bot.SyncIssue(context.Background(), repo, n, bot.Trigger{})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	h.settle()
	pr := h.onePR(n)
	if got := h.botComments(n); len(got) != 1 {
		t.Errorf("issue comments: %q", got)
	}
	if got := h.botComments(pr.Number); len(got) != 1 {
		t.Errorf("pull request comments: %q", got)
	}
	if runs := h.checkRuns(pr.HeadSHA); len(runs) != 2 {
		t.Errorf("check runs: %+v", runs)
	}
}

// TestStickyCommentsLeftTwiceAreMerged: copies of the status and summary
// comments that a crash left behind are deleted by the next sync, and the
// oldest is kept up to date.
func TestStickyCommentsLeftTwiceAreMerged(t *testing.T) {
	h := newHarness(t)
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	pr := h.onePR(n)
	ctx := context.Background()
	for _, c := range []struct {
		number int
		marker string
	}{{n, "status"}, {pr.Number, "summary"}} {
		if _, err := h.gh.Comment(ctx, repo, c.number, h.gh.BotLogin(), "left by a crash\n\n"+github.Marker(c.marker)); err != nil {
			t.Fatal(err)
		}
	}
	h.comment(n, "alice", "/provision set minReplicas=3")
	h.settle()
	status := h.botComments(n)
	if len(status) != 1 || !strings.Contains(status[0], "proposes **orders**") {
		t.Errorf("issue comments after the sync: %q", status)
	}
	summary := h.botComments(pr.Number)
	if len(summary) != 1 || !strings.Contains(summary[0], "gitvend check") {
		t.Errorf("pull request comments after the sync: %q", summary)
	}
}
