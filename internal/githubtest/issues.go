package githubtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// openIssueLocked creates an issue and sends issues opened, then labeled
// for each label. Callers hold s.mu.
func (s *Server) openIssueLocked(ctx context.Context, r *repo, u *user, title, body string, labels []string) *issue {
	now := s.now()
	is := &issue{
		id: s.newID(), number: int64(len(r.issues) + 1), title: title, body: body,
		user: u, state: "open", created: now, updated: now,
	}
	r.issues = append(r.issues, is)
	r.updated = now
	s.emitIssueEvent(ctx, r, is, "opened", u, nil)
	s.addLabelsLocked(ctx, r, is, u, labels)
	return is
}

// labelLocked finds or creates a repository label. Callers hold s.mu.
func (s *Server) labelLocked(r *repo, name string) *label {
	key := strings.ToLower(name)
	if l, found := r.labels[key]; found {
		return l
	}
	l := &label{id: s.newID(), name: name, color: "ededed"}
	r.labels[key] = l
	r.labelOrder = append(r.labelOrder, key)
	return l
}

func hasLabel(is *issue, l *label) bool { return slices.Contains(is.labels, l) }

// addLabelsLocked adds labels and sends labeled for each new one.
func (s *Server) addLabelsLocked(ctx context.Context, r *repo, is *issue, u *user, names []string) {
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			continue
		}
		l := s.labelLocked(r, n)
		if hasLabel(is, l) {
			continue
		}
		is.labels = append(is.labels, l)
		is.updated = s.now()
		s.emitIssueEvent(ctx, r, is, "labeled", u, obj{"label": s.labelJSON(r, l)})
	}
}

// removeLabelLocked removes a label and sends unlabeled; false when the
// issue did not have it.
func (s *Server) removeLabelLocked(ctx context.Context, r *repo, is *issue, u *user, name string) bool {
	for i, l := range is.labels {
		if strings.EqualFold(l.name, name) {
			is.labels = slices.Delete(is.labels, i, i+1)
			is.updated = s.now()
			s.emitIssueEvent(ctx, r, is, "unlabeled", u, obj{"label": s.labelJSON(r, l)})
			return true
		}
	}
	return false
}

// editIssueLocked changes title and body and sends edited with the old
// values.
func (s *Server) editIssueLocked(ctx context.Context, r *repo, is *issue, u *user, title, body *string) {
	changes := obj{}
	if title != nil && *title != is.title {
		changes["title"] = obj{"from": is.title}
		is.title = *title
	}
	if body != nil && *body != is.body {
		changes["body"] = obj{"from": is.body}
		is.body = *body
	}
	if len(changes) == 0 {
		return
	}
	is.updated = s.now()
	s.emitIssueEvent(ctx, r, is, "edited", u, obj{"changes": changes})
}

// setIssueStateLocked closes or reopens an issue and sends closed or
// reopened.
func (s *Server) setIssueStateLocked(ctx context.Context, r *repo, is *issue, u *user, state, reason string) {
	if state == is.state {
		if reason != "" && state == "closed" {
			is.stateReason = reason
		}
		return
	}
	now := s.now()
	is.state = state
	is.updated = now
	action := "reopened"
	if state == "closed" {
		is.closed = now
		is.stateReason = reason
		if reason == "" && is.pull == nil {
			is.stateReason = "completed"
		}
		action = "closed"
	} else {
		is.closed = time.Time{}
		is.stateReason = "reopened"
		if is.pull != nil {
			is.stateReason = ""
		}
	}
	s.emitIssueEvent(ctx, r, is, action, u, nil)
}

// addCommentLocked posts a comment and sends issue_comment created.
func (s *Server) addCommentLocked(ctx context.Context, r *repo, is *issue, u *user, body string) *comment {
	now := s.now()
	cm := &comment{id: s.newID(), issue: is, user: u, body: body, created: now, updated: now}
	r.comments[cm.id] = cm
	r.commentOrder = append(r.commentOrder, cm.id)
	is.comments++
	is.updated = now
	s.emit(r, "issue_comment", "created", u, obj{"issue": s.issueJSON(r, is), "comment": s.commentJSON(r, cm)})
	return cm
}

