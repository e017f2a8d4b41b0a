package rollout

import (
	"context"
	"fmt"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// Adoptions tells, for the change from checkout base to checkout head of
// repository repo (a pull request), which objects the change adds or
// alters already exist on the targets that serve repo without gitvend
// having created them: a merge would adopt them. Objects the change leaves
// as the base has them were the base's to report; where the base does not
// build, every object of the head is looked at. Each line names the
// target, such as "dev: adopts existing object Service/team-a/web (left in
// place when it leaves Git)". A target that cannot be asked gives a line
// saying so instead of an error, so that a check can still report the
// others. Nothing is written.
func (r *Rollout) Adoptions(ctx context.Context, repo string, base, head reconcile.Checkout) []string {
	var lines []string
	for _, t := range r.targets {
		if !config.SameRepo(t.Repository, repo) {
			continue
		}
		found, err := r.adoptions(ctx, t, base, head)
		if err != nil {
			lines = append(lines, fmt.Sprintf("%s: could not look for existing objects: %v", t.Name, err))
			continue
		}
		for _, a := range found {
			lines = append(lines, t.Name+": "+a.String())
		}
	}
	return lines
}

// adoptions builds the objects target t would apply from the change and
// asks its cluster which of those the change touches already exist
// without gitvend's ownership.
func (r *Rollout) adoptions(ctx context.Context, t *targetState, base, head reconcile.Checkout) ([]reconcile.Adoption, error) {
	c, err := r.change(ctx, t, base, head)
	if err != nil {
		return nil, err
	}
	if c.same() {
		return nil, nil
	}
	return t.rec.Adoptions(ctx, r.split(c).Touched)
}
