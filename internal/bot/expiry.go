package bot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/request"
)

// Expiry: a request with a ttl lives that long from the merge of its pull
// request (the time GitHub merged it, never a text anyone can edit); a
// /provision extend ttl=… on its issue, by someone who may request in its
// environment, makes it expire that long after the command instead.
// Before the end the issue is told once; at the end the request's one pull
// request becomes the same removal /provision destroy proposes, labelled
// ExpiryLabel, and an environment with autoMerge has it merged once
// gitvend's checks pass and no change window of the environment holds
// expiry (expiryHeld). Everything is read again from GitHub on every
// sync (merge times, the ledger that says who answers for each extend,
// gitvend's own marked comments), so a resync after a restart finds an
// expiry that fell due meanwhile, and a marker keeps it from happening
// twice.

// ExpiryLabel marks the pull requests that remove an expired request.
const ExpiryLabel = "gitvend/expiry"

// Markers of the comments expiry posts once on a request issue, each
// followed by the expiry's Unix time, so that a moved expiry is told anew.
const (
	markerExpiryWarning = "expiry-warning-"
	markerExpired       = "expired-"
)

// extension is one /provision extend of a request, as folded.
type extension struct {
	c   comment
	cmd request.Command
	by  string
	at  time.Time // when the command, as it reads, was written
	ttl time.Duration
}

// expiry is when a request expires, as its issue's sync works it out.
type expiry struct {
	name        string
	environment string
	merged      time.Time // the merge its life counts from
	due         time.Time
	ttl         string // the ttl the due time counts, as written
	extended    bool   // due counts from an extend, not the merge
	env         config.Environment
	// remove is set when the request is due and its removal is (or is
	// to be) its pull request.
	remove bool
}

// extend records an extend command of comment c, which by answers for.
func (in *intake) extend(c comment, cmd request.Command, by string, usage string) {
	if in.draft == nil {
		in.reply(c, replyData{User: by, Usage: usage,
			Errors: []string{fmt.Sprintf("line %d: there is no request here to extend", cmd.Line)}}.render())
		return
	}
	ttl, err := request.ParseTTL(cmd.Args[0].Value)
	if err != nil {
		return // ParseCommands read it already
	}
	at := c.CreatedAt
	if c.UpdatedAt.After(at) {
		at = c.UpdatedAt
	}
	in.extends = append(in.extends, extension{c: c, cmd: cmd, by: by, at: at, ttl: ttl})
}

// lifeStart is the merge a request's current life counts from: the first
// pull request of it merged after the last merged removal; zero when none.
// prs are newest first, as onePRPerRequest.find lists them.
func lifeStart(prs []github.PullRequest) time.Time {
	var start time.Time
	for i := len(prs) - 1; i >= 0; i-- {
		pr := prs[i]
		if pr.MergedAt.IsZero() { // a list shows merged_at, not merged
			continue
		}
		if isRemoval(pr) {
			start = time.Time{}
			continue
		}
		if start.IsZero() {
			start = pr.MergedAt
		}
	}
	return start
}

// isRemoval tells whether pr is a request's removal (by destroy or expiry).
func isRemoval(pr github.PullRequest) bool {
	return hasString(pr.Labels, ExpiryLabel) || strings.HasPrefix(pr.Title, "gitvend: remove ")
}

