package githubtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

func (s *Server) getRepo(c *call) (*response, error) {
	o := s.repoJSON(c.repo, repoREST)
	if c.tok != nil {
		o["permissions"] = obj{"admin": false, "maintain": false, "push": true, "triage": true, "pull": true}
	}
	return ok(o)
}

// restCommitJSON renders a commit like the repository commits API.
func (s *Server) restCommitJSON(r *repo, ci *commitInfo) obj {
	api := s.apiRepo(r) + "/commits/" + ci.sha
	parents := make([]any, 0, len(ci.parents))
	for _, p := range ci.parents {
		parents = append(parents, obj{"sha": p, "url": s.apiRepo(r) + "/commits/" + p, "html_url": s.htmlRepo(r) + "/commit/" + p})
	}
	return obj{
		"sha":          ci.sha,
		"node_id":      "C_" + ci.sha[:20],
		"url":          api,
		"html_url":     s.htmlRepo(r) + "/commit/" + ci.sha,
		"comments_url": api + "/comments",
		"commit": obj{
			"author":        gitUserJSON(ci.author),
			"committer":     gitUserJSON(ci.committer),
			"message":       ci.message,
			"tree":          obj{"sha": ci.tree, "url": s.apiRepo(r) + "/git/trees/" + ci.tree},
			"url":           s.apiRepo(r) + "/git/commits/" + ci.sha,
			"comment_count": 0,
			"verification":  obj{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
		},
		"author":    s.userOrNil(s.userForEmail(ci.author.Email)),
		"committer": s.userOrNil(s.userForEmail(ci.committer.Email)),
		"parents":   parents,
	}
}

// noreplyDomain is the domain of the private commit emails GitHub gives
// every account: "<id>+<login>@users.noreply.github.com", or the older
// "<login>@users.noreply.github.com".
const noreplyDomain = "@users.noreply.github.com"

// userForEmail is the account a commit email belongs to, as GitHub links
// a commit to its author: a noreply email names the account by id and
// login, and both must match (an App's bot user has an id of its own, not
// the App's); any other email belongs to no account in the double.
// Callers hold s.mu.
func (s *Server) userForEmail(email string) *user {
	local, found := strings.CutSuffix(strings.ToLower(email), noreplyDomain)
	if !found {
		return nil
	}
	idPart, login, withID := strings.Cut(local, "+")
	if !withID {
		u := s.users[local]
		if u == nil || u.kind == "Bot" {
			return nil
		}
		return u
	}
	u := s.users[login]
	if u == nil || strconv.FormatInt(u.id, 10) != idPart {
		return nil
	}
	return u
}

// getUser serves GET /users/{username}: people, organizations and the
// App's bot user "<slug>[bot]", whose id is its own, not the App's.
func (s *Server) getUser(c *call) (*response, error) {
	u, known := s.users[strings.ToLower(c.params["username"])]
	if !known {
		return nil, errNotFound()
	}
	o := s.userJSON(u)
	o["user_view_type"] = "public"
	for _, k := range []string{"name", "company", "blog", "location", "email", "hireable", "bio", "twitter_username"} {
		o[k] = nil
	}
	o["blog"] = ""
	for _, k := range []string{"public_repos", "public_gists", "followers", "following"} {
		o[k] = 0
	}
	o["created_at"] = ts(s.started)
	o["updated_at"] = ts(s.started)
	return ok(o)
}

// getRepoCommit serves GET /repos/{owner}/{repo}/commits/{ref}, with the
// commit's author and committer linked to their accounts by email.
func (s *Server) getRepoCommit(c *call) (*response, error) {
	sha, err := c.refCommit()
	if err != nil {
		return nil, err
	}
	ci, err := c.repo.git.readCommit(c.ctx, sha)
	if err != nil {
		return nil, err
	}
	return ok(s.restCommitJSON(c.repo, ci))
}

func (s *Server) getBranch(c *call) (*response, error) {
	name := c.params["branch"]
	sha := c.repo.git.resolveCommit(c.ctx, "refs/heads/"+name)
	if sha == "" {
		return nil, errStatus(http.StatusNotFound, "Branch not found")
	}
	ci, err := c.repo.git.readCommit(c.ctx, sha)
	if err != nil {
		return nil, err
	}
	api := s.apiRepo(c.repo) + "/branches/" + name
	return ok(obj{
		"name":           name,
		"commit":         s.restCommitJSON(c.repo, ci),
		"_links":         obj{"self": api, "html": s.htmlRepo(c.repo) + "/tree/" + name},
		"protected":      c.repo.protections[name] != nil,
		"protection":     branchProtectionSummary(c.repo.protections[name]),
		"protection_url": api + "/protection",
	})
}

func (s *Server) getCollaboratorPermission(c *call) (*response, error) {
	login := c.params["username"]
	u, known := s.users[strings.ToLower(login)]
	if !known {
		return nil, errStatus(http.StatusNotFound, "%s is not a user", login)
	}
	role := s.permissionLocked(c.repo, u)
	legacy := map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}[role]
	if legacy == "" {
		legacy = "none"
	}
	rank := permissionRank(role)
	uj := s.userJSON(u)
	uj["role_name"] = role
	uj["permissions"] = obj{"admin": rank >= 5, "maintain": rank >= 4, "push": rank >= 3, "triage": rank >= 2, "pull": rank >= 1}
	return ok(obj{"permission": legacy, "role_name": role, "user": uj})
}

