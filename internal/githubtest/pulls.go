package githubtest

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// pullStats are the numbers GitHub shows on a pull request.
type pullStats struct {
	commits   int
	additions int
	deletions int
	files     int
	conflict  bool
}

// statsLocked computes (and caches) the numbers of a base..head pair.
func (s *Server) statsLocked(ctx context.Context, r *repo, base, head string) pullStats {
	key := base + ".." + head
	if st, found := r.stats[key]; found {
		return st
	}
	var st pullStats
	g := r.git
	mb := g.mergeBase(ctx, base, head)
	if ids, err := g.revList(ctx, base+".."+head); err == nil {
		st.commits = len(ids)
	}
	if mb != "" {
		if changes, err := g.diff(ctx, mb, head); err == nil {
			st.files = len(changes)
			for _, ch := range changes {
				st.additions += ch.additions
				st.deletions += ch.deletions
			}
		}
	}
	if _, conflict, err := g.mergeTree(ctx, base, head); err == nil {
		st.conflict = conflict
	}
	r.stats[key] = st
	return st
}

// pullJSON renders a pull request; full adds the fields of a single pull
// request (mergeability, counts) that lists leave out.
func (s *Server) pullJSON(ctx context.Context, r *repo, is *issue, full bool) obj {
	p := is.pull
	api := fmt.Sprintf("%s/pulls/%d", s.apiRepo(r), is.number)
	html := fmt.Sprintf("%s/pull/%d", s.htmlRepo(r), is.number)
	issueAPI := fmt.Sprintf("%s/issues/%d", s.apiRepo(r), is.number)
	side := func(ref, sha string) obj {
		return obj{"label": r.owner.login + ":" + ref, "ref": ref, "sha": sha, "user": s.userJSON(r.owner), "repo": s.repoJSON(r, repoHook)}
	}
	head := side(p.head, p.headSHA)
	if p.fromFork() {
		head = s.forkSideJSON(p)
	}
	link := func(h string) obj { return obj{"href": h} }
	o := obj{
		"url":                 api,
		"id":                  p.id,
		"node_id":             nodeID("PR", p.id),
		"html_url":            html,
		"diff_url":            html + ".diff",
		"patch_url":           html + ".patch",
		"issue_url":           issueAPI,
		"number":              is.number,
		"state":               is.state,
		"locked":              false,
		"title":               is.title,
		"user":                s.userJSON(is.user),
		"body":                strOrNil(is.body),
		"created_at":          ts(is.created),
		"updated_at":          ts(is.updated),
		"closed_at":           tsOrNil(is.closed),
		"merged_at":           tsOrNil(p.mergedAt),
		"merge_commit_sha":    strOrNil(p.mergeSHA),
		"assignee":            nil,
		"assignees":           []any{},
		"requested_reviewers": []any{},
		"requested_teams":     []any{},
		"labels":              s.labelsJSON(r, is.labels),
		"milestone":           nil,
		"draft":               p.draft,
		"commits_url":         api + "/commits",
		"review_comments_url": api + "/comments",
		"review_comment_url":  s.apiRepo(r) + "/pulls/comments{/number}",
		"comments_url":        issueAPI + "/comments",
		"statuses_url":        s.apiRepo(r) + "/statuses/" + p.headSHA,
		"head":                head,
		"base":                side(p.base, p.baseSHA),
		"_links": obj{
			"self":            link(api),
			"html":            link(html),
			"issue":           link(issueAPI),
			"comments":        link(issueAPI + "/comments"),
			"review_comments": link(api + "/comments"),
			"review_comment":  link(s.apiRepo(r) + "/pulls/comments{/number}"),
			"commits":         link(api + "/commits"),
			"statuses":        link(s.apiRepo(r) + "/statuses/" + p.headSHA),
		},
		"author_association": s.authorAssociation(r, is.user),
		"auto_merge":         nil,
		"active_lock_reason": nil,
	}
	if !full {
		return o
	}
	st := s.statsLocked(ctx, r, p.baseSHA, p.headSHA)
	o["merged"] = p.merged
	o["merged_by"] = s.userOrNil(p.mergedBy)
	o["comments"] = is.comments
	o["review_comments"] = 0
	o["maintainer_can_modify"] = p.maintainers
	o["commits"] = st.commits
	o["additions"] = st.additions
	o["deletions"] = st.deletions
	o["changed_files"] = st.files
	switch {
	case is.state != "open":
		o["mergeable"] = nil
		o["rebaseable"] = nil
		o["mergeable_state"] = "unknown"
	case st.conflict:
		o["mergeable"] = false
		o["rebaseable"] = false
		o["mergeable_state"] = "dirty"
	default:
		o["mergeable"] = true
		o["rebaseable"] = true
		o["mergeable_state"] = "clean"
		if p.draft {
			o["mergeable_state"] = "draft"
		}
	}
	return o
}

