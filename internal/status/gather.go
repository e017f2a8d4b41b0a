package status

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/permalink"
	"github.com/gitvend/gitvend/internal/queue"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/rollout"
)

// Bot is what the status page reads of the bot.
type Bot interface {
	RepoView(ctx context.Context, full string) (bot.RepoView, error)
	Expiries() []bot.ExpiryEntry
	Protections() []bot.ProtectionNotice
}

// Rollout is what the status page reads of the rollout.
type Rollout interface {
	Targets() []string
	TargetView(ctx context.Context, name string) (permalink.Target, bool, error)
	NextSync(target string) (rollout.SyncPlan, bool)
	Held() []rollout.HeldApply
}

// Sources are where a Gatherer reads the status from.
type Sources struct {
	Version string
	Started time.Time
	// Repositories are the served repositories (owner/name).
	Repositories []string
	// WebURL is the page of a repository on GitHub (no trailing slash).
	WebURL  func(full string) string
	Bot     Bot
	Rollout Rollout
	Queue   func() queue.Stats
	Leader  func() Leader
	// Links make the public pages' URLs (nil: none configured).
	Links *permalink.Links
	// CacheFor is how long one reading is served before GitHub is read
	// again (default DefaultCacheFor): anyone with the page open reloads.
	CacheFor time.Duration
	Timeout  time.Duration // bounds one reading (default DefaultTimeout)
	Logger   *slog.Logger
	Now      func() time.Time
}

// Defaults of Sources.
const (
	DefaultCacheFor = 5 * time.Second
	DefaultTimeout  = 10 * time.Second
)

// Gatherer reads the status from its Sources, at most once per CacheFor.
type Gatherer struct {
	src  Sources
	mu   sync.Mutex
	last *Status
	at   time.Time
}

// NewGatherer returns a Gatherer of src.
func NewGatherer(src Sources) *Gatherer {
	src.CacheFor = cmp.Or(src.CacheFor, DefaultCacheFor)
	src.Timeout = cmp.Or(src.Timeout, DefaultTimeout)
	if src.Logger == nil {
		src.Logger = slog.New(slog.DiscardHandler)
	}
	if src.Now == nil {
		src.Now = time.Now
	}
	if src.WebURL == nil {
		src.WebURL = func(full string) string { return "https://github.com/" + full }
	}
	return &Gatherer{src: src}
}

// Status returns the status, read again when the last reading is older
// than CacheFor. One reading runs at a time.
func (g *Gatherer) Status(ctx context.Context) *Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.src.Now()
	if g.last != nil && now.Sub(g.at) < g.src.CacheFor {
		return g.last
	}
	ctx, cancel := context.WithTimeout(ctx, g.src.Timeout)
	defer cancel()
	g.last, g.at = g.gather(ctx, now), now
	return g.last
}

func (g *Gatherer) gather(ctx context.Context, now time.Time) *Status {
	s := g.src
	st := &Status{Version: s.Version, Generated: now.UTC(), Started: s.Started.UTC(), Leader: Leader{Leading: true}}
	if s.Leader != nil {
		st.Leader = s.Leader()
	}
	if s.Queue != nil {
		st.Queue = s.Queue()
	}
	var protections map[string]bot.ProtectionNotice
	var expiries []bot.ExpiryEntry
	if s.Bot != nil {
		protections = map[string]bot.ProtectionNotice{}
		for _, p := range s.Bot.Protections() {
			protections[strings.ToLower(p.Repo)] = p
		}
		expiries = s.Bot.Expiries()
	}
	anyUnloaded := false
	for _, full := range s.Repositories {
		repo := Repository{Name: full, URL: s.WebURL(full), Catalog: []Blueprint{}}
		if p, ok := protections[strings.ToLower(full)]; ok {
			repo.Protection = &p
		}
		if s.Bot != nil {
			v, err := s.Bot.RepoView(ctx, full)
			if err != nil {
				s.Logger.Warn("status: read repository", "repo", full, "err", err)
				repo.Error = "GitHub could not be read just now: " + err.Error()
			}
			repo.Branch, repo.Revision = v.Branch, v.Revision
			anyUnloaded = anyUnloaded || v.Revision == ""
			for _, bp := range v.Blueprints {
				repo.Catalog = append(repo.Catalog, blueprintOf(bp, repo.URL))
			}
			st.Requests = append(st.Requests, g.requests(v, repo.URL, expiries)...)
			if v.ChecksUnread > 0 {
				st.Unknown = append(st.Unknown, fmt.Sprintf("%s: the checks of %d older pull requests are not read here, to spare GitHub's rate limit; their pull requests show them.", full, v.ChecksUnread))
			}
		}
		st.Repositories = append(st.Repositories, repo)
	}
	if anyUnloaded {
		st.Unknown = append(st.Unknown, "The catalog and the merged requests of a repository show once this process has worked on it (its first resync, a webhook).")
	}
	if s.Rollout != nil {
		st.Targets = g.targets(ctx)
		if !st.Leader.Leading {
			st.Unknown = append(st.Unknown, "This replica does not lead: the objects of the last apply, the live drift, held commits and the next sync are known to the leader; the targets show the apply status read from GitHub.")
		}
	}
	return st
}

