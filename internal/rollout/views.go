package rollout

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/permalink"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// targetViews keeps what the public view of each target shows.
type targetViews struct {
	byName map[string]permalink.Target
}

// recordApply keeps the outcome of an apply of sha for the target's view:
// the commit status it was given and the objects it changed.
func (r *Rollout) recordApply(repo, sha string, a Applied, state, desc string) {
	v := permalink.Target{Name: a.Target, Repository: repo, Revision: sha, State: state, Description: desc, At: r.now().UTC()}
	if a.Result != nil {
		for _, o := range a.Result.Objects {
			if o.Action == reconcile.Unchanged {
				continue
			}
			v.Objects = append(v.Objects, permalink.Applied{Action: string(o.Action), Object: o.ID.String(), Status: strings.TrimSpace(o.Status + " " + o.Message)})
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.views.byName == nil {
		r.views.byName = map[string]permalink.Target{}
	}
	v.Drift = r.views.byName[a.Target].Drift
	r.views.byName[a.Target] = v
}

// recordDrift keeps the drift of a target for its view: the objects and
// the paths of their fields that differ, never the values.
func (r *Rollout) recordDrift(repo string, rep *reconcile.DriftReport) {
	var drift []permalink.Drift
	for _, o := range rep.Objects {
		d := permalink.Drift{Object: o.ID.String()}
		switch {
		case o.Missing:
			d.Note = "missing from the cluster"
		case o.Error != "":
			d.Note = "could not be compared"
		}
		for _, c := range o.Changes {
			d.Fields = append(d.Fields, c.Path)
		}
		drift = append(drift, d)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.views.byName == nil {
		r.views.byName = map[string]permalink.Target{}
	}
	v := r.views.byName[rep.Target]
	v.Name, v.Repository, v.Drift = rep.Target, repo, drift
	r.views.byName[rep.Target] = v
}

// TargetView is what gitvend's public view of a target shows. The
// replica that applies (the leader) shows the objects of its last apply
// and the drift it watches. Any other replica, or one just started, reads
// the apply's commit status on the desired-state branch's head from
// GitHub, so a link answers alike whichever replica it reaches; a leader
// that has found drift but not applied since it started shows its drift
// with that status. It reports
// false for a target that is not configured.
func (r *Rollout) TargetView(ctx context.Context, name string) (permalink.Target, bool, error) {
	r.mu.Lock()
	v, known := r.views.byName[name]
	r.mu.Unlock()
	if known && v.Revision != "" {
		return v, true, nil
	}
	// Watched here but not applied since this process started (the head
	// was applied before a restart): the drift is this process's, the
	// last apply is the commit status on GitHub.
	drift := v.Drift
	var target *targetState
	for _, t := range r.targets {
		if t.Name == name {
			target = t
		}
	}
	if target == nil {
		return permalink.Target{}, false, nil
	}
	repo, _ := r.canonical(target.Repository) // New refused targets of repositories not served
	v = permalink.Target{Name: name, Repository: repo, Elsewhere: !known, Drift: drift}
	gh, owner, repoName, err := r.client(ctx, repo)
	if err != nil {
		return v, true, err
	}
	branch, err := r.branches.Resolve(ctx, gh, repo)
	if err != nil {
		return v, true, err
	}
	sha, err := gh.HeadSHA(ctx, owner, repoName, branch)
	if err != nil {
		return v, true, fmt.Errorf("head of %s %s: %w", repo, branch, err)
	}
	st, err := gh.Status(ctx, owner, repoName, sha, StatusPrefix+name)
	if err != nil {
		return v, true, fmt.Errorf("apply status of %s on %.12s: %w", name, sha, err)
	}
	if st.State != "" {
		v.Revision, v.State, v.Description, v.At = sha, st.State, st.Description, st.UpdatedAt
	}
	return v, true, nil
}
