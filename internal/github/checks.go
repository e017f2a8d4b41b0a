package github

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// maxAnnotationsPerCall is GitHub's limit on annotations per check run
// create or update.
const maxAnnotationsPerCall = MaxAnnotationsPerCall

// Annotation points a check run at lines of a file.
type Annotation struct {
	Path      string
	StartLine int
	EndLine   int    // defaults to StartLine
	Level     string // notice, warning or failure
	Title     string
	Message   string
}

// CheckRunSpec is the content of a check run.
type CheckRunSpec struct {
	// Name is required.
	Name string
	// HeadSHA is the commit; required when creating.
	HeadSHA string
	// Status is queued, in_progress or completed; set Conclusion to complete.
	Status string
	// Conclusion is success, failure, neutral, cancelled, skipped,
	// timed_out or action_required; it implies status completed.
	Conclusion string
	ExternalID string
	DetailsURL string
	// Title and Summary are the output; Summary is required when any output
	// (title, text or annotations) is given.
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}

// CheckRun is a check run as GitHub reports it.
type CheckRun struct {
	ID int64
	// AppID is the App that created the run; another App may post runs
	// of the same name on the same commit.
	AppID            int64
	Name             string
	HeadSHA          string
	Status           string
	Conclusion       string
	ExternalID       string
	DetailsURL       string
	HTMLURL          string
	Title            string
	Summary          string
	AnnotationsCount int
	CompletedAt      time.Time // zero until the run is completed
}

func toCheckRun(r *gh.CheckRun) CheckRun {
	return CheckRun{
		ID: r.GetID(), AppID: r.GetApp().GetID(), Name: r.GetName(), HeadSHA: r.GetHeadSHA(), Status: r.GetStatus(),
		Conclusion: r.GetConclusion(), ExternalID: r.GetExternalID(), DetailsURL: r.GetDetailsURL(),
		HTMLURL: r.GetHTMLURL(), Title: r.GetOutput().GetTitle(), Summary: r.GetOutput().GetSummary(),
		AnnotationsCount: r.GetOutput().GetAnnotationsCount(), CompletedAt: r.GetCompletedAt().Time,
	}
}

var (
	checkStatuses    = []string{"queued", "in_progress", "completed"}
	checkConclusions = []string{"success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"}
	annotationLevels = []string{"notice", "warning", "failure"}
)

func (s *CheckRunSpec) validate(creating bool) error {
	var errs []error
	if strings.TrimSpace(s.Name) == "" {
		errs = append(errs, errors.New("name: empty; a check run needs a name"))
	}
	if creating && !isSHA(s.HeadSHA) {
		errs = append(errs, fmt.Errorf("head sha %q: want a 40-character commit id", s.HeadSHA))
	}
	if s.Status != "" && !slices.Contains(checkStatuses, s.Status) {
		errs = append(errs, fmt.Errorf("status %q: want one of %s", s.Status, strings.Join(checkStatuses, ", ")))
	}
	if s.Conclusion != "" && !slices.Contains(checkConclusions, s.Conclusion) {
		errs = append(errs, fmt.Errorf("conclusion %q: want one of %s", s.Conclusion, strings.Join(checkConclusions, ", ")))
	}
	if s.Status == "completed" && s.Conclusion == "" {
		errs = append(errs, errors.New("conclusion: required when status is completed"))
	}
	if s.hasOutput() && strings.TrimSpace(s.Summary) == "" {
		errs = append(errs, errors.New("summary: required with a title, text or annotations"))
	}
	errs = append(errs, checkOutput("summary", s.Summary), checkOutput("text", s.Text))
	for i, a := range s.Annotations {
		if a.Path == "" || strings.HasPrefix(a.Path, "/") {
			errs = append(errs, fmt.Errorf("annotations[%d].path %q: want a path relative to the repository root", i, a.Path))
		}
		if a.StartLine < 1 || (a.EndLine != 0 && a.EndLine < a.StartLine) {
			errs = append(errs, fmt.Errorf("annotations[%d]: lines %d-%d; want start line ≥ 1 and end line ≥ start line", i, a.StartLine, a.EndLine))
		}
		if !slices.Contains(annotationLevels, a.Level) {
			errs = append(errs, fmt.Errorf("annotations[%d].level %q: want one of %s", i, a.Level, strings.Join(annotationLevels, ", ")))
		}
		if strings.TrimSpace(a.Message) == "" {
			errs = append(errs, fmt.Errorf("annotations[%d].message: empty", i))
		}
	}
	return errors.Join(errs...)
}

