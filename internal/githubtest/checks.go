package githubtest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// suiteFor finds the check suite of App app (nil for the served App) for a
// commit: on GitHub every App has its own suite per commit.
func (r *repo) suiteFor(sha string, app *App) *checkSuite {
	for _, cs := range r.checkSuites {
		if cs.headSHA == sha && sameApp(cs.app, app) {
			return cs
		}
	}
	return nil
}

// requestCheckSuite creates the check suite of a newly pushed head commit
// and sends check_suite requested. Callers hold s.mu.
func (s *Server) requestCheckSuite(ctx context.Context, r *repo, branch, before, after string, sender *user) {
	if r.suiteFor(after, nil) != nil {
		return
	}
	now := s.now()
	cs := &checkSuite{id: s.newID(), headSHA: after, headBranch: branch, before: before, after: after, status: "queued", created: now, updated: now}
	r.checkSuites = append(r.checkSuites, cs)
	s.emit(r, "check_suite", "requested", sender, obj{"check_suite": s.suiteJSON(ctx, r, cs, false)})
}

// checkPulls lists open pull requests whose head is a commit, as check
// objects show them.
func (s *Server) checkPulls(r *repo, sha string) []any {
	out := []any{}
	for _, is := range r.issues {
		if is.pull == nil || is.state != "open" || is.pull.headSHA != sha || is.pull.fromFork() {
			continue
		}
		p := is.pull
		out = append(out, obj{
			"url":    fmt.Sprintf("%s/pulls/%d", s.apiRepo(r), is.number),
			"id":     p.id,
			"number": is.number,
			"head":   obj{"ref": p.head, "sha": p.headSHA, "repo": s.repoRef(r)},
			"base":   obj{"ref": p.base, "sha": p.baseSHA, "repo": s.repoRef(r)},
		})
	}
	return out
}

// suiteJSON renders a check suite; rest adds the fields only the REST API
// has.
func (s *Server) suiteJSON(ctx context.Context, r *repo, cs *checkSuite, rest bool) obj {
	api := fmt.Sprintf("%s/check-suites/%d", s.apiRepo(r), cs.id)
	runs := 0
	for _, cr := range r.checkRuns {
		if cr.suite == cs {
			runs++
		}
	}
	o := obj{
		"id":                      cs.id,
		"node_id":                 nodeID("CS", cs.id),
		"head_branch":             strOrNil(cs.headBranch),
		"head_sha":                cs.headSHA,
		"status":                  cs.status,
		"conclusion":              strOrNil(cs.conclusion),
		"url":                     api,
		"before":                  strOrNil(cs.before),
		"after":                   strOrNil(cs.after),
		"pull_requests":           s.checkPulls(r, cs.headSHA),
		"app":                     s.appJSONOf(cs.app),
		"created_at":              ts(cs.created),
		"updated_at":              ts(cs.updated),
		"latest_check_runs_count": runs,
		"check_runs_url":          api + "/check-runs",
	}
	if ci, err := r.git.readCommit(ctx, cs.headSHA); err == nil {
		o["head_commit"] = obj{
			"id":        ci.sha,
			"tree_id":   ci.tree,
			"message":   ci.message,
			"timestamp": ts(ci.committer.When),
			"author":    obj{"name": ci.author.Name, "email": ci.author.Email},
			"committer": obj{"name": ci.committer.Name, "email": ci.committer.Email},
		}
	}
	if rest {
		o["repository"] = s.repoJSON(r, repoHook)
		o["rerequestable"] = true
		o["runs_rerequestable"] = true
	}
	return o
}

// suiteInRunJSON is the short suite object inside a check run webhook.
func (s *Server) suiteInRunJSON(r *repo, cs *checkSuite) obj {
	return obj{
		"id":            cs.id,
		"node_id":       nodeID("CS", cs.id),
		"head_branch":   strOrNil(cs.headBranch),
		"head_sha":      cs.headSHA,
		"status":        cs.status,
		"conclusion":    strOrNil(cs.conclusion),
		"url":           fmt.Sprintf("%s/check-suites/%d", s.apiRepo(r), cs.id),
		"before":        strOrNil(cs.before),
		"after":         strOrNil(cs.after),
		"pull_requests": s.checkPulls(r, cs.headSHA),
		"app":           s.appJSONOf(cs.app),
		"created_at":    ts(cs.created),
		"updated_at":    ts(cs.updated),
	}
}