// editCommentLocked changes a comment and sends issue_comment edited.
func (s *Server) editCommentLocked(r *repo, cm *comment, u *user, body string) {
	if body == cm.body {
		return
	}
	old := cm.body
	cm.body = body
	cm.updated = s.now()
	s.emit(r, "issue_comment", "edited", u, obj{
		"issue": s.issueJSON(r, cm.issue), "comment": s.commentJSON(r, cm),
		"changes": obj{"body": obj{"from": old}},
	})
}

func (c *call) issue() (*issue, error) {
	n, err := c.intParam("issue_number")
	if err != nil {
		return nil, err
	}
	is := c.repo.issue(n)
	if is == nil {
		return nil, errNotFound()
	}
	return is, nil
}

func (c *call) comment() (*comment, error) {
	id, err := c.intParam("comment_id")
	if err != nil {
		return nil, err
	}
	cm, found := c.repo.comments[id]
	if !found {
		return nil, errNotFound()
	}
	return cm, nil
}

func (s *Server) listIssues(c *call) (*response, error) {
	state := c.query.Get("state")
	if state == "" {
		state = "open"
	}
	if !slices.Contains([]string{"open", "closed", "all"}, state) {
		return nil, errValidation("Issue", "state", "invalid", "")
	}
	var want []string
	for _, l := range strings.Split(c.query.Get("labels"), ",") {
		if l = strings.TrimSpace(l); l != "" {
			want = append(want, strings.ToLower(l))
		}
	}
	creator := c.query.Get("creator")
	var since time.Time
	if v := c.query.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, errValidation("Issue", "since", "invalid", "")
		}
		since = t
	}
	var list []*issue
	for _, is := range c.repo.issues {
		if state != "all" && is.state != state {
			continue
		}
		if creator != "" && !strings.EqualFold(is.user.login, creator) {
			continue
		}
		if !since.IsZero() && is.updated.Before(since) {
			continue
		}
		if !hasAllLabels(is, want) {
			continue
		}
		list = append(list, is)
	}
	sortIssues(list, c.query.Get("sort"), c.query.Get("direction"))
	out := []any{}
	for _, is := range paginate(c, list) {
		out = append(out, s.issueJSON(c.repo, is))
	}
	return ok(out)
}

func hasAllLabels(is *issue, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(is.labels, func(l *label) bool { return strings.ToLower(l.name) == w }) {
			return false
		}
	}
	return true
}

func sortIssues(list []*issue, by, direction string) {
	key := func(is *issue) int64 {
		switch by {
		case "updated":
			return is.updated.UnixNano()*1000 + is.number
		case "comments":
			return int64(is.comments)*1_000_000 + is.number
		}
		return is.number
	}
	slices.SortStableFunc(list, func(a, b *issue) int {
		d := key(a) - key(b)
		if direction != "asc" {
			d = -d
		}
		switch {
		case d < 0:
			return -1
		case d > 0:
			return 1
		}
		return 0
	})
}

// stringOrNumber accepts GitHub's title, which may be a string or a number.
type stringOrNumber string

func (t *stringOrNumber) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = stringOrNumber(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("decode title: %w", err)
	}
	*t = stringOrNumber(n.String())
	return nil
}

// labelNames decodes labels given as names or as {"name": ...} objects.
type labelNames []string

func (l *labelNames) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("decode labels: %w", err)
	}
	out := labelNames{}
	for _, item := range raw {
		var name string
		if err := json.Unmarshal(item, &name); err == nil {
			out = append(out, name)
			continue
		}
		var o struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(item, &o); err != nil {
			return fmt.Errorf("decode label: %w", err)
		}
		out = append(out, o.Name)
	}
	*l = out
	return nil
}