// judgeExpiry works out when the request of in expires, answers its extend
// commands, tells the issue once when the expiry is near, and marks the
// draft for removal when it is due and its removal was not opened before.
// The extenders are judged as requesters in the request's environment
// (team memberships asked here), their ttl by the environment's rules.
func (b *Bot) judgeExpiry(ctx context.Context, w *work, f *facts, in *intake) error {
	key := expiryKey(w.full, in.issue.Number)
	if in.draft == nil || in.refusal != nil || len(in.unconfirmed) > 0 || in.draft.Destroy {
		b.expiries.forget(key)
		return nil
	}
	env, ok := w.cfg.Environment(in.draft.Environment)
	if !ok {
		b.expiries.forget(key)
		return nil // admission says why
	}
	ex := &expiry{name: in.draft.Name, environment: env.Name, env: env, merged: lifeStart(f.prs), ttl: in.draft.TTL}
	if d, err := request.ParseTTL(in.draft.TTL); err == nil && !ex.merged.IsZero() {
		ex.due = ex.merged.Add(d)
	}
	usage := request.Usage(request.RequestIssue)
	for _, x := range in.extends {
		switch {
		case ex.merged.IsZero() || x.at.Before(ex.merged):
			in.reply(x.c, replyData{User: x.by, Usage: usage, Errors: []string{fmt.Sprintf(
				"line %d: a ttl counts from the merge of the request's pull request; extend it once merged", x.cmd.Line)}}.render())
			continue
		case in.draft.TTL == "":
			in.reply(x.c, replyData{User: x.by, Usage: usage, Errors: []string{fmt.Sprintf(
				"line %d: this request has no ttl, so it does not expire; give it one with `/provision set ttl=…`", x.cmd.Line)}}.render())
			continue
		}
		r, err := b.mayRequest(ctx, w, in, x.by)
		if err != nil {
			return err
		}
		if r != nil {
			in.refuse(x.c.number, r)
			continue
		}
		if err := admission.TTL(env, x.cmd.Args[0].Value, "ttl"); err != nil {
			in.reply(x.c, replyData{User: x.by, Usage: usage, Errors: replyErrors([]error{onLine(x.cmd, err)})}.render())
			continue
		}
		ex.due, ex.ttl, ex.extended = x.at.Add(x.ttl), x.cmd.Args[0].Value, true
		in.reply(x.c, fmt.Sprintf("@%s: **%s** now expires on %s, %s after this comment.", x.by, ex.name, utc(ex.due), x.cmd.Args[0].Value))
	}
	if ex.due.IsZero() {
		b.expiries.forget(key)
		return nil
	}
	in.expiry = ex
	b.expiries.set(key, ExpiryEntry{Repo: w.full, Issue: in.issue.Number, Name: ex.name, Environment: ex.environment, Due: ex.due.UTC()})
	now := b.now()
	thread := in.threads[in.issue.Number]
	stamp := strconv.FormatInt(ex.due.Unix(), 10)
	if now.Before(ex.due) {
		if now.Before(ex.due.Add(-env.Warning())) || hasOwnMarker(thread, markerExpiryWarning+stamp) {
			return nil
		}
		return b.say(ctx, w, thread, in.issue.Number, markerExpiryWarning+stamp, warningText(ex, now))
	}
	open := f.open
	if !hasOwnMarker(thread, markerExpired+stamp) || (open != nil && hasString(open.Labels, ExpiryLabel)) {
		ex.remove = true
		in.draft.Destroy = true
	}
	return nil
}

// mayRequest asks admission whether login may make the request of in, as
// if they alone had shaped it: the permission, the environment's teams and
// the owner's. It returns the refusal, or nil when they may.
func (b *Bot) mayRequest(ctx context.Context, w *work, in *intake, login string) (*admission.Refusal, error) {
	if !in.may(w, login) {
		return &admission.Refusal{User: login, Reason: fmt.Sprintf("requests in this repository need %s permission or more.", w.cfg.Intake.Permission)}, nil
	}
	ai := admission.Input{Config: w.cfg, Catalog: w.cat, Draft: in.draft, People: []admission.Person{in.person(login)}}
	for q, ok := admission.Next(ai); ok; q, ok = admission.Next(ai) {
		member, err := w.gh.IsTeamMember(ctx, w.owner, q.Team, q.User)
		if err != nil {
			return nil, fmt.Errorf("team %s membership of %s: %w", q.Team, q.User, err)
		}
		ai.Answer(q, member)
	}
	d, _ := admission.Admit(ai) // the draft's own problems are the request's, not the extender's
	return d.Refusal, nil
}

// afterExpiry finishes an expiry whose removal was proposed: the pull
// request is labelled, the issue told once, and, where the environment
// has autoMerge, the pull request merged once gitvend's checks on its head
// passed.
func (b *Bot) afterExpiry(ctx context.Context, w *work, in *intake) error {
	ex := in.expiry
	_, pr, err := b.onePR.find(ctx, w, in.issue.Number)
	if err != nil || pr == nil {
		return err
	}
	if !hasString(pr.Labels, ExpiryLabel) {
		if err := b.ensureLabels(ctx, w); err != nil {
			return err
		}
		if err := w.gh.AddLabels(ctx, w.owner, w.name, pr.Number, ExpiryLabel); err != nil {
			return fmt.Errorf("label expiry pull request #%d: %w", pr.Number, err)
		}
	}
	marker := markerExpired + strconv.FormatInt(ex.due.Unix(), 10)
	if t := in.threads[in.issue.Number]; !hasOwnMarker(t, marker) {
		if err := b.say(ctx, w, t, in.issue.Number, marker, expiredText(ex, pr.Number)); err != nil {
			return fmt.Errorf("expiry comment: %w", err)
		}
		b.log.Info("request expired", "repo", w.full, "issue", in.issue.Number, "pr", pr.Number, "due", ex.due.UTC())
	}
	if !ex.env.AutoMerge {
		return nil
	}
	if held, err := b.expiryHeld(ctx, w, in, pr.Number); held || err != nil {
		return err
	}
	runs, err := w.gh.ListCheckRuns(ctx, w.owner, w.name, pr.HeadSHA)
	if err != nil {
		return fmt.Errorf("check runs of expiry pull request #%d: %w", pr.Number, err)
	}
	if !checksPassed(runs) {
		return nil
	}
	merged, err := w.gh.MergePR(ctx, w.owner, w.name, pr.Number, pr.HeadSHA)
	if err != nil {
		if errors.Is(err, github.ErrNotMergeable) {
			b.log.Info("expiry pull request not mergeable", "repo", w.full, "pr", pr.Number, "err", err)
			return nil
		}
		return err
	}
	b.log.Info("expiry pull request merged", "repo", w.full, "pr", pr.Number)
	return b.markRemoval(ctx, w, in, pr.Number, merged)
}