// runJSON renders a check run for REST (hook false) or webhooks (hook true).
func (s *Server) runJSON(r *repo, cr *checkRun, hook bool) obj {
	api := fmt.Sprintf("%s/check-runs/%d", s.apiRepo(r), cr.id)
	o := obj{
		"id":           cr.id,
		"node_id":      nodeID("CR", cr.id),
		"head_sha":     cr.headSHA,
		"external_id":  cr.externalID,
		"url":          api,
		"html_url":     fmt.Sprintf("%s/runs/%d", s.htmlRepo(r), cr.id),
		"status":       cr.status,
		"conclusion":   strOrNil(cr.conclusion),
		"started_at":   ts(cr.started),
		"completed_at": tsOrNil(cr.completed),
		"output": obj{
			"title":             strOrNil(cr.title),
			"summary":           strOrNil(cr.summary),
			"text":              strOrNil(cr.text),
			"annotations_count": len(cr.annotations),
			"annotations_url":   api + "/annotations",
		},
		"name":          cr.name,
		"app":           s.appJSONOf(cr.app),
		"pull_requests": s.checkPulls(r, cr.headSHA),
	}
	if hook {
		o["check_suite"] = s.suiteInRunJSON(r, cr.suite)
		if cr.detailsURL != "" {
			o["details_url"] = cr.detailsURL
		}
	} else {
		o["check_suite"] = obj{"id": cr.suite.id}
		o["details_url"] = strOrNil(cr.detailsURL)
	}
	return o
}