// blueprintOf is the catalog entry of bp in the repository at web.
func blueprintOf(bp *blueprint.Blueprint, web string) Blueprint {
	out := Blueprint{Name: bp.Name, Title: bp.Title, Description: bp.Description, Version: bp.Version, Parameters: []Parameter{},
		FormURL: web + "/issues/new?template=" + url.QueryEscape("gitvend-"+bp.Name+".yml")}
	for _, p := range bp.Parameters {
		par := Parameter{Name: p.Name, Type: string(p.Type), Required: p.Required, Description: p.Description}
		if p.Default != nil {
			par.Default = fmt.Sprint(p.Default)
		}
		out.Parameters = append(out.Parameters, par)
	}
	return out
}

// requests lists the open request issues with their pull requests, then
// the records on the desired-state branch of one repository. An open issue
// is not joined to a record of the same name: a merge closes its issue, so
// an open one asks for something not merged yet (or is refused).
func (g *Gatherer) requests(v bot.RepoView, web string, expiries []bot.ExpiryEntry) []Request {
	var out []Request
	for _, is := range v.Issues {
		if is.IsPullRequest {
			continue
		}
		r := Request{ID: strconv.Itoa(is.Number), Repository: v.Repo, State: StateOpen, Issue: is.Number, IssueURL: is.HTMLURL,
			Title: is.Title, Author: is.User, Blueprint: request.BlueprintFromTitle(is.Title)}
		if sec, err := request.FormSections(is.Body); err == nil {
			r.Name, r.Environment = sec[blueprint.LabelRequestName], sec[blueprint.LabelEnv]
			r.Namespace, r.Owner = sec[blueprint.LabelNamespace], sec[blueprint.LabelOwnerField]
		}
		if pr, ok := v.PRs[is.Number]; ok {
			r.State, r.PR, r.PRURL = StateInReview, pr.Number, pr.HTMLURL
			r.ViewURL = g.src.Links.PullRequest(v.Repo, pr.Number)
			_, read := v.Checks[is.Number]
			r.ChecksUnread = !read
			for _, c := range v.Checks[is.Number] {
				r.Checks = append(r.Checks, Check{Name: c.Name, Status: c.Status, Conclusion: c.Conclusion, Title: c.Title, URL: cmp.Or(c.HTMLURL, c.DetailsURL)})
			}
			slices.SortFunc(r.Checks, func(a, b Check) int { return strings.Compare(a.Name, b.Name) })
		}
		out = append(out, r)
	}
	for _, rec := range v.Records {
		if rec.Request == nil {
			continue
		}
		q := rec.Request
		out = append(out, Request{ID: q.Spec.Environment + "/" + q.Spec.Namespace + "/" + q.Metadata.Name, Repository: v.Repo,
			Name: q.Metadata.Name, Environment: q.Spec.Environment, Namespace: q.Spec.Namespace, Owner: q.Spec.Owner,
			Blueprint: q.Spec.Blueprint, State: StateMerged, Record: rec.Path,
			RecordURL: web + "/blob/" + cmp.Or(v.Revision, v.Branch) + "/" + rec.Path})
	}
	for i := range out {
		r := &out[i]
		for _, x := range expiries {
			if strings.EqualFold(x.Repo, v.Repo) && ((r.Issue != 0 && x.Issue == r.Issue) || (r.Issue == 0 && x.Name == r.Name && x.Environment == r.Environment)) {
				r.Expires = x.Due
			}
		}
	}
	return out
}

// targets reads every target's view, held commits and sync times.
func (g *Gatherer) targets(ctx context.Context) []Target {
	s := g.src
	held := s.Rollout.Held()
	var out []Target
	for _, name := range s.Rollout.Targets() {
		t := Target{Name: name, ViewURL: s.Links.Target(name)}
		v, _, err := s.Rollout.TargetView(ctx, name)
		if err != nil {
			s.Logger.Warn("status: read target", "target", name, "err", err)
			t.Error = "GitHub could not be read just now: " + err.Error()
		}
		t.Repository, t.Revision, t.State, t.Description, t.At = v.Repository, v.Revision, v.State, v.Description, v.At
		if t.Revision != "" && t.Repository != "" {
			t.RevisionURL = s.WebURL(t.Repository) + "/commit/" + t.Revision
		}
		for _, o := range v.Objects {
			t.Objects = append(t.Objects, Object(o))
		}
		t.DriftKnown = !v.Elsewhere
		for _, d := range v.Drift {
			t.Drift = append(t.Drift, Drift(d))
		}
		for _, h := range held {
			if h.Target == name {
				t.Held = append(t.Held, h)
			}
		}
		if p, ok := s.Rollout.NextSync(name); ok {
			t.LastSync, t.NextSync = p.Last.UTC(), p.Next.UTC()
		}
		out = append(out, t)
	}
	return out
}

// Request finds a request by repository and ID.
func (st *Status) Request(repo, id string) (Request, bool) {
	for _, r := range st.Requests {
		if strings.EqualFold(r.Repository, repo) && r.ID == id {
			return r, true
		}
	}
	return Request{}, false
}

// Target finds a target by name.
func (st *Status) Target(name string) (Target, bool) {
	for _, t := range st.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}
