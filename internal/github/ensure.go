package github

import (
	"context"
	"fmt"
)

// Ensured says what an Ensure operation did.
type Ensured int

// What an Ensure operation did.
const (
	Unchanged Ensured = iota // the object matched already
	Created                  // the object was missing and was created
	Updated                  // the object existed and was changed
)

// String names the outcome.
func (e Ensured) String() string {
	switch e {
	case Created:
		return "created"
	case Updated:
		return "updated"
	default:
		return "unchanged"
	}
}

// EnsurePR makes the open pull request from spec.Head match spec: it opens
// one when open is nil, edits the title and body of open when they differ
// from spec, and leaves it alone otherwise. open is the open pull request
// of spec.Head as the caller found it (ListPRsByHead or FindPRByHead), so
// that the head is looked up once per job; CreatePR returns the pull
// request already open from the head rather than a second one, should one
// have been opened meanwhile.
func (c *Client) EnsurePR(ctx context.Context, owner, repo string, spec NewPR, open *PullRequest) (PullRequest, Ensured, error) {
	if open == nil {
		pr, err := c.CreatePR(ctx, owner, repo, spec)
		if err != nil {
			return PullRequest{}, Unchanged, err
		}
		return pr, Created, nil
	}
	if open.Head != spec.Head {
		return PullRequest{}, Unchanged, fmt.Errorf("ensure pull request #%d: its head is %s, want %s", open.Number, open.Head, spec.Head)
	}
	if open.Title == spec.Title && open.Body == spec.Body {
		return *open, Unchanged, nil
	}
	pr, err := c.EditPR(ctx, owner, repo, open.Number, PREdit{Title: &spec.Title, Body: &spec.Body})
	if err != nil {
		return PullRequest{}, Unchanged, err
	}
	return pr, Updated, nil
}

// EnsureCheckRuns makes every run of runs exist on its HeadSHA, found by
// name among the App's own runs of existing, and brings it forward: a
// missing run is created; a run still queued or in progress is updated
// when the spec is further along (in progress, or completed with its
// conclusion and output), so a run created in progress when work starts
// is completed in place, never doubled; a completed run, which GitHub
// does not take back, and a run already as far along are left as they
// are, so running it again posts nothing twice. A run of the same name by
// another App never stands in for the App's. existing are the check runs
// of the commit as the caller listed them (ListCheckRuns); none for a
// commit the caller has just pushed. It reports Created when it created
// any run, else Updated when it updated any.
func (c *Client) EnsureCheckRuns(ctx context.Context, owner, repo string, runs []CheckRunSpec, existing []CheckRun) (Ensured, error) {
	have := make(map[string]CheckRun, len(existing))
	for _, r := range existing {
		if r.AppID == c.app.cfg.AppID {
			have[r.HeadSHA+"\x00"+r.Name] = r
		}
	}
	did := Unchanged
	for _, run := range runs {
		key := run.HeadSHA + "\x00" + run.Name
		cur, found := have[key]
		switch {
		case !found:
			made, err := c.CreateCheckRun(ctx, owner, repo, run)
			if err != nil {
				return did, fmt.Errorf("ensure check run %s: %w", run.Name, err)
			}
			have[key] = made
			did = Created
		case progress(run.Status, run.Conclusion) > progress(cur.Status, cur.Conclusion):
			done, err := c.UpdateCheckRun(ctx, owner, repo, cur.ID, run)
			if err != nil {
				return did, fmt.Errorf("ensure check run %s: %w", run.Name, err)
			}
			have[key] = done
			if did == Unchanged {
				did = Updated
			}
		}
	}
	return did, nil
}

// progress orders check run states: queued (the default), in progress,
// completed (a conclusion implies it).
func progress(status, conclusion string) int {
	switch {
	case conclusion != "" || status == "completed":
		return 2
	case status == "in_progress":
		return 1
	}
	return 0
}