func (s *CheckRunSpec) hasOutput() bool {
	return s.Title != "" || s.Summary != "" || s.Text != "" || len(s.Annotations) > 0
}

// output is the check run output carrying one batch of annotations.
func (s *CheckRunSpec) output(batch []Annotation) *gh.CheckRunOutput {
	if !s.hasOutput() {
		return nil
	}
	title := s.Title
	if title == "" {
		title = s.Name
	}
	o := &gh.CheckRunOutput{Title: &title, Summary: gh.String(s.Summary)}
	if s.Text != "" {
		o.Text = gh.String(s.Text)
	}
	for _, a := range batch {
		end := a.EndLine
		if end == 0 {
			end = a.StartLine
		}
		o.Annotations = append(o.Annotations, &gh.CheckRunAnnotation{
			Path: gh.String(a.Path), StartLine: gh.Int(a.StartLine), EndLine: gh.Int(end),
			AnnotationLevel: gh.String(a.Level), Message: gh.String(a.Message), Title: optional(a.Title),
		})
	}
	return o
}

// batches splits annotations into GitHub's per-call limit; there is always
// at least one batch.
func batches(all []Annotation) [][]Annotation {
	out := [][]Annotation{nil}
	if len(all) > 0 {
		out = out[:0]
	}
	for len(all) > 0 {
		n := min(len(all), maxAnnotationsPerCall)
		out = append(out, all[:n])
		all = all[n:]
	}
	return out
}

// CreateCheckRun creates a check run. Annotations beyond 50 are sent by
// updates that append them, 50 per call; the status and conclusion are
// sent with the last batch, so a completed run is never seen half
// annotated.
func (c *Client) CreateCheckRun(ctx context.Context, owner, repo string, spec CheckRunSpec) (CheckRun, error) {
	if err := checkArgs(owner, repo, spec.validate(true)); err != nil {
		return CheckRun{}, err
	}
	parts := batches(spec.Annotations)
	opts := gh.CreateCheckRunOptions{
		Name: spec.Name, HeadSHA: spec.HeadSHA, ExternalID: optional(spec.ExternalID),
		DetailsURL: optional(spec.DetailsURL), Output: spec.output(parts[0]),
	}
	if len(parts) == 1 {
		opts.Status, opts.Conclusion = optional(spec.Status), optional(spec.Conclusion)
	} else {
		opts.Status = gh.String("in_progress")
	}
	run, _, err := c.gh.Checks.CreateCheckRun(ctx, owner, repo, opts)
	if err != nil {
		return CheckRun{}, fmt.Errorf("create check run %s on %s/%s@%s: %w", spec.Name, owner, repo, spec.HeadSHA, convertError(err))
	}
	out := toCheckRun(run)
	if len(parts) == 1 {
		return out, nil
	}
	rest := spec
	rest.Annotations = spec.Annotations[len(parts[0]):]
	return c.updateCheckRun(ctx, owner, repo, out.ID, rest, out.AnnotationsCount)
}

// UpdateCheckRun changes a check run; its Annotations are appended to those
// already there, 50 per call, and status and conclusion go with the last
// call. Name is required.
func (c *Client) UpdateCheckRun(ctx context.Context, owner, repo string, id int64, spec CheckRunSpec) (CheckRun, error) {
	if err := checkArgs(owner, repo, checkID("check run id", id), spec.validate(false)); err != nil {
		return CheckRun{}, err
	}
	before := -1
	if len(spec.Annotations) > 0 {
		run, _, err := c.gh.Checks.GetCheckRun(ctx, owner, repo, id)
		if err != nil {
			return CheckRun{}, fmt.Errorf("get check run %d of %s/%s: %w", id, owner, repo, convertError(err))
		}
		before = run.GetOutput().GetAnnotationsCount()
	}
	return c.updateCheckRun(ctx, owner, repo, id, spec, before)
}

