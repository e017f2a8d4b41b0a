package bot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/server"
	"github.com/gitvend/gitvend/internal/textbudget"
)

// Blueprint fan-out: when the blueprints change (a merge into a
// repository's blueprints/, or a new gitvend with a new built-in catalog),
// every request that follows its blueprint (not pinned as name@N) is
// rendered again, and where the render differs from what is committed the
// re-renders are proposed in pull requests: one group per environment, so
// that production is never mixed with another environment, each at most
// fanout.maxRequests requests. The groups of an environment are its
// stale requests in path order, cut every maxRequests; group k of
// environment e lives on the branch gitvend/fanout-<e>-<k>, which only
// gitvend writes (force-pushed), so a run after a restart finds its pull
// request again by the branch and updates it in place. A request that no
// longer renders is in no pull request; the dashboard issue lists it with
// the reason, next to the pending and merged ones.
//
// Nothing is remembered between runs: each run compares the default
// branch's committed renders with fresh ones, so it is level-triggered,
// and the same inputs give the same commit (its time is the base's), so a
// rerun pushes and edits nothing.

// FanoutBranchPrefix starts the branch of every fan-out group:
// gitvend/fanout-<environment>-<k>.
const FanoutBranchPrefix = "gitvend/fanout-"

// FanoutTitle is the title of the dashboard issue; markerFanout marks its body.
const (
	FanoutTitle  = "gitvend: blueprint fan-out"
	markerFanout = "fanout-dashboard"
	// markerFanoutRequests lists a fan-out pull request's requests in its
	// body, for the dashboard to read back once it is merged.
	markerFanoutRequests = "fanout-requests"
)

// fanoutGitHub is what fan-out asks of GitHub besides GitHub: its
// dashboard issue and closing a pull request whose group is empty.
type fanoutGitHub interface {
	FindIssueByTitle(ctx context.Context, owner, repo, title string, labels ...string) (github.Issue, error)
	CreateIssue(ctx context.Context, owner, repo string, spec github.NewIssue) (github.Issue, error)
	EditIssue(ctx context.Context, owner, repo string, number int, edit github.IssueEdit) (github.Issue, error)
	ClosePR(ctx context.Context, owner, repo string, number int) error
}

// commitTimer reads a commit's time, such as a *gitrepo.Repo.
type commitTimer interface {
	CommitInfo(ctx context.Context, sha string) (gitrepo.CommitInfo, error)
}

// FanoutResult is what one fan-out run found and did.
type FanoutResult struct {
	// Pending are the open fan-out pull requests, by group.
	Pending []FanoutGroup
	// Failing are the requests that no longer render.
	Failing []desired.Failing
	// Pinned counts the requests pinned to a version, left alone.
	Pinned int
	// Merged are the fan-out pull requests merged so far.
	Merged []FanoutGroup
	// Closed counts the pull requests closed because their group emptied.
	Closed int
	// Dashboard is the dashboard issue's number; 0 when there is none.
	Dashboard int

	// ever tells that gitvend opened a fan-out pull request here before,
	// so a dashboard may exist; a repository that never had one costs
	// no search for it.
	ever bool
}

// FanoutGroup is one fan-out pull request: its environment, its place
// among the environment's groups, its pull request and its requests.
type FanoutGroup struct {
	Environment string
	Index       int
	PR          int
	Requests    []string // record paths
	Merged      time.Time
}

// FanOut brings the blueprint fan-out of repository full to the state it
// should have: one open pull request per group of stale requests, updated
// in place; none for groups that emptied; the dashboard issue up to date.
// It is safe to run any number of times.
func (b *Bot) FanOut(ctx context.Context, full string) (*FanoutResult, error) {
	return b.fanOut(ctx, full, "")
}

