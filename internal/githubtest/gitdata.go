package githubtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

func (s *Server) apiRepo(r *repo) string  { return s.url + "/repos/" + r.fullName() }
func (s *Server) htmlRepo(r *repo) string { return s.url + "/" + r.fullName() }

// signatureOf is the git identity GitHub uses for an account.
func (s *Server) signatureOf(u *user, when time.Time) signature {
	return signature{Name: u.login, Email: fmt.Sprintf("%d+%s@users.noreply.github.com", u.id, u.login), When: when}
}

// gitHubCommitter is the committer of merges and web edits.
func gitHubCommitter(when time.Time) signature {
	return signature{Name: "GitHub", Email: "noreply@github.com", When: when}
}

func gitUserJSON(sig signature) obj {
	return obj{"name": sig.Name, "email": sig.Email, "date": ts(sig.When)}
}

// gitCommitJSON renders a commit like the git data API.
func (s *Server) gitCommitJSON(r *repo, ci *commitInfo) obj {
	parents := make([]any, 0, len(ci.parents))
	for _, p := range ci.parents {
		parents = append(parents, obj{"sha": p, "url": s.apiRepo(r) + "/git/commits/" + p, "html_url": s.htmlRepo(r) + "/commit/" + p})
	}
	return obj{
		"sha":       ci.sha,
		"node_id":   "C_" + ci.sha[:20],
		"url":       s.apiRepo(r) + "/git/commits/" + ci.sha,
		"html_url":  s.htmlRepo(r) + "/commit/" + ci.sha,
		"author":    gitUserJSON(ci.author),
		"committer": gitUserJSON(ci.committer),
		"tree":      obj{"sha": ci.tree, "url": s.apiRepo(r) + "/git/trees/" + ci.tree},
		"message":   ci.message,
		"parents":   parents,
		"verification": obj{
			"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil,
		},
	}
}

func (s *Server) refJSON(r *repo, ref, sha string) obj {
	return obj{
		"ref":     ref,
		"node_id": nodeID("REF", int64(len(ref))) + strings.ReplaceAll(ref, "/", "_"),
		"url":     s.apiRepo(r) + "/git/" + ref,
		"object":  obj{"type": "commit", "sha": sha, "url": s.apiRepo(r) + "/git/commits/" + sha},
	}
}

func (s *Server) createBlob(c *call) (*response, error) {
	var req struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Content == nil {
		return nil, errValidation("Blob", "content", "missing_field", "")
	}
	data := []byte(*req.Content)
	switch req.Encoding {
	case "", "utf-8":
	case "base64":
		b, err := base64.StdEncoding.DecodeString(*req.Content)
		if err != nil {
			return nil, errValidation("Blob", "content", "invalid", "content is not valid Base64")
		}
		data = b
	default:
		return nil, errValidation("Blob", "encoding", "invalid", "encoding must be utf-8 or base64")
	}
	sha, err := c.repo.git.hashBlob(c.ctx, data)
	if err != nil {
		return nil, err
	}
	return created(obj{"url": s.apiRepo(c.repo) + "/git/blobs/" + sha, "sha": sha})
}

func (s *Server) getBlob(c *call) (*response, error) {
	sha := c.params["file_sha"]
	if c.repo.git.objectType(c.ctx, sha) != "blob" {
		return nil, errNotFound()
	}
	data, err := c.repo.git.catBlob(c.ctx, sha)
	if err != nil {
		return nil, err
	}
	return ok(obj{
		"sha":      sha,
		"node_id":  "B_" + sha[:20],
		"url":      s.apiRepo(c.repo) + "/git/blobs/" + sha,
		"size":     len(data),
		"content":  wrap64(base64.StdEncoding.EncodeToString(data)),
		"encoding": "base64",
	})
}

// wrap64 breaks base64 text into lines of 60 like GitHub does.
func wrap64(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60])
		b.WriteByte('\n')
		s = s[60:]
	}
	b.WriteString(s)
	b.WriteByte('\n')
	return b.String()
}

