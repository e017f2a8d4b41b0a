package config

import (
	"fmt"
	"slices"
)

// Approvals is the review a change to an environment needs: Count
// distinct members of Teams, other than the pull request's author and
// other than bots, must approve the pull request's head commit. A change
// that reaches the desired-state branch without it is not applied until a
// repository admin confirms it (/provision approve-merge) or it is
// reverted.
type Approvals struct {
	// Teams are the teams whose members' approvals count, spelled as the
	// environment's teams are: names of teams defined under teams (the
	// GitHub team slugs).
	Teams []string `yaml:"teams"`
	// Count is how many distinct members must approve; at least 1.
	Count int `yaml:"count"`
}

// NeedsApproval tells whether changes to the environment need approvals.
func (e Environment) NeedsApproval() bool { return e.Approvals != nil }

func (e Environment) validateApprovals(path string, teams map[string]bool, bad func(path, format string, args ...any)) {
	a := e.Approvals
	if a == nil {
		return
	}
	f := path + ".approvals"
	if len(a.Teams) == 0 {
		bad(f+".teams", "must name at least one team whose members approve, defined under teams")
	}
	for i, t := range a.Teams {
		switch {
		case !teams[t]:
			bad(fmt.Sprintf("%s.teams[%d]", f, i), "unknown team %q; approval teams are spelled as environment teams: a team defined under teams", t)
		case slices.Index(a.Teams, t) != i:
			bad(fmt.Sprintf("%s.teams[%d]", f, i), "team %q is named twice", t)
		}
	}
	if a.Count < 1 {
		bad(f+".count", "must be a whole number of approvals of at least 1, got %d", a.Count)
	}
}
