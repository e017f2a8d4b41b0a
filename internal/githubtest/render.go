package githubtest

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// obj is a JSON object as GitHub sends it.
type obj = map[string]any

// ts formats a time like GitHub: RFC 3339 in UTC, whole seconds.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// tsOrNil is ts, or JSON null for the zero time.
func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func strOrNil(v string) any {
	if v == "" {
		return nil
	}
	return v
}

func nodeID(kind string, id int64) string {
	return kind + "_" + base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d", kind, id))
}

func (s *Server) userJSON(u *user) obj {
	if u == nil {
		return nil
	}
	api := s.url + "/users/" + url.PathEscape(u.login)
	kind := map[string]string{"User": "U", "Organization": "O", "Bot": "BOT"}[u.kind]
	return obj{
		"login":               u.login,
		"id":                  u.id,
		"node_id":             nodeID(kind, u.id),
		"avatar_url":          fmt.Sprintf("%s/avatars/u/%d?v=4", s.url, u.id),
		"gravatar_id":         "",
		"url":                 api,
		"html_url":            s.url + "/" + url.PathEscape(u.login),
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"type":                u.kind,
		"site_admin":          false,
	}
}

// userOrNil renders a user or JSON null; a typed nil map would render as
// null too, but this keeps intent visible.
func (s *Server) userOrNil(u *user) any {
	if u == nil {
		return nil
	}
	return s.userJSON(u)
}

func (s *Server) orgJSON(u *user) obj {
	api := s.url + "/orgs/" + url.PathEscape(u.login)
	return obj{
		"login":              u.login,
		"id":                 u.id,
		"node_id":            nodeID("O", u.id),
		"url":                api,
		"repos_url":          api + "/repos",
		"events_url":         api + "/events",
		"hooks_url":          api + "/hooks",
		"issues_url":         api + "/issues",
		"members_url":        api + "/members{/member}",
		"public_members_url": api + "/public_members{/member}",
		"avatar_url":         fmt.Sprintf("%s/avatars/u/%d?v=4", s.url, u.id),
		"description":        nil,
	}
}

// appPermissions are the permissions the App asks for on install.
func appPermissions() map[string]string {
	return map[string]string{
		"checks":        "write",
		"contents":      "write",
		"issues":        "write",
		"members":       "read",
		"metadata":      "read",
		"pull_requests": "write",
		"statuses":      "write",
	}
}

func appEvents() []string {
	return []string{"check_run", "check_suite", "issue_comment", "issues", "pull_request", "pull_request_review", "push"}
}

// appJSON renders the App ("integration").
func (s *Server) appJSON() obj {
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return obj{
		"id":           s.opts.AppID,
		"slug":         s.opts.AppSlug,
		"node_id":      nodeID("A", s.opts.AppID),
		"owner":        s.userJSON(s.userLocked(s.opts.AppOwner)),
		"name":         s.opts.AppName,
		"description":  "Self-service Kubernetes infrastructure through pull requests",
		"external_url": s.url + "/apps/" + s.opts.AppSlug,
		"html_url":     s.url + "/apps/" + s.opts.AppSlug,
		"created_at":   ts(created),
		"updated_at":   ts(created),
		"permissions":  appPermissions(),
		"events":       appEvents(),
	}
}

// appJSONOf renders the App a check run or suite belongs to: another App,
// or the served one when a is nil.
func (s *Server) appJSONOf(a *App) obj {
	if a == nil {
		return s.appJSON()
	}
	created := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	return obj{
		"id":           a.ID,
		"slug":         a.Slug,
		"node_id":      nodeID("A", a.ID),
		"owner":        s.userJSON(s.userLocked(a.Owner)),
		"name":         a.Name,
		"description":  "",
		"external_url": s.url + "/apps/" + a.Slug,
		"html_url":     s.url + "/apps/" + a.Slug,
		"created_at":   ts(created),
		"updated_at":   ts(created),
		"permissions":  obj{"checks": "write", "metadata": "read"},
		"events":       []string{},
	}
}

// repoMode selects the shape of a repository object.
type repoMode int

const (
	repoREST repoMode = iota // REST full-repository
	repoHook                 // webhook payloads
	repoPush                 // push payloads: timestamps as integers
)

