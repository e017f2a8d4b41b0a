package githubtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// review is a submitted pull request review.
type review struct {
	id        int64
	user      *user
	body      string
	state     string // APPROVED, CHANGES_REQUESTED or COMMENTED
	commitID  string
	submitted time.Time
}

// reviewEvents maps what a reviewer chooses to the state GitHub records.
var reviewEvents = map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}

// SubmitReview submits a review of pull request number as login, as in the
// browser: event is APPROVE, REQUEST_CHANGES or COMMENT. As on GitHub, the
// author may not approve or request changes on their own pull request,
// and a review that requests changes or only comments needs a body. It
// sends pull_request_review submitted and returns the review's id.
func (s *Server) SubmitReview(ctx context.Context, fullName string, number int, login, event, body string) (int64, error) {
	var id int64
	err := s.locked(fullName, login, func(r *repo, u *user) error {
		is, err := findIssue(r, number)
		if err != nil {
			return err
		}
		if is.pull == nil {
			return fmt.Errorf("review #%d: not a pull request: %w", number, ErrNotFound)
		}
		state, known := reviewEvents[event]
		switch {
		case !known:
			return fmt.Errorf("review #%d: event %q is not APPROVE, REQUEST_CHANGES or COMMENT", number, event)
		case is.state != "open":
			return &apiError{status: http.StatusUnprocessableEntity, message: "Can not review a closed pull request"}
		case is.user == u && event != "COMMENT":
			return &apiError{status: http.StatusUnprocessableEntity, message: "Can not approve or request changes on your own pull request"}
		case event != "APPROVE" && strings.TrimSpace(body) == "":
			return &apiError{status: http.StatusUnprocessableEntity, message: "Body is required for this review"}
		case len([]rune(body)) > 65536:
			return &apiError{status: http.StatusUnprocessableEntity, message: "Body is too long (maximum is 65536 characters)"}
		}
		rv := &review{id: s.newID(), user: u, body: body, state: state, commitID: is.pull.headSHA, submitted: s.now()}
		is.pull.reviews = append(is.pull.reviews, rv)
		id = rv.id
		// The webhook writes the state in lower case.
		hook := s.reviewJSON(r, is, rv)
		hook["state"] = strings.ToLower(state)
		s.emit(r, "pull_request_review", "submitted", u, obj{"review": hook, "pull_request": s.pullJSON(ctx, r, is, false)})
		return nil
	})
	return id, err
}

func (s *Server) reviewJSON(r *repo, is *issue, rv *review) obj {
	pullAPI := fmt.Sprintf("%s/pulls/%d", s.apiRepo(r), is.number)
	html := fmt.Sprintf("%s/pull/%d#pullrequestreview-%d", s.htmlRepo(r), is.number, rv.id)
	return obj{
		"id":                 rv.id,
		"node_id":            nodeID("PRR", rv.id),
		"user":               s.userJSON(rv.user),
		"body":               rv.body,
		"state":              rv.state,
		"html_url":           html,
		"pull_request_url":   pullAPI,
		"_links":             obj{"html": obj{"href": html}, "pull_request": obj{"href": pullAPI}},
		"submitted_at":       ts(rv.submitted),
		"commit_id":          rv.commitID,
		"author_association": s.authorAssociation(r, rv.user),
	}
}

func (s *Server) listReviews(c *call) (*response, error) {
	is, err := c.pull()
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, rv := range paginate(c, is.pull.reviews) {
		out = append(out, s.reviewJSON(c.repo, is, rv))
	}
	return ok(out)
}

// DismissReview dismisses review id of pull request number as login, as
// in the browser: GitHub keeps the review with state DISMISSED (so it no
// longer counts as an approval or a request for changes) and sends
// pull_request_review dismissed. Dismissing needs write permission; a
// review that only commented cannot be dismissed.
func (s *Server) DismissReview(ctx context.Context, fullName string, number int, id int64, login, message string) error {
	return s.locked(fullName, login, func(r *repo, u *user) error {
		is, err := findIssue(r, number)
		if err != nil {
			return err
		}
		if is.pull == nil {
			return fmt.Errorf("dismiss review of #%d: not a pull request: %w", number, ErrNotFound)
		}
		if permissionRank(s.permissionLocked(r, u)) < permissionRank("write") {
			return &apiError{status: http.StatusForbidden, message: "Resource not accessible by integration"}
		}
		var rv *review
		for _, x := range is.pull.reviews {
			if x.id == id {
				rv = x
			}
		}
		switch {
		case rv == nil:
			return &apiError{status: http.StatusNotFound, message: "Not Found"}
		case strings.TrimSpace(message) == "":
			return &apiError{status: http.StatusUnprocessableEntity, message: "message is required"}
		case rv.state != "APPROVED" && rv.state != "CHANGES_REQUESTED":
			return &apiError{status: http.StatusUnprocessableEntity, message: "Can not dismiss a " + strings.ToLower(rv.state) + " pull request review"}
		}
		rv.state = "DISMISSED"
		hook := s.reviewJSON(r, is, rv)
		hook["state"] = "dismissed"
		s.emit(r, "pull_request_review", "dismissed", u, obj{"review": hook, "pull_request": s.pullJSON(ctx, r, is, false)})
		return nil
	})
}

// listCommitPulls lists the pull requests associated with a commit, as
// GitHub does: for a commit on the default branch, the merged pull
// request that introduced it (merged as that commit, or whose own
// commits it is among); for any other commit, the open and merged pull
// requests whose head holds it. A commit pushed to the default branch
// directly has none.
func (s *Server) listCommitPulls(c *call) (*response, error) {
	sha, err := c.refCommit()
	if err != nil {
		return nil, err
	}
	g := c.repo.git
	onDefault := false
	if tip := g.resolveCommit(c.ctx, "refs/heads/"+c.repo.defaultBranch); tip != "" {
		onDefault = g.isAncestor(c.ctx, sha, tip)
	}
	var sel []*issue
	for _, is := range c.repo.issues {
		p := is.pull
		if p == nil {
			continue
		}
		introduced := p.merged && (p.mergeSHA == sha ||
			(p.headSHA != "" && g.isAncestor(c.ctx, sha, p.headSHA) && (p.baseSHA == "" || !g.isAncestor(c.ctx, sha, p.baseSHA))))
		switch {
		case onDefault && introduced && p.base == c.repo.defaultBranch:
			sel = append(sel, is)
		case !onDefault && (p.merged || is.state == "open") && p.headSHA != "" && g.isAncestor(c.ctx, sha, p.headSHA):
			sel = append(sel, is)
		}
	}
	out := []any{}
	for _, is := range paginate(c, sel) {
		out = append(out, s.pullJSON(c.ctx, c.repo, is, false))
	}
	return ok(out)
}