func (s *Server) createIssue(c *call) (*response, error) {
	var req struct {
		Title  *stringOrNumber `json:"title"`
		Body   *string         `json:"body"`
		Labels labelNames      `json:"labels"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Title == nil || *req.Title == "" {
		return nil, errValidation("Issue", "title", "missing_field", "")
	}
	body := ""
	if req.Body != nil {
		body = *req.Body
	}
	title := string(*req.Title)
	if err := checkIssueText(&title, &body); err != nil {
		return nil, err
	}
	is := s.openIssueLocked(c.ctx, c.repo, c.actor, title, body, req.Labels)
	return created(s.issueJSON(c.repo, is))
}

func (s *Server) getIssue(c *call) (*response, error) {
	is, err := c.issue()
	if err != nil {
		return nil, err
	}
	return ok(s.issueJSON(c.repo, is))
}

func (s *Server) updateIssue(c *call) (*response, error) {
	is, err := c.issue()
	if err != nil {
		return nil, err
	}
	var req struct {
		Title       *stringOrNumber `json:"title"`
		Body        *string         `json:"body"`
		State       string          `json:"state"`
		StateReason *string         `json:"state_reason"`
		Labels      *labelNames     `json:"labels"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.State != "" && req.State != "open" && req.State != "closed" {
		return nil, errValidation("Issue", "state", "invalid", "")
	}
	var title *string
	if req.Title != nil {
		t := string(*req.Title)
		title = &t
	}
	body := req.Body
	if body == nil && strings.Contains(string(c.body), `"body":null`) {
		empty := ""
		body = &empty
	}
	if err := checkIssueText(title, body); err != nil {
		return nil, err
	}
	s.editIssueLocked(c.ctx, c.repo, is, c.actor, title, body)
	if req.Labels != nil {
		s.replaceLabelsLocked(c.ctx, c.repo, is, c.actor, *req.Labels)
	}
	if req.State != "" {
		reason := ""
		if req.StateReason != nil {
			reason = *req.StateReason
		}
		s.setIssueStateLocked(c.ctx, c.repo, is, c.actor, req.State, reason)
	}
	return ok(s.issueJSON(c.repo, is))
}

// replaceLabelsLocked sets exactly the given labels.
func (s *Server) replaceLabelsLocked(ctx context.Context, r *repo, is *issue, u *user, names []string) {
	keep := map[string]bool{}
	for _, n := range names {
		keep[strings.ToLower(n)] = true
	}
	for _, l := range slices.Clone(is.labels) {
		if !keep[strings.ToLower(l.name)] {
			s.removeLabelLocked(ctx, r, is, u, l.name)
		}
	}
	s.addLabelsLocked(ctx, r, is, u, names)
}

func (s *Server) listComments(c *call) (*response, error) {
	is, err := c.issue()
	if err != nil {
		return nil, err
	}
	var since time.Time
	if v := c.query.Get("since"); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			since = t
		}
	}
	var list []*comment
	for _, id := range c.repo.commentOrder {
		cm, found := c.repo.comments[id]
		if found && cm.issue == is && !cm.updated.Before(since) {
			list = append(list, cm)
		}
	}
	out := []any{}
	for _, cm := range paginate(c, list) {
		out = append(out, s.commentJSON(c.repo, cm))
	}
	return ok(out)
}