func (s *Server) repoJSON(r *repo, mode repoMode) obj {
	api := s.url + "/repos/" + r.fullName()
	html := s.url + "/" + r.fullName()
	visibility := "public"
	if r.private {
		visibility = "private"
	}
	open := 0
	for _, is := range r.issues {
		if is.state == "open" {
			open++
		}
	}
	o := obj{
		"id":                          r.id,
		"node_id":                     nodeID("R", r.id),
		"name":                        r.name,
		"full_name":                   r.fullName(),
		"private":                     r.private,
		"owner":                       s.userJSON(r.owner),
		"html_url":                    html,
		"description":                 strOrNil(r.description),
		"fork":                        r.parent != nil,
		"url":                         api,
		"forks_url":                   api + "/forks",
		"keys_url":                    api + "/keys{/key_id}",
		"collaborators_url":           api + "/collaborators{/collaborator}",
		"teams_url":                   api + "/teams",
		"hooks_url":                   api + "/hooks",
		"issue_events_url":            api + "/issues/events{/number}",
		"events_url":                  api + "/events",
		"assignees_url":               api + "/assignees{/user}",
		"branches_url":                api + "/branches{/branch}",
		"tags_url":                    api + "/tags",
		"blobs_url":                   api + "/git/blobs{/sha}",
		"git_tags_url":                api + "/git/tags{/sha}",
		"git_refs_url":                api + "/git/refs{/sha}",
		"trees_url":                   api + "/git/trees{/sha}",
		"statuses_url":                api + "/statuses/{sha}",
		"languages_url":               api + "/languages",
		"stargazers_url":              api + "/stargazers",
		"contributors_url":            api + "/contributors",
		"subscribers_url":             api + "/subscribers",
		"subscription_url":            api + "/subscription",
		"commits_url":                 api + "/commits{/sha}",
		"git_commits_url":             api + "/git/commits{/sha}",
		"comments_url":                api + "/comments{/number}",
		"issue_comment_url":           api + "/issues/comments{/number}",
		"contents_url":                api + "/contents/{+path}",
		"compare_url":                 api + "/compare/{base}...{head}",
		"merges_url":                  api + "/merges",
		"archive_url":                 api + "/{archive_format}{/ref}",
		"downloads_url":               api + "/downloads",
		"issues_url":                  api + "/issues{/number}",
		"pulls_url":                   api + "/pulls{/number}",
		"milestones_url":              api + "/milestones{/number}",
		"notifications_url":           api + "/notifications{?since,all,participating}",
		"labels_url":                  api + "/labels{/name}",
		"releases_url":                api + "/releases{/id}",
		"deployments_url":             api + "/deployments",
		"created_at":                  ts(r.created),
		"updated_at":                  ts(r.updated),
		"pushed_at":                   ts(r.pushed),
		"git_url":                     strings.Replace(html, "http://", "git://", 1) + ".git",
		"ssh_url":                     "git@" + strings.TrimPrefix(s.url, "http://") + ":" + r.fullName() + ".git",
		"clone_url":                   html + ".git",
		"svn_url":                     html,
		"homepage":                    nil,
		"size":                        0,
		"stargazers_count":            0,
		"watchers_count":              0,
		"language":                    nil,
		"has_issues":                  true,
		"has_projects":                false,
		"has_downloads":               true,
		"has_wiki":                    false,
		"has_pages":                   false,
		"has_discussions":             false,
		"forks_count":                 0,
		"mirror_url":                  nil,
		"archived":                    false,
		"disabled":                    false,
		"open_issues_count":           open,
		"license":                     nil,
		"allow_forking":               true,
		"is_template":                 false,
		"web_commit_signoff_required": false,
		"topics":                      []string{},
		"visibility":                  visibility,
		"forks":                       0,
		"open_issues":                 open,
		"watchers":                    0,
		"default_branch":              r.defaultBranch,
		"custom_properties":           obj{},
	}
	switch mode {
	case repoREST:
		o["network_count"] = 0
		o["subscribers_count"] = 0
		o["allow_merge_commit"] = true
		o["allow_squash_merge"] = true
		o["allow_rebase_merge"] = false
		o["delete_branch_on_merge"] = false
	case repoPush:
		o["created_at"] = r.created.Unix()
		o["pushed_at"] = r.pushed.Unix()
		o["stargazers"] = 0
		o["master_branch"] = r.defaultBranch
		if r.owner.kind == "Organization" {
			o["organization"] = r.owner.login
		}
	}
	return o
}

// repoRef is the short repository object inside check pull_requests.
func (s *Server) repoRef(r *repo) obj {
	return obj{"id": r.id, "url": s.url + "/repos/" + r.fullName(), "name": r.name}
}

func (s *Server) labelJSON(r *repo, l *label) obj {
	return obj{
		"id":          l.id,
		"node_id":     nodeID("LA", l.id),
		"url":         s.url + "/repos/" + r.fullName() + "/labels/" + url.PathEscape(l.name),
		"name":        l.name,
		"color":       l.color,
		"default":     false,
		"description": strOrNil(l.description),
	}
}

func (s *Server) labelsJSON(r *repo, ls []*label) []any {
	out := make([]any, 0, len(ls))
	for _, l := range ls {
		out = append(out, s.labelJSON(r, l))
	}
	return out
}