// checkRunRequest is the body of create and update check run.
type checkRunRequest struct {
	Name        *string `json:"name"`
	HeadSHA     string  `json:"head_sha"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Status      string  `json:"status"`
	StartedAt   string  `json:"started_at"`
	Conclusion  string  `json:"conclusion"`
	CompletedAt string  `json:"completed_at"`
	Output      *struct {
		Title       *string      `json:"title"`
		Summary     *string      `json:"summary"`
		Text        *string      `json:"text"`
		Annotations []annotation `json:"annotations"`
	} `json:"output"`
}

var (
	checkStatuses    = []string{"queued", "in_progress", "completed", "waiting", "requested", "pending"}
	checkConclusions = []string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}
	annotationLevels = []string{"notice", "warning", "failure"}
)

// apply copies a request onto a run, validating it like GitHub.
func (req *checkRunRequest) apply(cr *checkRun, now time.Time) error {
	if req.Name != nil {
		if *req.Name == "" {
			return errValidation("CheckRun", "name", "missing_field", "")
		}
		cr.name = *req.Name
	}
	if req.DetailsURL != nil {
		cr.detailsURL = *req.DetailsURL
	}
	if req.ExternalID != nil {
		cr.externalID = *req.ExternalID
	}
	if req.Status != "" {
		if !slices.Contains(checkStatuses, req.Status) {
			return errValidation("CheckRun", "status", "invalid", "")
		}
		// A completed run stays completed: GitHub does not take it back
		// to queued or in progress (a new run is needed for that).
		if cr.status == "completed" && req.Status != "completed" {
			return errValidation("CheckRun", "status", "invalid", "a completed check run cannot go back to "+req.Status)
		}
		cr.status = req.Status
	}
	if t, err := parseOptionalTime(req.StartedAt); err != nil {
		return errValidation("CheckRun", "started_at", "invalid", "")
	} else if !t.IsZero() {
		cr.started = t
	}
	if req.Conclusion != "" {
		if !slices.Contains(checkConclusions, req.Conclusion) {
			return errValidation("CheckRun", "conclusion", "invalid", "")
		}
		cr.conclusion = req.Conclusion
		cr.status = "completed"
	}
	if cr.status == "completed" && cr.conclusion == "" {
		return errValidation("CheckRun", "conclusion", "missing_field", "conclusion is required when status is completed")
	}
	if req.CompletedAt != "" && req.Conclusion == "" && cr.conclusion == "" {
		return errValidation("CheckRun", "conclusion", "missing_field", "conclusion is required with completed_at")
	}
	if t, err := parseOptionalTime(req.CompletedAt); err != nil {
		return errValidation("CheckRun", "completed_at", "invalid", "")
	} else if !t.IsZero() {
		cr.completed = t
	}
	if cr.status == "completed" && cr.completed.IsZero() {
		cr.completed = now
	}
	if o := req.Output; o != nil {
		if o.Summary == nil || *o.Summary == "" {
			return errValidation("CheckRun", "output.summary", "missing_field", "")
		}
		if len(o.Annotations) > maxAnnotations {
			return errTooManyItems(maxAnnotations, len(o.Annotations))
		}
		if err := checkOutputText("summary", *o.Summary); err != nil {
			return err
		}
		if o.Text != nil {
			if err := checkOutputText("text", *o.Text); err != nil {
				return err
			}
		}
		for i, a := range o.Annotations {
			if a.Path == "" || a.StartLine < 1 || a.EndLine < a.StartLine || a.Message == "" || !slices.Contains(annotationLevels, a.Level) {
				return errValidation("CheckRun", fmt.Sprintf("output.annotations[%d]", i), "invalid", "path, start_line, end_line, annotation_level and message are required")
			}
			if (a.StartColumn != nil || a.EndColumn != nil) && a.StartLine != a.EndLine {
				return errValidation("CheckRun", fmt.Sprintf("output.annotations[%d]", i), "invalid", "start_column and end_column need start_line equal to end_line")
			}
		}
		if o.Title != nil {
			cr.title = *o.Title
		}
		cr.summary = *o.Summary
		if o.Text != nil {
			cr.text = *o.Text
		}
		cr.annotations = append(cr.annotations, o.Annotations...)
	}
	return nil
}

func parseOptionalTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time: %w", err)
	}
	return t, nil
}

func (s *Server) createCheckRun(c *call) (*response, error) {
	var req checkRunRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Name == nil {
		return nil, errValidation("CheckRun", "name", "missing_field", "")
	}
	if c.repo.git.objectType(c.ctx, req.HeadSHA) != "commit" {
		return nil, errValidation("CheckRun", "head_sha", "invalid", "No commit found for SHA: "+req.HeadSHA)
	}
	now := s.now()
	cs := c.repo.suiteFor(req.HeadSHA, nil)
	if cs == nil {
		cs = &checkSuite{id: s.newID(), headSHA: req.HeadSHA, status: "queued", created: now, updated: now}
		c.repo.checkSuites = append(c.repo.checkSuites, cs)
	}
	cr := &checkRun{id: s.newID(), suite: cs, headSHA: req.HeadSHA, status: "queued", started: now}
	if err := req.apply(cr, now); err != nil {
		return nil, err
	}
	c.repo.checkRuns = append(c.repo.checkRuns, cr)
	s.refreshSuite(c.ctx, c.repo, cs, c.actor)
	s.emit(c.repo, "check_run", "created", c.actor, obj{"check_run": s.runJSON(c.repo, cr, true)})
	if cr.status == "completed" {
		s.emit(c.repo, "check_run", "completed", c.actor, obj{"check_run": s.runJSON(c.repo, cr, true)})
	}
	return created(s.runJSON(c.repo, cr, false))
}

func (c *call) checkRun() (*checkRun, error) {
	id, err := c.intParam("check_run_id")
	if err != nil {
		return nil, err
	}
	for _, cr := range c.repo.checkRuns {
		if cr.id == id {
			return cr, nil
		}
	}
	return nil, errNotFound()
}

func (s *Server) updateCheckRun(c *call) (*response, error) {
	cr, err := c.checkRun()
	if err != nil {
		return nil, err
	}
	if cr.app != nil {
		return nil, errStatus(http.StatusForbidden, "Invalid app_id `%d` - check run can only be modified by the GitHub App that created it.", s.opts.AppID)
	}
	var req checkRunRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	before := *cr
	before.annotations = slices.Clone(cr.annotations)
	wasDone := cr.status == "completed"
	if err := req.apply(cr, s.now()); err != nil {
		*cr = before
		return nil, err
	}
	s.refreshSuite(c.ctx, c.repo, cr.suite, c.actor)
	if !wasDone && cr.status == "completed" {
		s.emit(c.repo, "check_run", "completed", c.actor, obj{"check_run": s.runJSON(c.repo, cr, true)})
	}
	return ok(s.runJSON(c.repo, cr, false))
}

// refreshSuite derives a suite's status from its runs and sends
// check_suite completed when the last run completes.
func (s *Server) refreshSuite(ctx context.Context, r *repo, cs *checkSuite, sender *user) {
	var runs []*checkRun
	for _, cr := range r.checkRuns {
		if cr.suite == cs {
			runs = append(runs, cr)
		}
	}
	if len(runs) == 0 {
		return
	}
	status, conclusion := "completed", "success"
	rank := map[string]int{"action_required": 7, "cancelled": 6, "timed_out": 5, "failure": 4, "stale": 3, "neutral": 2, "skipped": 1, "success": 0}
	for _, cr := range runs {
		switch cr.status {
		case "completed":
			if rank[cr.conclusion] > rank[conclusion] {
				conclusion = cr.conclusion
			}
		case "in_progress":
			status = "in_progress"
		default:
			if status != "in_progress" {
				status = "queued"
			}
		}
	}
	if conclusion == "skipped" {
		conclusion = "success"
	}
	if status != "completed" {
		conclusion = ""
	}
	changed := cs.status != status || cs.conclusion != conclusion
	cs.status, cs.conclusion = status, conclusion
	if changed {
		cs.updated = s.now()
		if status == "completed" {
			s.emit(r, "check_suite", "completed", sender, obj{"check_suite": s.suiteJSON(ctx, r, cs, false)})
		}
	}
}

func (s *Server) getCheckRun(c *call) (*response, error) {
	cr, err := c.checkRun()
	if err != nil {
		return nil, err
	}
	return ok(s.runJSON(c.repo, cr, false))
}

func (s *Server) listAnnotations(c *call) (*response, error) {
	cr, err := c.checkRun()
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, a := range paginate(c, cr.annotations) {
		out = append(out, obj{
			"path":             a.Path,
			"blob_href":        fmt.Sprintf("%s/blob/%s/%s", s.htmlRepo(c.repo), cr.headSHA, escapePath(a.Path)),
			"start_line":       a.StartLine,
			"end_line":         a.EndLine,
			"start_column":     intOrNil(a.StartColumn),
			"end_column":       intOrNil(a.EndColumn),
			"annotation_level": a.Level,
			"title":            strOrNil(a.Title),
			"message":          a.Message,
			"raw_details":      strOrNil(a.RawDetails),
		})
	}
	return ok(out)
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// rerequestRunLocked sends check_run rerequested.
func (s *Server) rerequestRunLocked(r *repo, cr *checkRun, u *user) {
	s.emit(r, "check_run", "rerequested", u, obj{"check_run": s.runJSON(r, cr, true)})
}

// rerequestSuiteLocked counts a rerequest and sends check_suite
// rerequested; the suite's status follows the runs the App creates next.
func (s *Server) rerequestSuiteLocked(ctx context.Context, r *repo, cs *checkSuite, u *user) {
	cs.rerequests++
	cs.updated = s.now()
	s.emit(r, "check_suite", "rerequested", u, obj{"check_suite": s.suiteJSON(ctx, r, cs, false)})
}

func (s *Server) rerequestCheckRun(c *call) (*response, error) {
	cr, err := c.checkRun()
	if err != nil {
		return nil, err
	}
	if cr.status != "completed" {
		return nil, errStatus(http.StatusUnprocessableEntity, "This check run is not rerequestable or is still in progress")
	}
	s.rerequestRunLocked(c.repo, cr, c.actor)
	return created(obj{})
}

func (c *call) checkSuite() (*checkSuite, error) {
	id, err := c.intParam("check_suite_id")
	if err != nil {
		return nil, err
	}
	for _, cs := range c.repo.checkSuites {
		if cs.id == id {
			return cs, nil
		}
	}
	return nil, errNotFound()
}

func (s *Server) getCheckSuite(c *call) (*response, error) {
	cs, err := c.checkSuite()
	if err != nil {
		return nil, err
	}
	return ok(s.suiteJSON(c.ctx, c.repo, cs, true))
}

func (s *Server) rerequestCheckSuite(c *call) (*response, error) {
	cs, err := c.checkSuite()
	if err != nil {
		return nil, err
	}
	s.rerequestSuiteLocked(c.ctx, c.repo, cs, c.actor)
	return created(obj{})
}

// refCommit resolves the {ref} of the commits endpoints: a sha, branch or
// tag.
func (c *call) refCommit() (string, error) {
	ref := c.params["ref"]
	g := c.repo.git
	for _, cand := range []string{"refs/heads/" + ref, "refs/tags/" + ref, ref} {
		if sha := g.resolveCommit(c.ctx, cand); sha != "" {
			return sha, nil
		}
	}
	return "", errStatus(http.StatusUnprocessableEntity, "No commit found for SHA: %s", ref)
}

func (s *Server) listCheckRunsForRef(c *call) (*response, error) {
	sha, err := c.refCommit()
	if err != nil {
		return nil, err
	}
	name, status, filter := c.query.Get("check_name"), c.query.Get("status"), c.query.Get("filter")
	appID, err := c.appIDQuery()
	if err != nil {
		return nil, err
	}
	var sel []*checkRun
	latest := map[string]bool{}
	for i := len(c.repo.checkRuns) - 1; i >= 0; i-- {
		cr := c.repo.checkRuns[i]
		if cr.headSHA != sha || (name != "" && cr.name != name) || (status != "" && cr.status != status) {
			continue
		}
		if appID != 0 && s.appIDOf(cr.app) != appID {
			continue
		}
		if filter != "all" {
			// The latest run of each name in each App's suite.
			key := fmt.Sprintf("%d/%s", s.appIDOf(cr.app), cr.name)
			if latest[key] {
				continue
			}
			latest[key] = true
		}
		sel = append(sel, cr)
	}
	out := []any{}
	for _, cr := range paginate(c, sel) {
		out = append(out, s.runJSON(c.repo, cr, false))
	}
	return ok(obj{"total_count": len(sel), "check_runs": out})
}

func (s *Server) listCheckSuitesForRef(c *call) (*response, error) {
	sha, err := c.refCommit()
	if err != nil {
		return nil, err
	}
	appID, err := c.appIDQuery()
	if err != nil {
		return nil, err
	}
	var sel []*checkSuite
	for _, cs := range c.repo.checkSuites {
		if cs.headSHA == sha && (appID == 0 || s.appIDOf(cs.app) == appID) {
			sel = append(sel, cs)
		}
	}
	out := []any{}
	for _, cs := range paginate(c, sel) {
		out = append(out, s.suiteJSON(c.ctx, c.repo, cs, true))
	}
	return ok(obj{"total_count": len(sel), "check_suites": out})
}

func (s *Server) createStatus(c *call) (*response, error) {
	sha := c.params["sha"]
	if c.repo.git.objectType(c.ctx, sha) != "commit" {
		return nil, errValidation("Status", "sha", "invalid", "No commit found for SHA: "+sha)
	}
	var req struct {
		State       string  `json:"state"`
		TargetURL   *string `json:"target_url"`
		Description *string `json:"description"`
		Context     string  `json:"context"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if !slices.Contains([]string{"error", "failure", "pending", "success"}, req.State) {
		return nil, errValidation("Status", "state", "invalid", "")
	}
	if req.Context == "" {
		req.Context = "default"
	}
	if req.Description != nil {
		if err := checkLength("Status", "description", *req.Description, maxStatusDescription); err != nil {
			return nil, err
		}
	}
	now := s.now()
	st := &status{id: s.newID(), sha: sha, state: req.State, context: req.Context, creator: c.actor, created: now, updated: now}
	if req.TargetURL != nil {
		st.targetURL = *req.TargetURL
	}
	if req.Description != nil {
		st.description = *req.Description
	}
	c.repo.statuses = append(c.repo.statuses, st)
	return created(s.statusJSON(c.repo, st))
}

