package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gitvend/gitvend/internal/approval"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/logctx"
)

// gitvend's checks only keep a pull request from merging when the
// desired-state branch's protection rule requires them; gitvend neither
// sets that rule nor can enforce it. At start, and at every resync, the
// bot reads the rule and the status page says which of its checks the
// rule does not require: gitvend/policy always, and gitvend/approval
// where an environment needs approvals. Apply still refuses a change
// that lacks its approvals (rollout/approval.go); the notice says that a
// merge can get there.

// ProtectionNotice is what the status page says of a repository's
// desired-state branch protection.
type ProtectionNotice struct {
	Repo   string `json:"repo"`
	Branch string `json:"branch"`
	// Unknown tells that the rule could not be read (Notice says why);
	// Protected, Required and Missing are then not known.
	Unknown bool `json:"unknown,omitempty"`
	// Protected tells whether the branch has a protection rule.
	Protected bool `json:"protected"`
	// Required are gitvend's checks the rule requires.
	Required []string `json:"required,omitempty"`
	// Missing are gitvend's checks the rule does not require.
	Missing []string `json:"missing,omitempty"`
	// Notice says what that means, "" when nothing is missing.
	Notice  string    `json:"notice,omitempty"`
	Checked time.Time `json:"checked"`
	// wanted are the checks the reading was for.
	wanted []string
}

// protectionBoard keeps the last notice per repository.
type protectionBoard struct {
	mu sync.Mutex
	m  map[string]ProtectionNotice
}

// Protections lists the notices of the desired-state branches, by
// repository.
func (b *Bot) Protections() []ProtectionNotice {
	b.protections.mu.Lock()
	defer b.protections.mu.Unlock()
	out := make([]ProtectionNotice, 0, len(b.protections.m))
	for _, n := range b.protections.m {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, c ProtectionNotice) int { return strings.Compare(a.Repo, c.Repo) })
	return out
}

// wantedChecks are the checks the branch of w should require.
func wantedChecks(w *work) []string {
	want := []string{CheckPolicy}
	if len(approval.Needing(w.cfg, nil)) > 0 {
		want = append(want, CheckApproval)
	}
	return want
}

// ProtectionRecheck is how long a reading of a branch's protection is
// kept before a resync reads it again: a quiet resync costs no rate
// limit, and an answer of 403 or 404 (no permission, no rule) would.
const ProtectionRecheck = time.Hour

// checkProtection reads the protection of w's desired-state branch and
// records the notice, unless it was read lately for the same branch and
// checks; a rule it cannot read is a notice too.
func (b *Bot) checkProtection(ctx context.Context, w *work) {
	want := wantedChecks(w)
	n := ProtectionNotice{Repo: w.full, Branch: w.branch, Checked: b.now().UTC(), wanted: want}
	b.protections.mu.Lock()
	last, seen := b.protections.m[w.full]
	b.protections.mu.Unlock()
	if seen && last.Branch == w.branch && sameChecks(last.wanted, want) &&
		n.Checked.Sub(last.Checked) < ProtectionRecheck {
		return
	}
	p, err := w.gh.BranchProtection(ctx, w.owner, w.name, w.branch)
	switch {
	case errors.Is(err, github.ErrNoAdministration):
		n.Unknown = true
		n.Notice = fmt.Sprintf("Cannot tell whether branch %s requires %s: %v. Grant it to check.", w.branch, strings.Join(want, " and "), github.ErrNoAdministration)
	case err != nil:
		n.Unknown = true
		n.Notice = fmt.Sprintf("Cannot read the protection of branch %s: %v.", w.branch, err)
	default:
		n.Protected = p.Protected
		for _, c := range want {
			if slices.Contains(p.RequiredChecks, c) {
				n.Required = append(n.Required, c)
			} else {
				n.Missing = append(n.Missing, c)
			}
		}
		if len(n.Missing) > 0 {
			where := "is not protected"
			if p.Protected {
				where = "does not require " + strings.Join(n.Missing, " and ")
			}
			n.Notice = fmt.Sprintf("Branch %s %s: pull requests can merge while %s fail. Require them in the branch's protection rule.",
				w.branch, where, strings.Join(n.Missing, " and "))
			if slices.Contains(n.Missing, CheckApproval) {
				n.Notice += " Until then a merge without its approvals still is not applied: it waits for an admin's /provision approve-merge."
			}
		}
	}
	if n.Notice != "" {
		logctx.LoggerFrom(ctx).Warn("branch protection does not enforce gitvend's checks", "repo", w.full, "branch", w.branch, "notice", n.Notice)
	}
	b.protections.mu.Lock()
	defer b.protections.mu.Unlock()
	if b.protections.m == nil {
		b.protections.m = map[string]ProtectionNotice{}
	}
	b.protections.m[w.full] = n
}

// sameChecks tells whether a and b name the same checks, in any order.
func sameChecks(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