func (s *Server) createTree(c *call) (*response, error) {
	var req struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path    string  `json:"path"`
			Mode    string  `json:"mode"`
			Type    string  `json:"type"`
			SHA     *string `json:"sha"`
			Content *string `json:"content"`
		} `json:"tree"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Tree == nil {
		return nil, errValidation("Tree", "tree", "missing_field", "")
	}
	g := c.repo.git
	if req.BaseTree != "" && g.objectType(c.ctx, req.BaseTree) != "tree" {
		return nil, errValidation("Tree", "base_tree", "invalid", "base_tree is not a valid tree oid")
	}
	var changes []treeChange
	for i, e := range req.Tree {
		if e.Path == "" || strings.HasPrefix(e.Path, "/") || strings.Contains(e.Path, "//") {
			return nil, errValidation("Tree", fmt.Sprintf("tree[%d].path", i), "invalid", "tree.path is invalid")
		}
		if !slices.Contains([]string{"100644", "100755", "040000", "160000", "120000"}, e.Mode) {
			return nil, errValidation("Tree", fmt.Sprintf("tree[%d].mode", i), "invalid", "tree.mode must be one of 100644, 100755, 040000, 160000, 120000")
		}
		ch := treeChange{path: e.Path, mode: e.Mode, tree: e.Type == "tree" || e.Mode == "040000"}
		switch {
		case e.Content != nil:
			if ch.tree {
				return nil, errValidation("Tree", fmt.Sprintf("tree[%d].content", i), "invalid", "content is only allowed for blobs")
			}
			sha, err := g.hashBlob(c.ctx, []byte(*e.Content))
			if err != nil {
				return nil, err
			}
			ch.sha = sha
		case e.SHA == nil:
			if req.BaseTree == "" {
				return nil, errValidation("Tree", fmt.Sprintf("tree[%d].sha", i), "invalid", "a null sha deletes from base_tree, which is missing")
			}
		default:
			want := map[bool]string{true: "tree", false: "blob"}[ch.tree]
			if e.Mode == "160000" {
				want = ""
			}
			if want != "" && g.objectType(c.ctx, *e.SHA) != want {
				return nil, errValidation("Tree", fmt.Sprintf("tree[%d].sha", i), "invalid", "tree.sha "+*e.SHA+" is not a valid "+want)
			}
			ch.sha = *e.SHA
		}
		changes = append(changes, ch)
	}
	tree, err := g.buildTree(c.ctx, req.BaseTree, changes)
	if err != nil {
		return nil, errValidation("Tree", "tree", "invalid", err.Error())
	}
	body, err := s.treeJSON(c.ctx, c.repo, tree, false)
	if err != nil {
		return nil, err
	}
	return created(body)
}

func (s *Server) treeJSON(ctx context.Context, r *repo, tree string, recursive bool) (obj, error) {
	entries, err := r.git.lsTree(ctx, tree, recursive, "")
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, len(entries))
	for _, e := range entries {
		item := obj{"path": e.path, "mode": e.mode, "type": e.kind, "sha": e.sha}
		switch e.kind {
		case "blob":
			item["size"] = e.size
			item["url"] = s.apiRepo(r) + "/git/blobs/" + e.sha
		case "tree":
			item["url"] = s.apiRepo(r) + "/git/trees/" + e.sha
		}
		list = append(list, item)
	}
	return obj{"sha": tree, "url": s.apiRepo(r) + "/git/trees/" + tree, "tree": list, "truncated": false}, nil
}

func (s *Server) getTree(c *call) (*response, error) {
	g := c.repo.git
	sha := c.params["tree_sha"]
	if g.objectType(c.ctx, sha) != "tree" {
		commit := g.resolveCommit(c.ctx, sha)
		if commit == "" {
			return nil, errNotFound()
		}
		ci, err := g.readCommit(c.ctx, commit)
		if err != nil {
			return nil, err
		}
		sha = ci.tree
	}
	rec := c.query.Get("recursive")
	body, err := s.treeJSON(c.ctx, c.repo, sha, rec != "" && rec != "0" && rec != "false")
	if err != nil {
		return nil, err
	}
	return ok(body)
}

// parseSignatureRequest reads an optional author/committer object.
type sigRequest struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Date  string `json:"date"`
}

func (sr *sigRequest) toSignature(fallback signature) (signature, error) {
	if sr == nil {
		return fallback, nil
	}
	sig := signature{Name: sr.Name, Email: sr.Email, When: fallback.When}
	if sig.Name == "" || sig.Email == "" {
		return signature{}, errValidation("Commit", "author", "invalid", "name and email are required")
	}
	if sr.Date != "" {
		t, err := time.Parse(time.RFC3339, sr.Date)
		if err != nil {
			return signature{}, errValidation("Commit", "date", "invalid", "date is not ISO 8601")
		}
		sig.When = t
	}
	return sig, nil
}

func (s *Server) createCommit(c *call) (*response, error) {
	var req struct {
		Message   *string     `json:"message"`
		Tree      string      `json:"tree"`
		Parents   []string    `json:"parents"`
		Author    *sigRequest `json:"author"`
		Committer *sigRequest `json:"committer"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Message == nil {
		return nil, errValidation("Commit", "message", "missing_field", "")
	}
	g := c.repo.git
	if g.objectType(c.ctx, req.Tree) != "tree" {
		return nil, errValidation("Commit", "tree", "invalid", "Tree SHA does not exist")
	}
	for _, p := range req.Parents {
		if g.objectType(c.ctx, p) != "commit" {
			return nil, errValidation("Commit", "parents", "invalid", "Parent SHA does not exist or is not a commit object")
		}
	}
	author, err := req.Author.toSignature(s.signatureOf(c.actor, s.now()))
	if err != nil {
		return nil, err
	}
	committer, err := req.Committer.toSignature(author)
	if err != nil {
		return nil, err
	}
	sha, err := g.commitTree(c.ctx, req.Tree, req.Parents, *req.Message, author, committer)
	if err != nil {
		return nil, err
	}
	ci, err := g.readCommit(c.ctx, sha)
	if err != nil {
		return nil, err
	}
	return created(s.gitCommitJSON(c.repo, ci))
}