// updateCheckRun sends spec in batches. have is the run's annotation count
// before the first batch; after an ambiguous failure of a batch, the count
// tells whether GitHub appended it, so no annotation is added twice.
func (c *Client) updateCheckRun(ctx context.Context, owner, repo string, id int64, spec CheckRunSpec, have int) (CheckRun, error) {
	parts := batches(spec.Annotations)
	var out CheckRun
	for i, part := range parts {
		opts := gh.UpdateCheckRunOptions{
			Name: spec.Name, ExternalID: optional(spec.ExternalID), DetailsURL: optional(spec.DetailsURL),
			Output: spec.output(part),
		}
		if i == len(parts)-1 {
			opts.Status, opts.Conclusion = optional(spec.Status), optional(spec.Conclusion)
		}
		want := have + len(part)
		var find func(context.Context) (bool, error)
		if len(part) > 0 {
			find = func(ctx context.Context) (bool, error) {
				run, _, err := c.gh.Checks.GetCheckRun(ctx, owner, repo, id)
				if err != nil {
					return false, convertError(err)
				}
				out = toCheckRun(run)
				return out.AnnotationsCount >= want, nil
			}
		}
		send := func(ctx context.Context) error {
			run, _, err := c.gh.Checks.UpdateCheckRun(ctx, owner, repo, id, opts)
			if err == nil {
				out = toCheckRun(run)
			}
			return convertError(err)
		}
		var err error
		if find == nil {
			err = send(ctx)
		} else {
			// Annotations are appended: GitHub must not get a batch twice.
			err = c.writeOnce(ctx, "update check run", func(ctx context.Context) error { return send(onceOnly(ctx)) }, find)
		}
		if err != nil {
			return CheckRun{}, fmt.Errorf("update check run %d of %s/%s: %w", id, owner, repo, err)
		}
		have = want
	}
	return out, nil
}

// ListCheckRuns returns the latest check run of each name that this App
// created on a commit, branch or tag. Runs of other Apps, whatever their
// names, are left out: GitHub is asked for the App's runs only, and what
// it answers is filtered again by the App id each run names.
func (c *Client) ListCheckRuns(ctx context.Context, owner, repo, ref string) ([]CheckRun, error) {
	if err := checkArgs(owner, repo); err != nil {
		return nil, err
	}
	if ref == "" {
		return nil, errors.New("ref: empty; want a commit id, branch or tag")
	}
	appID := c.app.cfg.AppID
	opts := &gh.ListCheckRunsOptions{AppID: &appID, ListOptions: gh.ListOptions{PerPage: pageSize}}
	var all []CheckRun
	for {
		res, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, owner, repo, ref, opts)
		if err != nil {
			return nil, fmt.Errorf("list check runs of %s/%s@%s: %w", owner, repo, ref, convertError(err))
		}
		for _, r := range res.CheckRuns {
			if r.GetApp().GetID() == appID {
				all = append(all, toCheckRun(r))
			}
		}
		if resp.NextPage == 0 {
			return all, nil
		}
		opts.Page = resp.NextPage
	}
}

// ListAnnotations returns every annotation of check run id, however many
// updates posted them.
func (c *Client) ListAnnotations(ctx context.Context, owner, repo string, id int64) ([]Annotation, error) {
	if err := checkArgs(owner, repo, checkID("check run id", id)); err != nil {
		return nil, err
	}
	list, err := listAll(ctx, func(o gh.ListOptions) ([]*gh.CheckRunAnnotation, *gh.Response, error) {
		return c.gh.Checks.ListCheckRunAnnotations(ctx, owner, repo, id, &o)
	})
	if err != nil {
		return nil, fmt.Errorf("list annotations of check run %d of %s/%s: %w", id, owner, repo, err)
	}
	out := make([]Annotation, 0, len(list))
	for _, a := range list {
		out = append(out, Annotation{Path: a.GetPath(), StartLine: a.GetStartLine(), EndLine: a.GetEndLine(),
			Level: a.GetAnnotationLevel(), Title: a.GetTitle(), Message: a.GetMessage()})
	}
	return out, nil
}

