package admission

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gitvend/gitvend/internal/config"
)

// Review is a pull request review as the approval rule reads it.
type Review struct {
	// Login is the reviewer.
	Login string
	// Bot is set for a bot account.
	Bot bool
	// State is GitHub's: APPROVED, CHANGES_REQUESTED, COMMENTED or
	// DISMISSED.
	State string
	// CommitID is the head the review was submitted on.
	CommitID string
}

// Approvers are the people whose review approves head: of each
// reviewer's reviews (oldest first) the latest that approves, requests
// changes or was dismissed decides (a review that only comments changes
// nothing, as on GitHub), and it approves head only when it is an
// approval submitted on head itself: an approval of an older head is
// stale. The change's authors (the pull request's author, and for a
// request's pull request the requester), bots and bot (gitvend's own
// login) never approve. Logins come out in the order of their first
// review.
func Approvers(reviews []Review, authors []string, bot, head string) []string {
	latest := map[string]Review{}
	var order []string
	for _, r := range reviews {
		if r.State == "COMMENTED" || r.State == "PENDING" {
			continue
		}
		k := strings.ToLower(r.Login)
		if _, seen := latest[k]; !seen {
			order = append(order, r.Login)
		}
		latest[k] = r
	}
	var out []string
	for _, login := range order {
		r := latest[strings.ToLower(login)]
		if r.State != "APPROVED" || r.CommitID != head || r.Bot || strings.HasSuffix(login, "[bot]") ||
			slices.ContainsFunc(authors, func(a string) bool { return strings.EqualFold(a, login) }) || (bot != "" && strings.EqualFold(login, bot)) {
			continue
		}
		out = append(out, login)
	}
	return out
}

// Approval is how far the approvals an environment needs are met.
type Approval struct {
	Environment string
	// Rule is the environment's approvals setting.
	Rule config.Approvals
	// Approved are the members of the rule's teams who approved, at most
	// Rule.Count of them counted.
	Approved []string
	// Others approved but belong to none of the rule's teams.
	Others []string
}

// Met tells whether enough members approved.
func (a Approval) Met() bool { return len(a.Approved) >= a.Rule.Count }

// Line says in one sentence how far the approval is, such as "prod: 1 of
// 2 approvals from members of sre (@dana); 1 more needed".
func (a Approval) Line() string {
	s := fmt.Sprintf("%s: %d of %d approvals from members of %s", a.Environment, min(len(a.Approved), a.Rule.Count), a.Rule.Count,
		strings.Join(a.Rule.Teams, ", "))
	if len(a.Approved) > 0 {
		s += " (" + mentions(a.Approved) + ")"
	}
	if !a.Met() {
		s += fmt.Sprintf("; %d more needed", a.Rule.Count-len(a.Approved))
	}
	if len(a.Others) > 0 {
		s += "; not counted, outside those teams: " + mentions(a.Others)
	}
	return s
}

func mentions(logins []string) string {
	out := make([]string, len(logins))
	for i, l := range logins {
		out[i] = "@" + l
	}
	return strings.Join(out, ", ")
}

// ApprovalNext returns the team membership the tally of env's approvals
// by people still needs, and false when it holds enough: each person is
// asked about the rule's teams in order until one says yes, and nobody
// is asked about once enough members are known.
func ApprovalNext(env config.Environment, people []Person) (Question, bool) {
	if env.Approvals == nil {
		return Question{}, false
	}
	known := 0
	for _, p := range people {
		if memberOfAny(p, env.Approvals.Teams) {
			known++
		}
	}
	if known >= env.Approvals.Count {
		return Question{}, false
	}
	for _, p := range people {
		if memberOfAny(p, env.Approvals.Teams) {
			continue
		}
		for _, t := range env.Approvals.Teams {
			if _, asked := p.Teams[t]; !asked {
				return Question{User: p.Login, Team: t}, true
			}
		}
	}
	return Question{}, false
}

// Tally counts the approvals of env by people (the approvers, with their
// memberships answered as ApprovalNext asked): a person counts once,
// when a member of one of the rule's teams; an unanswered membership
// counts as none.
func Tally(env config.Environment, people []Person) Approval {
	a := Approval{Environment: env.Name}
	if env.Approvals == nil {
		return a
	}
	a.Rule = *env.Approvals
	seen := map[string]bool{}
	for _, p := range people {
		k := strings.ToLower(p.Login)
		if seen[k] {
			continue
		}
		seen[k] = true
		if memberOfAny(p, a.Rule.Teams) && len(a.Approved) < a.Rule.Count {
			a.Approved = append(a.Approved, p.Login)
		} else if !memberOfAny(p, a.Rule.Teams) {
			a.Others = append(a.Others, p.Login)
		}
	}
	slices.Sort(a.Others)
	return a
}