// reactionContents are the reactions GitHub knows.
var reactionContents = []string{"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}

func reactionRollup(apiURL string, rs []*reaction) obj {
	o := obj{"url": apiURL + "/reactions", "total_count": len(rs)}
	for _, c := range reactionContents {
		o[c] = 0
	}
	for _, r := range rs {
		o[r.content] = o[r.content].(int) + 1
	}
	return o
}

func (s *Server) reactionJSON(rc *reaction) obj {
	return obj{
		"id":         rc.id,
		"node_id":    nodeID("REA", rc.id),
		"user":       s.userJSON(rc.user),
		"content":    rc.content,
		"created_at": ts(rc.created),
	}
}

func (s *Server) issueJSON(r *repo, is *issue) obj {
	api := fmt.Sprintf("%s/repos/%s/issues/%d", s.url, r.fullName(), is.number)
	html := fmt.Sprintf("%s/%s/issues/%d", s.url, r.fullName(), is.number)
	o := obj{
		"url":                      api,
		"repository_url":           s.url + "/repos/" + r.fullName(),
		"labels_url":               api + "/labels{/name}",
		"comments_url":             api + "/comments",
		"events_url":               api + "/events",
		"html_url":                 html,
		"timeline_url":             api + "/timeline",
		"id":                       is.id,
		"node_id":                  nodeID("I", is.id),
		"number":                   is.number,
		"title":                    is.title,
		"user":                     s.userJSON(is.user),
		"labels":                   s.labelsJSON(r, is.labels),
		"state":                    is.state,
		"state_reason":             strOrNil(is.stateReason),
		"locked":                   false,
		"assignee":                 nil,
		"assignees":                []any{},
		"milestone":                nil,
		"comments":                 is.comments,
		"created_at":               ts(is.created),
		"updated_at":               ts(is.updated),
		"closed_at":                tsOrNil(is.closed),
		"author_association":       s.authorAssociation(r, is.user),
		"active_lock_reason":       nil,
		"body":                     strOrNil(is.body),
		"reactions":                reactionRollup(api, is.reactions),
		"performed_via_github_app": nil,
	}
	if is.user != nil && is.user.kind == "Bot" {
		o["performed_via_github_app"] = s.appJSON()
	}
	if p := is.pull; p != nil {
		papi := fmt.Sprintf("%s/repos/%s/pulls/%d", s.url, r.fullName(), is.number)
		phtml := fmt.Sprintf("%s/%s/pull/%d", s.url, r.fullName(), is.number)
		o["html_url"] = phtml
		o["draft"] = p.draft
		o["pull_request"] = obj{
			"url":       papi,
			"html_url":  phtml,
			"diff_url":  phtml + ".diff",
			"patch_url": phtml + ".patch",
			"merged_at": tsOrNil(p.mergedAt),
		}
	}
	return o
}

func (s *Server) commentJSON(r *repo, cm *comment) obj {
	api := fmt.Sprintf("%s/repos/%s/issues/comments/%d", s.url, r.fullName(), cm.id)
	page := "issues"
	if cm.issue.pull != nil {
		page = "pull"
	}
	o := obj{
		"url":                      api,
		"html_url":                 fmt.Sprintf("%s/%s/%s/%d#issuecomment-%d", s.url, r.fullName(), page, cm.issue.number, cm.id),
		"issue_url":                fmt.Sprintf("%s/repos/%s/issues/%d", s.url, r.fullName(), cm.issue.number),
		"id":                       cm.id,
		"node_id":                  nodeID("IC", cm.id),
		"user":                     s.userJSON(cm.user),
		"created_at":               ts(cm.created),
		"updated_at":               ts(cm.updated),
		"author_association":       s.authorAssociation(r, cm.user),
		"body":                     cm.body,
		"reactions":                reactionRollup(api, cm.reactions),
		"performed_via_github_app": nil,
	}
	if cm.user.kind == "Bot" {
		o["performed_via_github_app"] = s.appJSON()
	}
	return o
}

func (s *Server) statusJSON(r *repo, st *status) obj {
	return obj{
		"url":         fmt.Sprintf("%s/repos/%s/statuses/%s", s.url, r.fullName(), st.sha),
		"avatar_url":  fmt.Sprintf("%s/avatars/u/%d?v=4", s.url, st.creator.id),
		"id":          st.id,
		"node_id":     nodeID("SC", st.id),
		"state":       st.state,
		"description": strOrNil(st.description),
		"target_url":  strOrNil(st.targetURL),
		"context":     st.context,
		"created_at":  ts(st.created),
		"updated_at":  ts(st.updated),
		"creator":     s.userJSON(st.creator),
	}
}