func (s *Server) getTeamMembership(c *call) (*response, error) {
	org, team, login := c.params["org"], c.params["team_slug"], c.params["username"]
	members := s.teams[teamKey(org, team)]
	if !members[strings.ToLower(login)] {
		return nil, errNotFound()
	}
	return ok(obj{
		"url":   fmt.Sprintf("%s/organizations/%d/team/%s/memberships/%s", s.url, s.userLocked(org).id, url.PathEscape(team), url.PathEscape(login)),
		"role":  "member",
		"state": "active",
	})
}

func teamKey(org, team string) string { return strings.ToLower(org + "/" + team) }

// contentRef resolves the ?ref= of the contents API to a commit.
func (s *Server) contentRef(ctx context.Context, r *repo, ref string) (string, string, error) {
	if ref == "" {
		ref = r.defaultBranch
	}
	sha := r.git.resolveCommit(ctx, "refs/heads/"+ref)
	if sha == "" {
		sha = r.git.resolveCommit(ctx, ref)
	}
	if sha == "" {
		return "", "", errStatus(http.StatusNotFound, "No commit found for the ref %s", ref)
	}
	return ref, sha, nil
}

func (s *Server) contentEntryJSON(r *repo, ref string, e treeEntry) obj {
	kind := map[string]string{"blob": "file", "tree": "dir", "commit": "submodule"}[e.kind]
	if e.mode == "120000" {
		kind = "symlink"
	}
	q := "?ref=" + url.QueryEscape(ref)
	self := s.apiRepo(r) + "/contents/" + escapePath(e.path) + q
	gitURL := s.apiRepo(r) + "/git/blobs/" + e.sha
	htmlURL := s.htmlRepo(r) + "/blob/" + ref + "/" + escapePath(e.path)
	var download any = s.url + "/raw/" + r.fullName() + "/" + ref + "/" + escapePath(e.path)
	if kind == "dir" {
		gitURL = s.apiRepo(r) + "/git/trees/" + e.sha
		htmlURL = s.htmlRepo(r) + "/tree/" + ref + "/" + escapePath(e.path)
		download = nil
	}
	size := e.size
	if kind != "file" && kind != "symlink" {
		size = 0
	}
	return obj{
		"type":         kind,
		"size":         size,
		"name":         path.Base(e.path),
		"path":         e.path,
		"sha":          e.sha,
		"url":          self,
		"git_url":      gitURL,
		"html_url":     htmlURL,
		"download_url": download,
		"_links":       obj{"self": self, "git": gitURL, "html": htmlURL},
	}
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func (s *Server) getContent(c *call) (*response, error) {
	ref, sha, err := s.contentRef(c.ctx, c.repo, c.query.Get("ref"))
	if err != nil {
		return nil, err
	}
	p := strings.Trim(c.params["path"], "/")
	g := c.repo.git
	if p == "" {
		entries, err := g.lsTree(c.ctx, sha, false, "")
		if err != nil {
			return nil, err
		}
		list := []any{}
		for _, e := range entries {
			list = append(list, s.contentEntryJSON(c.repo, ref, e))
		}
		return ok(list)
	}
	entries, err := g.lsTree(c.ctx, sha, false, p)
	if err != nil {
		return nil, err
	}
	if len(entries) != 1 || entries[0].path != p {
		return nil, errNotFound()
	}
	e := entries[0]
	if e.kind == "tree" {
		children, err := g.lsTree(c.ctx, sha, false, p+"/")
		if err != nil {
			return nil, err
		}
		list := []any{}
		for _, ch := range children {
			list = append(list, s.contentEntryJSON(c.repo, ref, ch))
		}
		return ok(list)
	}
	o := s.contentEntryJSON(c.repo, ref, e)
	if e.kind == "blob" {
		data, err := g.catBlob(c.ctx, e.sha)
		if err != nil {
			return nil, err
		}
		o["content"] = wrap64(base64.StdEncoding.EncodeToString(data))
		o["encoding"] = "base64"
	}
	return ok(o)
}

// commitFiles commits changes on top of a branch (or of from when the
// branch does not exist yet) and moves the branch. It returns the old and
// new tip; the caller reports the update.
func (s *Server) commitFiles(ctx context.Context, r *repo, branch, from string, changes []treeChange, msg string, author, committer signature) (string, string, error) {
	g := r.git
	ref := "refs/heads/" + branch
	old := g.resolveCommit(ctx, ref)
	parent := old
	if parent == "" {
		parent = from
	}
	base := ""
	var parents []string
	if parent != "" {
		ci, err := g.readCommit(ctx, parent)
		if err != nil {
			return "", "", err
		}
		base = ci.tree
		parents = []string{parent}
	}
	tree, err := g.buildTree(ctx, base, changes)
	if err != nil {
		return "", "", err
	}
	sha, err := g.commitTree(ctx, tree, parents, msg, author, committer)
	if err != nil {
		return "", "", err
	}
	expect := old
	if expect == "" {
		expect = zeroSHA
	}
	if err := g.updateRef(ctx, ref, sha, expect); err != nil {
		return "", "", err
	}
	if old == "" {
		old = zeroSHA
	}
	return old, sha, nil
}

type contentWrite struct {
	Message   *string     `json:"message"`
	Content   *string     `json:"content"`
	SHA       string      `json:"sha"`
	Branch    string      `json:"branch"`
	Committer *sigRequest `json:"committer"`
	Author    *sigRequest `json:"author"`
}

func (s *Server) putContent(c *call) (*response, error) {
	return s.writeContent(c, false)
}

func (s *Server) deleteContent(c *call) (*response, error) {
	return s.writeContent(c, true)
}

func (s *Server) writeContent(c *call, remove bool) (*response, error) {
	var req contentWrite
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Message == nil {
		return nil, errValidation("Content", "message", "missing_field", "")
	}
	p := strings.Trim(c.params["path"], "/")
	if p == "" {
		return nil, errNotFound()
	}
	var data []byte
	if !remove {
		if req.Content == nil {
			return nil, errValidation("Content", "content", "missing_field", "")
		}
		b, err := base64.StdEncoding.DecodeString(*req.Content)
		if err != nil {
			return nil, errValidation("Content", "content", "invalid", "content is not valid Base64")
		}
		data = b
	}
	branch := req.Branch
	if branch == "" {
		branch = c.repo.defaultBranch
	}
	g := c.repo.git
	tip := g.resolveCommit(c.ctx, "refs/heads/"+branch)
	if tip == "" {
		return nil, errStatus(http.StatusUnprocessableEntity, "Branch %s not found", branch)
	}
	existing, err := g.lsTree(c.ctx, tip, false, p)
	if err != nil {
		return nil, err
	}
	var current string
	if len(existing) == 1 && existing[0].path == p && existing[0].kind == "blob" {
		current = existing[0].sha
	}
	switch {
	case remove && current == "":
		return nil, errNotFound()
	case current != "" && req.SHA == "":
		return nil, errValidation("Content", "sha", "missing_field", `"sha" wasn't supplied.`)
	case current != "" && req.SHA != current:
		return nil, errStatus(http.StatusConflict, "%s does not match %s", p, req.SHA)
	}
	author, err := req.Author.toSignature(s.signatureOf(c.actor, s.now()))
	if err != nil {
		return nil, err
	}
	committer, err := req.Committer.toSignature(author)
	if err != nil {
		return nil, err
	}
	ch := treeChange{path: p}
	if !remove {
		ch.sha, err = g.hashBlob(c.ctx, data)
		if err != nil {
			return nil, err
		}
	}
	old, sha, err := s.commitFiles(c.ctx, c.repo, branch, "", []treeChange{ch}, *req.Message, author, committer)
	if err != nil {
		return nil, err
	}
	s.afterRefUpdates(c.ctx, c.repo, []refUpdate{{ref: "refs/heads/" + branch, before: old, after: sha}}, c.actor)
	ci, err := g.readCommit(c.ctx, sha)
	if err != nil {
		return nil, err
	}
	body := obj{"commit": s.gitCommitJSON(c.repo, ci), "content": nil}
	if remove {
		return ok(body)
	}
	entries, err := g.lsTree(c.ctx, sha, false, p)
	if err != nil || len(entries) != 1 {
		return nil, fmt.Errorf("read back %s: %w", p, err)
	}
	body["content"] = s.contentEntryJSON(c.repo, branch, entries[0])
	if current == "" {
		return created(body)
	}
	return ok(body)
}