// fanOut is FanOut; with pushed set, only when pushed is the repository's
// default branch (a push elsewhere changes no blueprint in use).
func (b *Bot) fanOut(ctx context.Context, full, pushed string) (*FanoutResult, error) {
	if c, ok := b.canonical(full); ok {
		full = c
	}
	// One fan-out of a repository at a time in this process (a push's and
	// a resync's are queued apart); across replicas the repository's
	// Lease keeps them apart.
	unlock := b.onePR.lock(full+"@fanout", 0)
	defer unlock()
	w, err := b.open(ctx, full)
	if err != nil {
		return nil, err
	}
	defer w.cleanup()
	if pushed != "" && pushed != w.branch {
		return &FanoutResult{}, nil
	}
	fg, ok := w.gh.(fanoutGitHub)
	if !ok {
		return nil, errors.New("fan-out: the GitHub client cannot keep issues and close pull requests")
	}
	rr, err := b.rerenderOf(ctx, w)
	if err != nil {
		return nil, fmt.Errorf("fan-out: %w", err)
	}
	res := &FanoutResult{Failing: rr.Failing, Pinned: len(rr.Pinned)}
	byEnv := map[string][]desired.Stale{}
	for _, s := range rr.Stale {
		byEnv[s.Request.Spec.Environment] = append(byEnv[s.Request.Spec.Environment], s)
	}
	per := w.cfg.Fanout.MaxRequests
	if per <= 0 {
		per = 1
	}
	var errs []error
	for _, env := range w.cfg.Environments {
		open, err := b.fanoutPRs(ctx, w, env.Name, res)
		if err != nil {
			return nil, err
		}
		groups := assignGroups(byEnv[env.Name], open, per)
		for _, k := range slices.Sorted(maps.Keys(groups)) {
			g, err := b.fanoutGroup(ctx, w, env.Name, k, groups[k], open[k])
			if err != nil {
				errs = append(errs, err)
				continue
			}
			res.Pending = append(res.Pending, g)
		}
		for _, k := range slices.Sorted(maps.Keys(open)) {
			if _, kept := groups[k]; kept {
				continue
			}
			// Its requests were merged another way, or render as
			// committed again: nothing is left to propose.
			if err := fg.ClosePR(ctx, w.owner, w.name, open[k].Number); err != nil {
				return nil, fmt.Errorf("fan-out: %w", err)
			}
			res.Closed++
		}
	}
	slices.SortFunc(res.Merged, func(a, b FanoutGroup) int { return b.Merged.Compare(a.Merged) })
	n, err := b.fanoutDashboard(ctx, w, fg, res)
	if err != nil {
		errs = append(errs, err)
	}
	res.Dashboard = n
	logctx.LoggerFrom(ctx).Info("fan-out", "repo", full, "stale", len(rr.Stale), "prs", len(res.Pending),
		"failing", len(rr.Failing), "pinned", len(rr.Pinned), "closed", res.Closed)
	return res, errors.Join(errs...)
}

// fanoutPRs finds the pull requests of environment env's groups, by
// branch: the open one of each group, by group, and (into res) the
// merged ones. Groups are numbered from 1 and a new group takes the
// lowest number without an open pull request, so the first number whose
// branch never had one ends the search.
func (b *Bot) fanoutPRs(ctx context.Context, w *work, env string, res *FanoutResult) (map[int]*github.PullRequest, error) {
	open := map[int]*github.PullRequest{}
	for k := 1; ; k++ {
		branch := fanoutBranch(env, k)
		prs, err := w.gh.ListPRsByHead(ctx, w.owner, w.name, branch)
		if err != nil {
			return nil, fmt.Errorf("fan-out: find pull requests of %s: %w", branch, err)
		}
		// Only gitvend's own pull requests: a person's from a branch of
		// that name neither holds requests nor counts as merged.
		prs = slices.DeleteFunc(prs, func(pr github.PullRequest) bool { return !b.isOwn(pr.User) })
		if len(prs) == 0 {
			return open, nil
		}
		res.ever = true
		for i := range prs {
			switch {
			case prs[i].State == "open" && open[k] == nil:
				open[k] = &prs[i]
			case !prs[i].MergedAt.IsZero():
				res.Merged = append(res.Merged, FanoutGroup{Environment: env, Index: k, PR: prs[i].Number,
					Requests: requestsOf(prs[i].Body), Merged: prs[i].MergedAt})
			}
		}
	}
}

// rerenderAt is the rerender of a repository's base commit sha.
type rerenderAt struct {
	sha string
	rr  *desired.Rerenders
}

// rerenderOf renders again the requests of the job's base that follow
// their blueprints (desired.RerenderWith): once per base commit, whose
// records, blueprints and committed files decide it, so that a resync on
// a base it has seen reads nothing of a big repository. The result is
// shared: only read it.
func (b *Bot) rerenderOf(ctx context.Context, w *work) (*desired.Rerenders, error) {
	b.baseMu.Lock()
	last, ok := b.rerendered[w.full]
	b.baseMu.Unlock()
	if ok && last.sha == w.baseSHA {
		return last.rr, nil
	}
	rr, err := desired.RerenderWith(ctx, w.baseDir, w.cfg, w.cat, &b.current)
	if err != nil {
		return nil, err
	}
	b.baseMu.Lock()
	if b.rerendered == nil {
		b.rerendered = map[string]rerenderAt{}
	}
	b.rerendered[w.full] = rerenderAt{sha: w.baseSHA, rr: rr}
	b.baseMu.Unlock()
	return rr, nil
}