func (s *Server) getCommit(c *call) (*response, error) {
	sha := c.params["commit_sha"]
	if c.repo.git.objectType(c.ctx, sha) != "commit" {
		return nil, errNotFound()
	}
	ci, err := c.repo.git.readCommit(c.ctx, sha)
	if err != nil {
		return nil, err
	}
	return ok(s.gitCommitJSON(c.repo, ci))
}

func (s *Server) getRef(c *call) (*response, error) {
	refs, err := c.repo.git.refs(c.ctx)
	if err != nil {
		return nil, err
	}
	full := "refs/" + c.params["ref"]
	sha, found := refs[full]
	if !found {
		return nil, errNotFound()
	}
	return ok(s.refJSON(c.repo, full, sha))
}

func (s *Server) listMatchingRefs(c *call) (*response, error) {
	refs, err := c.repo.git.refs(c.ctx)
	if err != nil {
		return nil, err
	}
	prefix := "refs/" + c.params["ref"]
	var names []string
	for name := range refs {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	list := []any{}
	for _, n := range names {
		list = append(list, s.refJSON(c.repo, n, refs[n]))
	}
	return ok(list)
}

// validRefName says whether GitHub accepts a fully qualified ref name.
func validRefName(ref string) bool {
	if !strings.HasPrefix(ref, "refs/") || strings.Count(ref, "/") < 2 || strings.HasSuffix(ref, "/") {
		return false
	}
	for _, bad := range []string{"..", "//", "@{", "\\", " ", "~", "^", ":", "?", "*", "[", ".lock/"} {
		if strings.Contains(ref, bad) {
			return false
		}
	}
	return !strings.HasSuffix(ref, ".lock") && !strings.HasSuffix(ref, ".")
}

func (s *Server) createRef(c *call) (*response, error) {
	var req struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if !validRefName(req.Ref) {
		return nil, errStatus(http.StatusUnprocessableEntity, "Reference name is not valid")
	}
	g := c.repo.git
	if g.objectType(c.ctx, req.SHA) == "" {
		return nil, errStatus(http.StatusUnprocessableEntity, "Object does not exist")
	}
	refs, err := g.refs(c.ctx)
	if err != nil {
		return nil, err
	}
	if _, exists := refs[req.Ref]; exists {
		return nil, errStatus(http.StatusUnprocessableEntity, "Reference already exists")
	}
	if err := g.updateRef(c.ctx, req.Ref, req.SHA, zeroSHA); err != nil {
		return nil, err
	}
	s.afterRefUpdates(c.ctx, c.repo, []refUpdate{{ref: req.Ref, before: zeroSHA, after: req.SHA}}, c.actor)
	return created(s.refJSON(c.repo, req.Ref, req.SHA))
}

func (s *Server) updateRef(c *call) (*response, error) {
	var req struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	g := c.repo.git
	full := "refs/" + c.params["ref"]
	refs, err := g.refs(c.ctx)
	if err != nil {
		return nil, err
	}
	old, exists := refs[full]
	if !exists {
		return nil, errStatus(http.StatusUnprocessableEntity, "Reference does not exist")
	}
	if g.objectType(c.ctx, req.SHA) != "commit" {
		return nil, errStatus(http.StatusUnprocessableEntity, "Object does not exist")
	}
	if old == req.SHA {
		return ok(s.refJSON(c.repo, full, old))
	}
	if !req.Force && !g.isAncestor(c.ctx, old, req.SHA) {
		return nil, errStatus(http.StatusUnprocessableEntity, "Update is not a fast forward")
	}
	if err := g.updateRef(c.ctx, full, req.SHA, old); err != nil {
		return nil, err
	}
	s.afterRefUpdates(c.ctx, c.repo, []refUpdate{{ref: full, before: old, after: req.SHA}}, c.actor)
	return ok(s.refJSON(c.repo, full, req.SHA))
}

func (s *Server) deleteRef(c *call) (*response, error) {
	g := c.repo.git
	full := "refs/" + c.params["ref"]
	refs, err := g.refs(c.ctx)
	if err != nil {
		return nil, err
	}
	old, exists := refs[full]
	if !exists {
		return nil, errStatus(http.StatusUnprocessableEntity, "Reference does not exist")
	}
	if full == "refs/heads/"+c.repo.defaultBranch {
		return nil, errStatus(http.StatusUnprocessableEntity, "Cannot delete the default branch")
	}
	if err := g.deleteRef(c.ctx, full); err != nil {
		return nil, err
	}
	s.afterRefUpdates(c.ctx, c.repo, []refUpdate{{ref: full, before: old, after: zeroSHA}}, c.actor)
	return noContent()
}