// markRemoval sets gitvend's own cluster.ExpiryRemoval status on merged,
// the merge commit of the removal of the expired request of in, which
// gitvend merged: a change window that allows expiry lets the apply of
// that commit through (see rollout). Without it the apply waits for the
// window like any merge's.
func (b *Bot) markRemoval(ctx context.Context, w *work, in *intake, number int, merged string) error {
	if merged == "" {
		return nil
	}
	d := in.draft
	desc := d.Environment + "/" + d.Namespace + "/" + d.Name
	if err := w.gh.SetStatus(ctx, w.owner, w.name, merged, cluster.ExpiryRemoval, "success", desc, b.opts.Links.PullRequest(w.full, number)); err != nil {
		return fmt.Errorf("mark the removal %.12s: %w", merged, err)
	}
	return nil
}

// checksPassed tells whether gitvend's policy and cost runs (and any other
// run of gitvend's on the commit) completed successfully.
func checksPassed(runs []github.CheckRun) bool {
	seen := map[string]bool{}
	for _, r := range runs {
		if r.Status != "completed" || (r.Conclusion != "success" && r.Conclusion != "neutral" && r.Conclusion != "skipped") {
			return false
		}
		seen[r.Name] = r.Conclusion == "success"
	}
	return seen[CheckPolicy] && seen[CheckCost]
}

// expiringIssues are the request issues of repository w whose records on
// the desired-state branch have a ttl: the requests a resync looks at for
// expiry, however long ago their issues closed.
func expiringIssues(w *work) []int {
	if w.base == nil {
		return nil
	}
	recs, err := w.base.Requests() // read once per base checkout
	if err != nil {
		return nil
	}
	var out []int
	for _, rec := range recs {
		if rec.Request == nil || rec.Request.Spec.TTL == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(w.baseDir, filepath.FromSlash(rec.Path)))
		if err != nil {
			continue
		}
		repo, num, ok := strings.Cut(desired.OriginOf(data), "#")
		if !ok || config.RepoKey(repo) != config.RepoKey(w.full) {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// warningText tells a request's issue, at now, that it expires soon.
func warningText(ex *expiry, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "⏳ **%s** expires on %s (%s)", ex.name, utc(ex.due), relative(ex.due.Sub(now)))
	if ex.extended {
		fmt.Fprintf(&b, ", %s after it was last extended.\n\n", ex.ttl)
	} else {
		fmt.Fprintf(&b, ", %s after its pull request was merged.\n\n", ex.ttl)
	}
	fmt.Fprintf(&b, "To keep it longer, comment `/provision extend ttl=%s` here", exampleTTL(ex))
	if ex.env.MaxTTL != "" {
		fmt.Fprintf(&b, " (at most %s in %s)", ex.env.MaxTTL, ex.environment)
	}
	b.WriteString(". At expiry gitvend opens the pull request that removes it")
	if ex.env.AutoMerge {
		b.WriteString(" and merges it once its checks pass")
	}
	b.WriteString(".")
	return b.String()
}

// expiredText tells a request's issue that it expired and which pull
// request removes it.
func expiredText(ex *expiry, pr int) string {
	s := fmt.Sprintf("⌛ **%s** expired on %s; #%d removes it.", ex.name, utc(ex.due), pr)
	if ex.env.AutoMerge {
		return s + " It is merged once its checks pass."
	}
	return s + " Merge it to remove it, or close it and comment `/provision extend ttl=…` to keep it."
}

func exampleTTL(ex *expiry) string {
	if ex.env.MaxTTL != "" {
		return ex.env.MaxTTL
	}
	if ex.ttl != "" {
		return ex.ttl
	}
	return "72h"
}

// utc writes t to the minute, in UTC.
func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// relative says how far away d is, roughly: "in 5 hours".
func relative(d time.Duration) string {
	unit := func(n int64, what string) string {
		if n == 1 {
			return "in 1 " + what
		}
		return fmt.Sprintf("in %d %ss", n, what)
	}
	switch {
	case d < time.Minute:
		return "in less than a minute"
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int64((d+30*time.Minute)/time.Hour), "hour")
	default:
		return unit(int64((d+12*time.Hour)/(24*time.Hour)), "day")
	}
}