// assignGroups puts an environment's stale requests (in path order) into
// groups of at most per: a request stays in the group whose open pull
// request holds it already, so that a merge or a new stale request does
// not reshuffle the other pull requests; the rest fill the open groups
// with room (in number order, open or new), so that an open pull request
// is updated rather than another opened.
func assignGroups(stale []desired.Stale, open map[int]*github.PullRequest, per int) map[int][]desired.Stale {
	groups := map[int][]desired.Stale{}
	held := map[string]int{}
	for _, k := range slices.Sorted(maps.Keys(open)) {
		for _, p := range requestsOf(open[k].Body) {
			if _, dup := held[p]; !dup {
				held[p] = k
			}
		}
	}
	var rest []desired.Stale
	for _, s := range stale {
		if k, ok := held[s.Path]; ok && len(groups[k]) < per {
			groups[k] = append(groups[k], s)
			continue
		}
		rest = append(rest, s)
	}
	for k := 1; len(rest) > 0; k++ {
		n := min(per-len(groups[k]), len(rest))
		if n > 0 {
			groups[k] = append(groups[k], rest[:n]...)
			rest = rest[n:]
		}
	}
	for k, g := range groups {
		slices.SortFunc(g, func(a, b desired.Stale) int { return strings.Compare(a.Path, b.Path) })
		groups[k] = g
	}
	return groups
}

// fanoutGroup commits group k of environment env onto its branch, opens
// or updates its pull request, and has it checked.
func (b *Bot) fanoutGroup(ctx context.Context, w *work, env string, k int, stale []desired.Stale, open *github.PullRequest) (FanoutGroup, error) {
	branch := fanoutBranch(env, k)
	g := FanoutGroup{Environment: env, Index: k}
	spec := gitrepo.CommitSpec{Parent: w.baseSHA, Files: map[string][]byte{}, Author: b.opts.Author}
	for _, s := range stale {
		g.Requests = append(g.Requests, s.Path)
		spec.Delete = append(spec.Delete, s.Change.Delete...)
		for _, f := range s.Change.Files {
			spec.Files[f.Path] = f.Data
		}
	}
	title := fmt.Sprintf("gitvend: re-render %d %s in %s after a blueprint change", len(stale), plural(len(stale), "request", "requests"), env)
	if k > 1 {
		title += fmt.Sprintf(" (group %d)", k)
	}
	spec.Message = title + "\n\n" + strings.Join(g.Requests, "\n") + "\n"
	if ct, ok := w.clone.(commitTimer); ok {
		// The base's time: the same stale requests on the same base give
		// the same commit, so a rerun pushes nothing.
		if info, err := ct.CommitInfo(ctx, w.baseSHA); err == nil {
			spec.Time = info.Time
		}
	}
	sha, err := w.clone.Commit(ctx, spec)
	if err != nil {
		return g, fmt.Errorf("fan-out %s: commit: %w", branch, err)
	}
	if open == nil || open.HeadSHA != sha {
		if err := b.ensureBranch(ctx, w, branch, sha); err != nil {
			return g, fmt.Errorf("fan-out: %w", err)
		}
	}
	body := fanoutBody(w, env, branch, stale)
	pr, did, err := w.gh.EnsurePR(ctx, w.owner, w.name, github.NewPR{Title: title, Body: body, Head: branch, Base: w.branch}, open)
	if err != nil {
		return g, fmt.Errorf("fan-out %s: %w", branch, err)
	}
	if did == github.Created {
		b.metrics.prs.Inc()
	}
	g.PR = pr.Number
	// The policy and cost checks, as on every pull request.
	if err := b.CheckPR(ctx, w.full, PRHead{Number: pr.Number, Branch: branch, SHA: sha}, false); err != nil {
		return g, fmt.Errorf("fan-out %s: check: %w", branch, err)
	}
	return g, nil
}

// fanoutBranch is the branch of group k of environment env.
func fanoutBranch(env string, k int) string {
	return FanoutBranchPrefix + env + "-" + strconv.Itoa(k)
}

// maxDiffLines bounds the diff of one request in a pull request's body;
// the branch holds the whole render.
const maxDiffLines = 120