// forkSideJSON is the head of a pull request from a fork: the fork's
// owner and repository, or a repository of null once the fork is deleted.
func (s *Server) forkSideJSON(p *pull) obj {
	o := obj{"label": p.forkOwner.login + ":" + p.head, "ref": p.head, "sha": p.headSHA, "user": s.userJSON(p.forkOwner), "repo": nil}
	if p.fork != nil {
		o["repo"] = s.repoJSON(p.fork, repoHook)
	}
	return o
}

// openPullLocked opens a pull request and sends pull_request opened (and
// labeled for labels). A head "user:branch" naming another account than
// the base's is a branch of that user's fork of r. Callers hold s.mu.
func (s *Server) openPullLocked(ctx context.Context, r *repo, u *user, title, body, head, base string, draft bool) (*issue, error) {
	var fork *repo
	if owner, branch, found := strings.Cut(head, ":"); found {
		if !strings.EqualFold(owner, r.owner.login) {
			if fork = s.forkOfLocked(r, owner); fork == nil {
				return nil, errValidation("PullRequest", "head", "invalid", "")
			}
		}
		head = branch
	}
	if head == "" {
		return nil, errValidation("PullRequest", "head", "missing_field", "")
	}
	if base == "" {
		return nil, errValidation("PullRequest", "base", "missing_field", "")
	}
	if title == "" {
		return nil, errValidation("PullRequest", "title", "missing_field", "")
	}
	g := r.git
	headGit, headOwner := g, r.owner
	if fork != nil {
		headGit, headOwner = fork.git, fork.owner
	}
	headSHA := headGit.resolveCommit(ctx, "refs/heads/"+head)
	if headSHA == "" {
		return nil, errValidation("PullRequest", "head", "invalid", "")
	}
	if fork != nil {
		if err := g.fetchCommit(ctx, fork.git.dir, headSHA); err != nil {
			return nil, err
		}
	}
	baseSHA := g.resolveCommit(ctx, "refs/heads/"+base)
	if baseSHA == "" {
		return nil, errValidation("PullRequest", "base", "invalid", "")
	}
	for _, other := range r.issues {
		if other.pull != nil && other.state == "open" && other.pull.head == head && other.pull.base == base && other.pull.fork == fork && !other.pull.forkGone {
			return nil, errValidation("PullRequest", "", "custom", fmt.Sprintf("A pull request already exists for %s:%s.", headOwner.login, head))
		}
	}
	if g.isAncestor(ctx, headSHA, baseSHA) {
		return nil, errValidation("PullRequest", "", "custom", fmt.Sprintf("No commits between %s and %s", base, head))
	}
	now := s.now()
	is := &issue{
		id: s.newID(), number: int64(len(r.issues) + 1), title: title, body: body,
		user: u, state: "open", created: now, updated: now,
		pull: &pull{id: s.newID(), head: head, headSHA: headSHA, base: base, baseSHA: baseSHA, draft: draft, maintainers: true},
	}
	if fork != nil {
		is.pull.fork, is.pull.forkOwner = fork, fork.owner
	}
	if err := s.setPullRefLocked(ctx, r, is, headSHA); err != nil {
		return nil, err
	}
	r.issues = append(r.issues, is)
	r.updated = now
	s.emitIssueEvent(ctx, r, is, "opened", u, nil)
	return is, nil
}

func (c *call) pull() (*issue, error) {
	n, err := c.intParam("pull_number")
	if err != nil {
		return nil, err
	}
	is := c.repo.issue(n)
	if is == nil || is.pull == nil {
		return nil, errNotFound()
	}
	return is, nil
}