// statusesFor lists a commit's statuses, newest first.
func statusesFor(r *repo, sha string) []*status {
	var out []*status
	for i := len(r.statuses) - 1; i >= 0; i-- {
		if r.statuses[i].sha == sha {
			out = append(out, r.statuses[i])
		}
	}
	return out
}

func (s *Server) listStatuses(c *call) (*response, error) {
	sha, err := c.refCommit()
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, st := range paginate(c, statusesFor(c.repo, sha)) {
		out = append(out, s.statusJSON(c.repo, st))
	}
	return ok(out)
}

func (s *Server) getCombinedStatus(c *call) (*response, error) {
	sha, err := c.refCommit()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var latest []*status
	for _, st := range statusesFor(c.repo, sha) {
		if !seen[st.context] {
			seen[st.context] = true
			latest = append(latest, st)
		}
	}
	state := "success"
	if len(latest) == 0 {
		state = "pending"
	}
	for _, st := range latest {
		switch st.state {
		case "error", "failure":
			state = "failure"
		case "pending":
			if state != "failure" {
				state = "pending"
			}
		}
	}
	out := []any{}
	for _, st := range paginate(c, latest) {
		j := s.statusJSON(c.repo, st)
		delete(j, "creator")
		out = append(out, j)
	}
	return ok(obj{
		"state":       state,
		"sha":         sha,
		"total_count": len(latest),
		"statuses":    out,
		"repository":  s.repoJSON(c.repo, repoHook),
		"commit_url":  s.apiRepo(c.repo) + "/commits/" + sha,
		"url":         s.apiRepo(c.repo) + "/commits/" + sha + "/status",
	})
}