// statusStates are the states of a commit status.
var statusStates = []string{"error", "failure", "pending", "success"}

// maxStatusDescription is GitHub's limit on a status description.
const maxStatusDescription = 140

// SetStatus sets a commit status (state error, failure, pending or success)
// for context on sha. A description longer than GitHub allows is cut.
func (c *Client) SetStatus(ctx context.Context, owner, repo, sha, statusContext, state, description, targetURL string) error {
	var errs []error
	if !isSHA(sha) {
		errs = append(errs, fmt.Errorf("sha %q: want a 40-character commit id", sha))
	}
	if statusContext == "" {
		errs = append(errs, errors.New("context: empty; want a name such as gitvend/apply/prod"))
	}
	if !slices.Contains(statusStates, state) {
		errs = append(errs, fmt.Errorf("state %q: want one of %s", state, strings.Join(statusStates, ", ")))
	}
	if err := checkArgs(owner, repo, errs...); err != nil {
		return err
	}
	if r := []rune(description); len(r) > maxStatusDescription {
		description = string(r[:maxStatusDescription-1]) + "…"
	}
	st := &gh.RepoStatus{State: &state, Context: &statusContext, Description: optional(description), TargetURL: optional(targetURL)}
	if _, _, err := c.gh.Repositories.CreateStatus(ctx, owner, repo, sha, st); err != nil {
		return fmt.Errorf("set status %s on %s/%s@%s: %w", statusContext, owner, repo, sha, convertError(err))
	}
	return nil
}

// isSHA reports whether s is a full hexadecimal commit id.
func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// optional returns nil for an empty string.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Status is a commit status as GitHub reports it.
type Status struct {
	State       string
	Description string
	TargetURL   string
	UpdatedAt   time.Time
}

// StatusState returns the state of the newest commit status with context
// statusContext that this App set on sha ("error", "failure", "pending" or
// "success"), or "" when there is none. Statuses of the same context set
// by anyone else (a person with write access, another App) are ignored:
// a status is the App's when its creator is the App's bot user.
func (c *Client) StatusState(ctx context.Context, owner, repo, sha, statusContext string) (string, error) {
	st, err := c.Status(ctx, owner, repo, sha, statusContext)
	return st.State, err
}

// Status returns the newest commit status for statusContext on sha that
// this App's bot set; its State is "" when there is none. Statuses of the
// same context set by anyone else are left out.
func (c *Client) Status(ctx context.Context, owner, repo, sha, statusContext string) (Status, error) {
	if err := checkArgs(owner, repo); err != nil {
		return Status{}, err
	}
	list, err := listAll(ctx, func(lo gh.ListOptions) ([]*gh.RepoStatus, *gh.Response, error) {
		return c.gh.Repositories.ListStatuses(ctx, owner, repo, sha, &lo)
	})
	if err != nil {
		return Status{}, fmt.Errorf("list statuses of %s/%s@%s: %w", owner, repo, sha, convertError(err))
	}
	var bot string
	// GitHub lists the newest first.
	for _, st := range list {
		if st.GetContext() != statusContext {
			continue
		}
		if bot == "" {
			if bot, err = c.botLogin(ctx); err != nil {
				return Status{}, fmt.Errorf("status %s of %s/%s@%s: %w", statusContext, owner, repo, sha, err)
			}
		}
		if strings.EqualFold(st.GetCreator().GetLogin(), bot) {
			return Status{State: st.GetState(), Description: st.GetDescription(), TargetURL: st.GetTargetURL(), UpdatedAt: st.GetUpdatedAt().Time}, nil
		}
	}
	return Status{}, nil
}
