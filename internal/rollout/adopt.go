package rollout

import (
	"context"
	"fmt"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// Adoptions tells, for a checkout dir of repository repo (such as a pull
// request's head), which objects of its desired state already exist on
// the targets that serve repo without gitvend having created them: a merge
// would adopt them. Each line names the target, such as "dev: adopts
// existing object Service/team-a/web (left in place when it leaves Git)".
// A target that cannot be asked gives a line saying so instead of an
// error, so that a check can still report the others. Nothing is written.
func (r *Rollout) Adoptions(ctx context.Context, repo, dir string) []string {
	var lines []string
	for _, t := range r.targets {
		if !config.SameRepo(t.Repository, repo) {
			continue
		}
		found, err := adoptions(ctx, t, dir)
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

// adoptions builds the objects target t would apply from dir and asks its
// cluster which of them already exist without gitvend's ownership.
func adoptions(ctx context.Context, t *targetState, dir string) ([]reconcile.Adoption, error) {
	objs, err := reconcile.Desired(ctx, dir, t.Target)
	if err != nil {
		return nil, err
	}
	return t.rec.Adoptions(ctx, objs)
}