// App is a GitHub App other than the one the Server plays, for tests in
// which another App's check runs share a commit with the served App's.
type App struct {
	// ID is the App's numeric id; it must differ from Options.AppID.
	ID int64
	// Slug names the App; Name defaults to it.
	Slug string
	Name string
	// Owner is the login of the account that owns the App. Default: the slug.
	Owner string
}

// sameApp tells whether a and b are the same App (nil is the served one).
func sameApp(a, b *App) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID
}

// appIDOf is the id of App a, the served App's when a is nil.
func (s *Server) appIDOf(a *App) int64 {
	if a == nil {
		return s.opts.AppID
	}
	return a.ID
}

// appIDQuery reads the app_id filter of the check listing endpoints; 0
// when absent.
func (c *call) appIDQuery() (int64, error) {
	v := c.query.Get("app_id")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errValidation("CheckRun", "app_id", "invalid", "")
	}
	return id, nil
}

// CheckRunSpec is a check run another App creates (CreateCheckRunAs).
type CheckRunSpec struct {
	Name    string
	HeadSHA string
	// Conclusion completes the run (success, failure, …); empty leaves it
	// queued.
	Conclusion string
	Title      string
	Summary    string
}

// CreateCheckRunAs plays another App creating a check run on a commit of
// a repository, in that App's own check suite, and returns its id. As on
// GitHub, the run names its App (app.id and app.slug), and the served App
// gets no webhook about it.
func (s *Server) CreateCheckRunAs(ctx context.Context, fullName string, app App, spec CheckRunSpec) (int64, error) {
	if app.ID <= 0 || app.ID == s.opts.AppID || app.Slug == "" {
		return 0, fmt.Errorf("create check run as App %d %q: want another App with an id and a slug", app.ID, app.Slug)
	}
	if app.Name == "" {
		app.Name = app.Slug
	}
	if app.Owner == "" {
		app.Owner = app.Slug
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return 0, fmt.Errorf("create check run as %s: %w", app.Slug, err)
	}
	if spec.Name == "" || r.git.objectType(ctx, spec.HeadSHA) != "commit" {
		return 0, fmt.Errorf("create check run as %s: want a name and a commit of %s", app.Slug, fullName)
	}
	now := s.now()
	a := &app
	cs := r.suiteFor(spec.HeadSHA, a)
	if cs == nil {
		cs = &checkSuite{id: s.newID(), app: a, headSHA: spec.HeadSHA, status: "queued", created: now, updated: now}
		r.checkSuites = append(r.checkSuites, cs)
	}
	cr := &checkRun{id: s.newID(), app: a, suite: cs, name: spec.Name, headSHA: spec.HeadSHA, status: "queued", started: now,
		title: spec.Title, summary: spec.Summary}
	if spec.Conclusion != "" {
		if !slices.Contains(checkConclusions, spec.Conclusion) {
			return 0, fmt.Errorf("create check run as %s: conclusion %q", app.Slug, spec.Conclusion)
		}
		cr.status, cr.conclusion, cr.completed = "completed", spec.Conclusion, now
		cs.status, cs.conclusion, cs.updated = "completed", spec.Conclusion, now
	}
	r.checkRuns = append(r.checkRuns, cr)
	return cr.id, nil
}
