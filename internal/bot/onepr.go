package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/gitvend/gitvend/internal/github"
)

// onePRPerRequest keeps gitvend's promise of one pull request per request:
// a request (issue N of a repository) has at most one open pull request,
// and every re-render updates that one; it never opens a second. The
// promise holds because
//
//   - the pull request's head is the branch gitvend/request-N (branchFor),
//     named after the request alone, so every job of the request, in this
//     process or after a restart, writes to the same branch;
//   - before anything is written, the request's pull requests are found
//     again by that branch name (find), and ensure edits the open one
//     instead of opening another; should one have been opened meanwhile,
//     GitHub refuses a second pull request from the same head and
//     github.Client.CreatePR returns the open one;
//   - the jobs of one request run one at a time under a per-request lock
//     (lock), whichever webhook, thread or resync started them, so two
//     never both find none and both open one.
type onePRPerRequest struct {
	mu    sync.Mutex
	locks map[string]*requestLock
}

// requestLock is a mutex shared by the jobs of one request.
type requestLock struct {
	sync.Mutex
	users int
}

func newOnePRPerRequest() *onePRPerRequest {
	return &onePRPerRequest{locks: map[string]*requestLock{}}
}

// lock makes the jobs of request issue of repository full run one at a
// time, and returns the unlock.
func (o *onePRPerRequest) lock(full string, issue int) func() {
	key := fmt.Sprintf("%s#%d", full, issue)
	o.mu.Lock()
	l := o.locks[key]
	if l == nil {
		l = &requestLock{}
		o.locks[key] = l
	}
	l.users++
	o.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		o.mu.Lock()
		if l.users--; l.users == 0 {
			delete(o.locks, key)
		}
		o.mu.Unlock()
	}
}

// find returns every pull request the request in issue ever had, open or
// closed, newest first, and the open one (nil when none).
func (o *onePRPerRequest) find(ctx context.Context, w *work, issue int) ([]github.PullRequest, *github.PullRequest, error) {
	prs, err := w.gh.ListPRsByHead(ctx, w.owner, w.name, branchFor(issue))
	if err != nil {
		return nil, nil, fmt.Errorf("find pull requests: %w", err)
	}
	for i := range prs {
		if prs[i].State == "open" {
			return prs, &prs[i], nil
		}
	}
	return prs, nil, nil
}

// ensure makes the request's one pull request say title and body: open,
// the pull request find returned, is edited when it differs; without one,
// one is opened from the request's branch onto base.
func (o *onePRPerRequest) ensure(ctx context.Context, w *work, issue int, title, body, base string, open *github.PullRequest) (github.PullRequest, github.Ensured, error) {
	spec := github.NewPR{Title: title, Body: body, Head: branchFor(issue), Base: base}
	pr, did, err := w.gh.EnsurePR(ctx, w.owner, w.name, spec, open)
	if err != nil {
		return github.PullRequest{}, did, fmt.Errorf("ensure pull request of #%d: %w", issue, err)
	}
	return pr, did, nil
}

// branchFor is the branch of the request asked for in issue n.
func branchFor(n int) string { return fmt.Sprintf("%s%d", BranchPrefix, n) }

// issueOfBranch reads the issue number from a request branch, or 0.
func issueOfBranch(branch string) int {
	rest, ok := strings.CutPrefix(branch, BranchPrefix)
	if !ok {
		return 0
	}
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' || n > 1e9 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