// fanoutBody is a fan-out pull request's body: what changed and, per
// request, the diff of its render, fitted within GitHub's limit.
func fanoutBody(w *work, env, branch string, stale []desired.Stale) string {
	var d textbudget.Doc
	d.Text(fmt.Sprintf("A blueprint these requests follow changed, so gitvend rendered them again. "+
		"Each renders differently from what is committed in `%s`; merging applies the new render in **%s**. "+
		"The policy and cost checks judge it as any pull request. gitvend keeps this pull request up to date; "+
		"a request pinned to a blueprint version (`blueprint: name@N`) is never part of it.\n\n", w.branch, env))
	if notes := changelogs(w, stale); notes != "" {
		d.Text(notes + "\n")
	}
	rows := make([]string, 0, len(stale))
	for _, s := range stale {
		rows = append(rows, fmt.Sprintf("<details><summary><code>%s</code> (blueprint %s)</summary>\n\n```diff\n%s```\n\n</details>\n",
			s.Path, s.Request.Spec.Blueprint, cutLines(s.Diff, maxDiffLines, branch)))
	}
	d.Add(textbudget.List{Rows: rows, Noun: "requests", Collapsed: true})
	d.Text("\n" + requestsMarker(stale))
	return d.Fit(body, textbudget.Options{Where: "the branch `" + branch + "`"})
}