func (s *Server) createComment(c *call) (*response, error) {
	is, err := c.issue()
	if err != nil {
		return nil, err
	}
	var req struct {
		Body *string `json:"body"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Body == nil || *req.Body == "" {
		return nil, errValidation("IssueComment", "body", "missing_field", "")
	}
	if err := checkLength("IssueComment", "body", *req.Body, maxBody); err != nil {
		return nil, err
	}
	cm := s.addCommentLocked(c.ctx, c.repo, is, c.actor, *req.Body)
	return created(s.commentJSON(c.repo, cm))
}

func (s *Server) getComment(c *call) (*response, error) {
	cm, err := c.comment()
	if err != nil {
		return nil, err
	}
	return ok(s.commentJSON(c.repo, cm))
}

func (s *Server) updateComment(c *call) (*response, error) {
	cm, err := c.comment()
	if err != nil {
		return nil, err
	}
	var req struct {
		Body *string `json:"body"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Body == nil || *req.Body == "" {
		return nil, errValidation("IssueComment", "body", "missing_field", "")
	}
	if err := checkLength("IssueComment", "body", *req.Body, maxBody); err != nil {
		return nil, err
	}
	s.editCommentLocked(c.repo, cm, c.actor, *req.Body)
	return ok(s.commentJSON(c.repo, cm))
}

func (s *Server) deleteComment(c *call) (*response, error) {
	cm, err := c.comment()
	if err != nil {
		return nil, err
	}
	delete(c.repo.comments, cm.id)
	cm.issue.comments--
	s.emit(c.repo, "issue_comment", "deleted", c.actor, obj{"issue": s.issueJSON(c.repo, cm.issue), "comment": s.commentJSON(c.repo, cm)})
	return noContent()
}

func (s *Server) listIssueLabels(c *call) (*response, error) {
	is, err := c.issue()
	if err != nil {
		return nil, err
	}
	return ok(s.labelsJSON(c.repo, paginate(c, is.labels)))
}

// decodeLabels reads the three body shapes of the labels endpoints.
func (c *call) decodeLabels() ([]string, error) {
	var wrapped struct {
		Labels labelNames `json:"labels"`
	}
	if err := json.Unmarshal(c.body, &wrapped); err == nil {
		return wrapped.Labels, nil
	}
	var bare labelNames
	if err := json.Unmarshal(c.body, &bare); err == nil {
		return bare, nil
	}
	return nil, errValidation("Label", "labels", "invalid", "labels must be a list of names")
}

func (s *Server) addIssueLabels(c *call) (*response, error) {
	is, err := c.issue()
	if err != nil {
		return nil, err
	}
	names, err := c.decodeLabels()
	if err != nil {
		return nil, err
	}
	s.addLabelsLocked(c.ctx, c.repo, is, c.actor, names)
	return ok(s.labelsJSON(c.repo, is.labels))
}

func (s *Server) setIssueLabels(c *call) (*response, error) {
	is, err := c.issue()
	if err != nil {
		return nil, err
	}
	names, err := c.decodeLabels()
	if err != nil {
		return nil, err
	}
	s.replaceLabelsLocked(c.ctx, c.repo, is, c.actor, names)
	return ok(s.labelsJSON(c.repo, is.labels))
}

func (s *Server) removeIssueLabel(c *call) (*response, error) {
	is, err := c.issue()
	if err != nil {
		return nil, err
	}
	if !s.removeLabelLocked(c.ctx, c.repo, is, c.actor, c.params["name"]) {
		return nil, errStatus(http.StatusNotFound, "Label does not exist")
	}
	return ok(s.labelsJSON(c.repo, is.labels))
}

// react adds a reaction unless the user already gave the same one.
func (s *Server) react(list *[]*reaction, u *user, content string) (*reaction, bool) {
	for _, rc := range *list {
		if rc.user == u && rc.content == content {
			return rc, false
		}
	}
	rc := &reaction{id: s.newID(), user: u, content: content, created: s.now()}
	*list = append(*list, rc)
	return rc, true
}

func (c *call) reactionContent() (string, error) {
	var req struct {
		Content string `json:"content"`
	}
	if err := c.decode(&req); err != nil {
		return "", err
	}
	if !slices.Contains(reactionContents, req.Content) {
		return "", errValidation("Reaction", "content", "invalid", "")
	}
	return req.Content, nil
}

func (s *Server) reactionResponse(c *call, list *[]*reaction) (*response, error) {
	content, err := c.reactionContent()
	if err != nil {
		return nil, err
	}
	rc, isNew := s.react(list, c.actor, content)
	if isNew {
		return created(s.reactionJSON(rc))
	}
	return ok(s.reactionJSON(rc))
}

func (s *Server) reactionList(c *call, list []*reaction) (*response, error) {
	want := c.query.Get("content")
	var sel []*reaction
	for _, rc := range list {
		if want == "" || rc.content == want {
			sel = append(sel, rc)
		}
	}
	out := []any{}
	for _, rc := range paginate(c, sel) {
		out = append(out, s.reactionJSON(rc))
	}
	return ok(out)
}

func (s *Server) createIssueReaction(c *call) (*response, error) {
	is, err := c.issue()
	if err != nil {
		return nil, err
	}
	return s.reactionResponse(c, &is.reactions)
}

func (s *Server) listIssueReactions(c *call) (*response, error) {
	is, err := c.issue()
	if err != nil {
		return nil, err
	}
	return s.reactionList(c, is.reactions)
}

func (s *Server) createCommentReaction(c *call) (*response, error) {
	cm, err := c.comment()
	if err != nil {
		return nil, err
	}
	return s.reactionResponse(c, &cm.reactions)
}

func (s *Server) listCommentReactions(c *call) (*response, error) {
	cm, err := c.comment()
	if err != nil {
		return nil, err
	}
	return s.reactionList(c, cm.reactions)
}
