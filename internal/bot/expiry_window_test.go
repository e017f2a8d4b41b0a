package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/config"
)

// targetWindows are windows a server configuration's target puts on
// every environment.
type targetWindows config.Windows

func (w targetWindows) TargetWindows(repo, environment string) []config.Windows {
	return []config.Windows{config.Windows(w)}
}

// windowFrom is a deny window that opens now (to the minute, UTC, every
// day) for three hours, with extra settings.
func windowFrom(now time.Time, extra string) string {
	now = now.UTC()
	return fmt.Sprintf("  windows:\n  - {name: freeze, kind: deny, schedule: \"%d %d * * *\", duration: 3h%s}\n", now.Minute(), now.Hour(), extra)
}

// heldComments are the bot's comments on pull request n that say a window
// holds it.
func (h *harness) heldComments(n int) []string { return h.commentsWith(n, "Held by change window") }

// TestExpiryWaitsForTheWindow: in an environment with autoMerge, an
// expiry's removal is not merged while a change window of its environment
// holds, says so in one comment, and is merged at a resync after the
// window; a window with expiry: allow lets it through.
func TestExpiryWaitsForTheWindow(t *testing.T) {
	clk := &clock{}
	h := expiryHarness(t, clk, "  autoMerge: true\n"+windowFrom(time.Now(), ""))
	mergedRequest(t, h, "1h")
	clk.set(2 * time.Hour)
	for range 3 {
		h.resync(nil)
		h.settle()
	}
	prs := h.expiryPRs()
	if len(prs) != 1 || prs[0].Merged {
		t.Fatalf("expiry pull requests in the window: %+v", prs)
	}
	if got := h.heldComments(prs[0].Number); len(got) != 1 || !strings.Contains(got[0], "`freeze`") || !strings.Contains(got[0], "merged after ") {
		t.Errorf("held comments on the removal: %q", got)
	}
	clk.set(4 * time.Hour)
	h.resync(nil)
	h.settle()
	h.resync(nil)
	h.settle()
	if prs := h.expiryPRs(); len(prs) != 1 || !prs[0].Merged {
		t.Errorf("expiry pull requests after the window: %+v", prs)
	}
}

// TestExpiryAllowedByTheWindow: a window with expiry: allow lets the
// removal be merged inside it.
func TestExpiryAllowedByTheWindow(t *testing.T) {
	clk := &clock{}
	h := expiryHarness(t, clk, "  autoMerge: true\n"+windowFrom(time.Now(), ", expiry: allow"))
	mergedRequest(t, h, "1h")
	clk.set(2 * time.Hour)
	h.resync(nil)
	h.settle()
	h.resync(nil)
	h.settle()
	prs := h.expiryPRs()
	if len(prs) != 1 || !prs[0].Merged {
		t.Fatalf("expiry pull requests: %+v", prs)
	}
	if got := h.heldComments(prs[0].Number); len(got) != 0 {
		t.Errorf("held comments: %q", got)
	}
}

// TestExpiryHeldByATargetWindow: a window the server configuration puts
// on a target serving the environment holds the removal too, although
// gitvend.yaml declares none.
func TestExpiryHeldByATargetWindow(t *testing.T) {
	clk := &clock{}
	now := time.Now().UTC()
	w := config.Window{Name: "platform-freeze", Kind: config.WindowDeny, Schedule: fmt.Sprintf("%d %d * * *", now.Minute(), now.Hour()), Duration: "3h"}
	h2 := expiryHarnessWith(t, clk, "  autoMerge: true\n", func(o *bot.Options) { o.Windows = targetWindows{w} })
	mergedRequest(t, h2, "1h")
	clk.set(2 * time.Hour)
	h2.resync(nil)
	h2.settle()
	h2.resync(nil)
	h2.settle()
	prs := h2.expiryPRs()
	if len(prs) != 1 || prs[0].Merged {
		t.Fatalf("expiry pull requests: %+v", prs)
	}
	if got := h2.heldComments(prs[0].Number); len(got) != 1 || !strings.Contains(got[0], "`platform-freeze`") {
		t.Errorf("held comments: %q", got)
	}
}