func (s *Server) createPull(c *call) (*response, error) {
	var req struct {
		Title               *stringOrNumber `json:"title"`
		Body                string          `json:"body"`
		Head                string          `json:"head"`
		Base                string          `json:"base"`
		Draft               bool            `json:"draft"`
		MaintainerCanModify *bool           `json:"maintainer_can_modify"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	title := ""
	if req.Title != nil {
		title = string(*req.Title)
	}
	if err := checkIssueText(&title, &req.Body); err != nil {
		return nil, err
	}
	is, err := s.openPullLocked(c.ctx, c.repo, c.actor, title, req.Body, req.Head, req.Base, req.Draft)
	if err != nil {
		return nil, err
	}
	if req.MaintainerCanModify != nil {
		is.pull.maintainers = *req.MaintainerCanModify
	}
	return created(s.pullJSON(c.ctx, c.repo, is, true))
}

func (s *Server) getPull(c *call) (*response, error) {
	is, err := c.pull()
	if err != nil {
		return nil, err
	}
	return ok(s.pullJSON(c.ctx, c.repo, is, true))
}

func (s *Server) listPulls(c *call) (*response, error) {
	state := c.query.Get("state")
	if state == "" {
		state = "open"
	}
	if !slices.Contains([]string{"open", "closed", "all"}, state) {
		return nil, errValidation("PullRequest", "state", "invalid", "")
	}
	head, headOwner := c.query.Get("head"), ""
	if owner, branch, found := strings.Cut(head, ":"); found {
		head, headOwner = branch, owner
	}
	base := c.query.Get("base")
	var list []*issue
	for _, is := range c.repo.issues {
		if is.pull == nil || (state != "all" && is.state != state) {
			continue
		}
		if head != "" && is.pull.head != head || base != "" && is.pull.base != base {
			continue
		}
		if headOwner != "" && !strings.EqualFold(is.pull.headOwner(c.repo).login, headOwner) {
			continue
		}
		list = append(list, is)
	}
	sortIssues(list, c.query.Get("sort"), c.query.Get("direction"))
	out := []any{}
	for _, is := range paginate(c, list) {
		out = append(out, s.pullJSON(c.ctx, c.repo, is, false))
	}
	return ok(out)
}

func (s *Server) updatePull(c *call) (*response, error) {
	is, err := c.pull()
	if err != nil {
		return nil, err
	}
	var req struct {
		Title               *stringOrNumber `json:"title"`
		Body                *string         `json:"body"`
		State               string          `json:"state"`
		Base                string          `json:"base"`
		MaintainerCanModify *bool           `json:"maintainer_can_modify"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.State != "" && req.State != "open" && req.State != "closed" {
		return nil, errValidation("PullRequest", "state", "invalid", "")
	}
	if err := checkIssueText((*string)(req.Title), req.Body); err != nil {
		return nil, err
	}
	p := is.pull
	if req.Base != "" && req.Base != p.base {
		sha := c.repo.git.resolveCommit(c.ctx, "refs/heads/"+req.Base)
		if sha == "" || is.state != "open" {
			return nil, errValidation("PullRequest", "base", "invalid", "")
		}
		old := p.base
		p.base, p.baseSHA = req.Base, sha
		is.updated = s.now()
		s.emitIssueEvent(c.ctx, c.repo, is, "edited", c.actor, obj{"changes": obj{"base": obj{"ref": obj{"from": old}, "sha": obj{"from": sha}}}})
	}
	var title *string
	if req.Title != nil {
		t := string(*req.Title)
		title = &t
	}
	s.editIssueLocked(c.ctx, c.repo, is, c.actor, title, req.Body)
	if req.MaintainerCanModify != nil {
		p.maintainers = *req.MaintainerCanModify
	}
	if req.State != "" && req.State != is.state {
		if p.merged {
			return nil, errValidation("PullRequest", "state", "custom", "Cannot change the state of a merged pull request")
		}
		if hr := is.headRepo(c.repo); req.State == "open" && (hr == nil || hr.git.resolveCommit(c.ctx, "refs/heads/"+p.head) == "") {
			return nil, errValidation("PullRequest", "state", "custom", "The head branch of this pull request no longer exists")
		}
		s.setIssueStateLocked(c.ctx, c.repo, is, c.actor, req.State, "")
	}
	return ok(s.pullJSON(c.ctx, c.repo, is, true))
}

func (s *Server) listPullFiles(c *call) (*response, error) {
	is, err := c.pull()
	if err != nil {
		return nil, err
	}
	p := is.pull
	g := c.repo.git
	mb := g.mergeBase(c.ctx, p.baseSHA, p.headSHA)
	if mb == "" {
		return ok([]any{})
	}
	changes, err := g.diff(c.ctx, mb, p.headSHA)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, ch := range paginate(c, changes) {
		sha := ch.newSHA
		if ch.status == "removed" {
			sha = ch.oldSHA
		}
		e := obj{
			"sha":          sha,
			"filename":     ch.path,
			"status":       ch.status,
			"additions":    ch.additions,
			"deletions":    ch.deletions,
			"changes":      ch.additions + ch.deletions,
			"blob_url":     s.htmlRepo(c.repo) + "/blob/" + p.headSHA + "/" + escapePath(ch.path),
			"raw_url":      s.htmlRepo(c.repo) + "/raw/" + p.headSHA + "/" + escapePath(ch.path),
			"contents_url": s.apiRepo(c.repo) + "/contents/" + escapePath(ch.path) + "?ref=" + p.headSHA,
		}
		if !ch.binary {
			e["patch"] = g.patch(c.ctx, mb, p.headSHA, ch.path)
		}
		out = append(out, e)
	}
	return ok(out)
}

func (s *Server) checkMerged(c *call) (*response, error) {
	is, err := c.pull()
	if err != nil {
		return nil, err
	}
	if !is.pull.merged {
		return nil, errNotFound()
	}
	return noContent()
}

func (s *Server) mergePull(c *call) (*response, error) {
	is, err := c.pull()
	if err != nil {
		return nil, err
	}
	var req struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	sha, err := s.mergePullLocked(c.ctx, c.repo, is, c.actor, req.MergeMethod, req.CommitTitle, req.CommitMessage, req.SHA)
	if err != nil {
		return nil, err
	}
	return ok(obj{"sha": sha, "merged": true, "message": "Pull Request successfully merged"})
}

// closingKeywords finds "Closes #12" and its siblings in a body.
var closingKeywords = regexp.MustCompile(`(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b`)

// mergePullLocked merges a pull request like the merge button: a merge
// commit (or a squash), the base branch moved, pull_request closed with
// merged true, push and check suite on the base, and issues named by
// closing keywords closed when the base is the default branch. Callers hold
// s.mu.
func (s *Server) mergePullLocked(ctx context.Context, r *repo, is *issue, u *user, method, title, message, expectSHA string) (string, error) {
	p := is.pull
	if is.state != "open" || p.merged {
		return "", ErrNotMergeable
	}
	if p.draft {
		return "", ErrNotMergeable
	}
	if expectSHA != "" && expectSHA != p.headSHA {
		return "", errStatus(http.StatusConflict, "Head branch was modified. Review and try the merge again.")
	}
	if method == "" {
		method = "merge"
	}
	if method != "merge" && method != "squash" {
		return "", errStatus(http.StatusMethodNotAllowed, "%s merges are not allowed on this repository.", strings.ToUpper(method[:1])+method[1:])
	}
	g := r.git
	baseRef := "refs/heads/" + p.base
	baseTip := g.resolveCommit(ctx, baseRef)
	if baseTip == "" {
		return "", ErrNotMergeable
	}
	tree, conflict, err := g.mergeTree(ctx, baseTip, p.headSHA)
	if err != nil {
		return "", err
	}
	if conflict {
		return "", ErrNotMergeable
	}
	now := s.now()
	parents := []string{baseTip, p.headSHA}
	if title == "" {
		title = fmt.Sprintf("Merge pull request #%d from %s/%s", is.number, p.headOwner(r).login, p.head)
		if message == "" {
			message = is.title
		}
	}
	if method == "squash" {
		parents = []string{baseTip}
		if title == "" || strings.HasPrefix(title, "Merge pull request") {
			title = fmt.Sprintf("%s (#%d)", is.title, is.number)
		}
	}
	msg := title + "\n"
	if message != "" {
		msg += "\n" + message + "\n"
	}
	sha, err := g.commitTree(ctx, tree, parents, msg, s.signatureOf(u, now), gitHubCommitter(now))
	if err != nil {
		return "", err
	}
	if err := g.updateRef(ctx, baseRef, sha, baseTip); err != nil {
		return "", err
	}
	p.merged = true
	p.mergedAt = now
	p.mergedBy = u
	p.mergeSHA = sha
	is.state = "closed"
	is.closed = now
	is.updated = now
	s.emitIssueEvent(ctx, r, is, "closed", u, nil)
	s.afterRefUpdates(ctx, r, []refUpdate{{ref: baseRef, before: baseTip, after: sha}}, u)
	if p.base == r.defaultBranch {
		for _, m := range closingKeywords.FindAllStringSubmatch(is.body, -1) {
			n, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil {
				continue
			}
			if target := r.issue(n); target != nil && target.pull == nil && target.state == "open" {
				s.setIssueStateLocked(ctx, r, target, u, "closed", "completed")
			}
		}
	}
	return sha, nil
}