// hasOwnMarker tells whether thread t holds a comment with marker.
func hasOwnMarker(t *github.Thread, marker string) bool {
	if t == nil {
		return false
	}
	tag := github.Marker(marker)
	for _, c := range t.Comments {
		if strings.Contains(c.Body, tag) {
			return true
		}
	}
	return false
}

func hasString(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// onLine places a field error of cmd's on the command's line.
func onLine(cmd request.Command, err error) error {
	msg := err.Error()
	var fe *field.Error
	if errors.As(err, &fe) {
		msg = fe.Field + ": " + fe.Msg
	}
	return &field.Error{Line: cmd.Line, Field: cmd.String(), Msg: msg}
}

func expiryKey(full string, issue int) string {
	return fmt.Sprintf("%s#%d", config.RepoKey(full), issue)
}

// ExpiryEntry is an upcoming expiry, as the status page lists it.
type ExpiryEntry struct {
	Repo        string    `json:"repo"`
	Issue       int       `json:"issue"`
	Name        string    `json:"name"`
	Environment string    `json:"environment"`
	Due         time.Time `json:"due"`
}

// expiryBoard is what this process last worked out of each request's
// expiry.
type expiryBoard struct {
	mu sync.Mutex
	m  map[string]ExpiryEntry
}

func (e *expiryBoard) set(key string, x ExpiryEntry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]ExpiryEntry{}
	}
	e.m[key] = x
}

func (e *expiryBoard) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// keepOnly forgets the expiries of repository full's issues not in synced.
func (e *expiryBoard) keepOnly(full string, synced map[int]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, x := range e.m {
		if config.RepoKey(x.Repo) == config.RepoKey(full) && !synced[x.Issue] {
			delete(e.m, k)
		}
	}
}

// Expiries lists the expiries of requests this process found by its last
// sync of each (every resync looks at every request with a ttl), soonest
// first.
func (b *Bot) Expiries() []ExpiryEntry {
	b.expiries.mu.Lock()
	out := make([]ExpiryEntry, 0, len(b.expiries.m))
	for _, x := range b.expiries.m {
		out = append(out, x)
	}
	b.expiries.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Due.Equal(out[j].Due) {
			return out[i].Due.Before(out[j].Due)
		}
		return out[i].Repo+strconv.Itoa(out[i].Issue) < out[j].Repo+strconv.Itoa(out[j].Issue)
	})
	return out
}

// expiring tells whether the sync removes the request because it expired.
func (in *intake) expiring() bool { return in.expiry != nil && in.expiry.remove }

// markerExpiryHeld marks the one comment on an expiry's removal pull
// request that says a change window holds its merge.
const markerExpiryHeld = "expiry-held"

// expiryHeld tells whether a change window of the expiry's environment
// (the repository's, or one the server configuration puts on a target
// serving it, each on its own) holds the merge of the removal pull
// request number now, for the request's namespace and owner; held, the
// pull request is told so in one comment, kept up to date, and autoMerge
// merges it at a resync after the window. A window with expiry: allow
// lets the merge through; the removal's apply stays held by the window
// like any merge's (see rollout).
func (b *Bot) expiryHeld(ctx context.Context, w *work, in *intake, number int) (bool, error) {
	ex := in.expiry
	sets := []config.Windows{ex.env.Windows}
	if b.opts.Windows != nil {
		sets = append(sets, b.opts.Windows.TargetWindows(w.full, ex.environment)...)
	}
	subject := config.Subject{Namespace: in.draft.Namespace, Owner: in.draft.Owner}
	window, until, held := config.HeldBy(b.now(), subject, config.ForExpiry, sets...)
	if !held {
		return false, nil
	}
	when := "when the window ends"
	if !until.IsZero() {
		when = "after " + utc(until)
	}
	body := fmt.Sprintf("### ⏸ Held by change window `%s`\n\nThe environment `%s` is in the change window `%s`, which holds "+
		"the removal of expired requests: this pull request is merged %s, once gitvend's checks pass. "+
		"Merge it by hand to remove **%s** sooner (its apply still waits for the window).\n", window, ex.environment, window, when, ex.name)
	if err := b.say(ctx, w, nil, number, markerExpiryHeld, body); err != nil {
		return true, fmt.Errorf("expiry held comment: %w", err)
	}
	return true, nil
}

// TargetWindows names the change windows the targets serving environment
// of repository repo declare, one set per target, such as
// rollout.Rollout.
type TargetWindows interface {
	TargetWindows(repo, environment string) []config.Windows
}