// changelogs lists the current version and changelog line of each
// blueprint the stale requests follow.
func changelogs(w *work, stale []desired.Stale) string {
	var names []string
	for _, s := range stale {
		if !slices.Contains(names, s.Request.Spec.Blueprint) {
			names = append(names, s.Request.Spec.Blueprint)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		bp, err := w.cat.Get(n)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "- **%s** version %d", bp.Name, bp.Version)
		if bp.Changelog != "" {
			fmt.Fprintf(&b, ": %s", textbudget.Line(bp.Changelog, textbudget.Chars(300)))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// cutLines keeps the first n lines of a diff (it ends with a newline),
// saying where the rest is.
func cutLines(s string, n int, branch string) string {
	// A fence or a comment opener in a committed file ends neither the
	// diff's fence nor passes for one of gitvend's markers.
	safe := strings.NewReplacer("```", "`\u200b``", "<!--", "<!-\u200b-")
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n+1 {
		return safe.Replace(s)
	}
	kept := strings.Join(lines[:n], "")
	return safe.Replace(kept) + fmt.Sprintf("# … %d more lines; the branch %s holds the whole render\n", len(lines)-1-n, branch)
}

// requestsMarker lists the group's request paths in a comment the
// dashboard reads back from a merged pull request.
func requestsMarker(stale []desired.Stale) string {
	var b strings.Builder
	b.WriteString(markerPrefix + markerFanoutRequests + "\n")
	for _, s := range stale {
		b.WriteString(s.Path + "\n")
	}
	b.WriteString("-->\n")
	return b.String()
}

// requestsOf reads the request paths requestsMarker wrote into a body.
func requestsOf(body string) []string {
	_, rest, ok := strings.Cut(body, markerPrefix+markerFanoutRequests+"\n")
	if !ok {
		return nil
	}
	list, _, _ := strings.Cut(rest, "-->")
	var out []string
	for _, l := range strings.Split(list, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, request.Dir+"/") && !strings.ContainsAny(l, "<>`|") {
			out = append(out, l)
		}
	}
	return out
}

// fanoutDashboard keeps the dashboard issue: found again by its title and
// marker, opened when there is something to show, edited in place, and
// reopened when requests are pending or failing again.
func (b *Bot) fanoutDashboard(ctx context.Context, w *work, fg fanoutGitHub, res *FanoutResult) (int, error) {
	busy := len(res.Pending) > 0 || len(res.Failing) > 0
	if !busy && !res.ever {
		return 0, nil // nothing to show, and never was
	}
	text := dashboardBody(res)
	is, err := fg.FindIssueByTitle(ctx, w.owner, w.name, FanoutTitle)
	if err != nil && !errors.Is(err, github.ErrNotFound) {
		return 0, fmt.Errorf("fan-out dashboard: %w", err)
	}
	found := err == nil && b.isOwn(is.User) && strings.HasPrefix(is.Body, markerPrefix+markerFanout+" -->")
	if !found {
		if !busy {
			return 0, nil // nothing to show yet
		}
		created, err := fg.CreateIssue(ctx, w.owner, w.name, github.NewIssue{Title: FanoutTitle, Body: text})
		if err != nil {
			return 0, fmt.Errorf("fan-out dashboard: %w", err)
		}
		return created.Number, nil
	}
	var edit github.IssueEdit
	if is.Body != text {
		edit.Body = &text
	}
	if busy && is.State != "open" {
		open := "open"
		edit.State = &open
	}
	if edit.Body != nil || edit.State != nil {
		if _, err := fg.EditIssue(ctx, w.owner, w.name, is.Number, edit); err != nil {
			return 0, fmt.Errorf("fan-out dashboard: %w", err)
		}
	}
	return is.Number, nil
}

// maxMergedShown bounds the merged pull requests the dashboard lists.
const maxMergedShown = 20

// dashboardBody is the dashboard issue's text.
func dashboardBody(res *FanoutResult) string {
	var d textbudget.Doc
	d.Text(markerPrefix + markerFanout + " -->\n")
	d.Text("When a blueprint changes, gitvend renders again every request that follows it and proposes the new renders " +
		"in pull requests, one group per environment. This issue is kept up to date by gitvend.\n\n")
	if res.Pinned > 0 {
		d.Text(fmt.Sprintf("%d %s pinned to a blueprint version (`blueprint: name@N`) %s left alone.\n\n",
			res.Pinned, plural(res.Pinned, "request", "requests"), plural(res.Pinned, "is", "are")))
	}
	d.Text("### Pending\n\n")
	if len(res.Pending) == 0 {
		d.Text("None.\n\n")
	} else {
		var rows []string
		for _, g := range res.Pending {
			for _, r := range g.Requests {
				rows = append(rows, fmt.Sprintf("| `%s` | %s | #%d |", r, g.Environment, g.PR))
			}
		}
		d.Add(textbudget.List{Head: "| Request | Environment | Pull request |\n|---|---|---|", Rows: rows, Noun: "requests"})
		d.Text("\n")
	}
	d.Text("### Failing\n\n")
	if len(res.Failing) == 0 {
		d.Text("None.\n\n")
	} else {
		d.Text("These requests no longer render with their blueprint and are in no pull request. " +
			"Change the parameter named with `/provision set` on the request's issue, or pin the version it rendered with.\n\n")
		var rows []string
		for _, f := range res.Failing {
			rows = append(rows, fmt.Sprintf("| `%s` | %s | %s |", f.Path, f.Request.Spec.Environment, cell(failReason(f.Err))))
		}
		d.Add(textbudget.List{Head: "| Request | Environment | Why |\n|---|---|---|", Rows: rows, Noun: "requests"})
		d.Text("\n")
	}
	d.Text("### Merged\n\n")
	if len(res.Merged) == 0 {
		d.Text("None yet.\n")
	} else {
		var rows []string
		for i, g := range res.Merged {
			if i == maxMergedShown {
				break
			}
			for _, r := range g.Requests {
				rows = append(rows, fmt.Sprintf("| `%s` | %s | #%d | %s |", r, g.Environment, g.PR, g.Merged.UTC().Format(time.DateOnly)))
			}
		}
		d.Add(textbudget.List{Head: "| Request | Environment | Pull request | Merged |\n|---|---|---|---|", Rows: rows, Noun: "requests"})
	}
	return d.Fit(body, textbudget.Options{Shown: shownRows, Where: "the fan-out pull requests"})
}

// failReason says why a request does not render, each problem naming its
// field (the parameter at fault).
func failReason(err error) string {
	msgs := field.Messages(err)
	if len(msgs) == 0 {
		return err.Error()
	}
	return strings.Join(msgs, "; ")
}

// cell makes text safe in a table cell: one line, no pipes breaking it.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	return request.Code(textbudget.Line(s, textbudget.Chars(500)))
}

// queueFanout queues a fan-out of the repository a push webhook names,
// keyed apart from its other jobs; a push to another branch than the
// default one finds nothing to do. Fan-out jobs, like every job of a
// repository but the push hand-over, run under the repository's Lease.
func (d *Dispatcher) queueFanout(hook server.Webhook) error {
	ev, ok := hook.Payload.(*gh.PushEvent)
	if !ok || ev.GetDeleted() {
		return nil
	}
	branch, ok := strings.CutPrefix(ev.GetRef(), "refs/heads/")
	if !ok || strings.HasPrefix(branch, FanoutBranchPrefix) || strings.HasPrefix(branch, BranchPrefix) {
		return nil
	}
	repo := hook.Repo
	return d.queue.Add(repo+"@fanout", hook.DeliveryID+"/fanout", func(ctx context.Context) error {
		return d.bot.metrics.job("fanout", func() error {
			_, err := d.bot.fanOut(ctx, repo, branch)
			return err
		})
	})
}
