package status_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/permalink"
	"github.com/gitvend/gitvend/internal/queue"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/rollout"
	"github.com/gitvend/gitvend/internal/status"
)

// fakeBot answers as the bot does after a resync of acme/infra.
type fakeBot struct {
	view  bot.RepoView
	err   error
	reads int
}

func (b *fakeBot) RepoView(_ context.Context, full string) (bot.RepoView, error) {
	b.reads++
	v := b.view
	v.Repo = full
	return v, b.err
}

func (b *fakeBot) Expiries() []bot.ExpiryEntry {
	return []bot.ExpiryEntry{{Repo: "acme/infra", Issue: 7, Name: "preview-1", Environment: "dev", Due: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}}
}

func (b *fakeBot) Protections() []bot.ProtectionNotice {
	return []bot.ProtectionNotice{{Repo: "acme/infra", Branch: "main", Protected: true, Required: []string{"gitvend/policy"},
		Missing: []string{"gitvend/approval"}, Notice: "A merge can skip approvals."}}
}

// fakeRollout has two targets: dev, applied and watched here, and prod,
// known only from GitHub (as on a replica that does not lead).
type fakeRollout struct{}

func (fakeRollout) Targets() []string { return []string{"dev", "prod"} }

func (fakeRollout) TargetView(_ context.Context, name string) (permalink.Target, bool, error) {
	switch name {
	case "dev":
		return permalink.Target{Name: "dev", Repository: "acme/infra", Revision: "0123456789abcdef0123", State: "success",
			Description: "1 created", At: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
			Objects: []permalink.Applied{{Action: "created", Object: "Deployment/team-a/web", Status: "Current"}},
			Drift:   []permalink.Drift{{Object: "Service/team-a/web", Fields: []string{"spec.ports"}}}}, true, nil
	case "prod":
		return permalink.Target{Name: "prod", Repository: "acme/infra", Elsewhere: true}, true, errors.New("GitHub answered 502")
	}
	return permalink.Target{}, false, nil
}

func (fakeRollout) NextSync(target string) (rollout.SyncPlan, bool) {
	if target != "dev" {
		return rollout.SyncPlan{}, false
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	return rollout.SyncPlan{Last: at, Next: at.Add(5 * time.Minute)}, true
}

func (fakeRollout) Held() []rollout.HeldApply {
	return []rollout.HeldApply{{Target: "dev", Repository: "acme/infra", Revision: "fedcba9876543210", Window: "freeze", Environment: "dev"}}
}

func sampleBot(t *testing.T) *fakeBot {
	t.Helper()
	rec, err := request.Parse([]byte("apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata:\n  name: web\nspec:\n  blueprint: web-service\n  environment: dev\n  namespace: team-a\n  owner: team-a\n"))
	if err != nil {
		t.Fatal(err)
	}
	form := "### Request name\n\npreview-1\n\n### Environment\n\ndev\n\n### Namespace\n\nteam-a\n\n### Owner\n\nteam-a\n"
	return &fakeBot{view: bot.RepoView{Branch: "main", Revision: "abcabcabcabc", Label: "gitvend",
		Blueprints: []*blueprint.Blueprint{{Name: "web-service", Title: "Web service", Version: 2,
			Parameters: []*blueprint.Parameter{{Name: "image", Type: "string", Required: true}, {Name: "replicas", Type: "integer", Default: int64(2)}}}},
		Records: []desired.Record{{Path: "requests/dev/team-a/web.yaml", Request: rec}, {Path: "requests/dev/x/broken.yaml", Err: errors.New("bad")}},
		Issues: []github.Issue{
			{Number: 7, Title: "[gitvend] preview: preview-1", Body: form, User: "alice", HTMLURL: "https://github.com/acme/infra/issues/7"},
			{Number: 8, Title: `[gitvend] web-service: <script>alert("x")</script>`, Body: "### Owner\n\n<img src=x onerror=alert(1)>", User: "mallory",
				HTMLURL: "https://github.com/acme/infra/issues/8"},
			{Number: 9, Title: "a pull request", IsPullRequest: true},
		},
		PRs: map[int]github.PullRequest{7: {Number: 12, HTMLURL: "https://github.com/acme/infra/pull/12", HeadSHA: "aaa"}},
		Checks: map[int][]github.CheckRun{7: {
			{Name: "gitvend/policy", Status: "completed", Conclusion: "failure", HTMLURL: "https://github.com/acme/infra/runs/1"},
			{Name: "other/ci", Status: "in_progress", DetailsURL: "javascript:alert(1)"},
		}},
	}}
}

func gatherer(b status.Bot, r status.Rollout, leading bool) *status.Gatherer {
	return status.NewGatherer(status.Sources{Version: "1.2.3", Started: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		Repositories: []string{"acme/infra"}, Bot: b, Rollout: r,
		Queue:    func() queue.Stats { return queue.Stats{Workers: 4, Capacity: 100, Waiting: 2, Running: 1} },
		Leader:   func() status.Leader { return status.Leader{Election: true, Leading: leading, Identity: "pod-a"} },
		Links:    permalink.New("https://gitvend.example.com", []byte("secret")),
		CacheFor: time.Hour})
}

func TestGatherJoinsWhatTheProcessKeeps(t *testing.T) {
	b := sampleBot(t)
	st := gatherer(b, fakeRollout{}, true).Status(context.Background())

	if len(st.Repositories) != 1 || st.Repositories[0].URL != "https://github.com/acme/infra" || st.Repositories[0].Protection == nil {
		t.Fatalf("repositories: %+v", st.Repositories)
	}
	cat := st.Repositories[0].Catalog
	if len(cat) != 1 || cat[0].FormURL != "https://github.com/acme/infra/issues/new?template=gitvend-web-service.yml" ||
		len(cat[0].Parameters) != 2 || cat[0].Parameters[1].Default != "2" || !cat[0].Parameters[0].Required {
		t.Errorf("catalog: %+v", cat)
	}
	// Two open request issues (not the pull request), one readable record.
	if len(st.Requests) != 3 {
		t.Fatalf("requests: %+v", st.Requests)
	}
	p := st.Requests[0]
	if p.ID != "7" || p.State != status.StateInReview || p.PR != 12 || p.Name != "preview-1" || p.Owner != "team-a" ||
		p.Environment != "dev" || len(p.Checks) != 2 || !p.Expires.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) ||
		!strings.HasPrefix(p.ViewURL, "https://gitvend.example.com/v/") {
		t.Errorf("request in review: %+v", p)
	}
	if o := st.Requests[1]; o.ID != "8" || o.State != status.StateOpen || o.PR != 0 || o.Author != "mallory" {
		t.Errorf("open request: %+v", o)
	}
	m := st.Requests[2]
	if m.ID != "dev/team-a/web" || m.State != status.StateMerged || m.Blueprint != "web-service" ||
		m.RecordURL != "https://github.com/acme/infra/blob/abcabcabcabc/requests/dev/team-a/web.yaml" || !m.Expires.IsZero() {
		t.Errorf("merged request: %+v", m)
	}

	dev, ok := st.Target("dev")
	if !ok || !dev.DriftKnown || len(dev.Drift) != 1 || len(dev.Objects) != 1 || len(dev.Held) != 1 || dev.NextSync.IsZero() ||
		dev.RevisionURL != "https://github.com/acme/infra/commit/0123456789abcdef0123" || dev.ViewURL == "" {
		t.Errorf("dev: %+v", dev)
	}
	prod, _ := st.Target("prod")
	if prod.DriftKnown || !prod.NextSync.IsZero() || !strings.Contains(prod.Error, "502") {
		t.Errorf("prod: %+v", prod)
	}
	if st.Queue.Running != 1 || st.Leader.Identity != "pod-a" || len(st.Unknown) != 0 {
		t.Errorf("server: %+v %+v %q", st.Queue, st.Leader, st.Unknown)
	}
}

// A process that has not checked the repository out yet, or does not
// lead, says what it does not know instead of showing empty lists as facts.
func TestGatherSaysWhatIsNotKnown(t *testing.T) {
	b := &fakeBot{view: bot.RepoView{Branch: "main"}, err: errors.New("GitHub answered 502")}
	st := gatherer(b, fakeRollout{}, false).Status(context.Background())
	if len(st.Unknown) != 2 || !strings.Contains(st.Unknown[0], "catalog") || !strings.Contains(st.Unknown[1], "does not lead") {
		t.Errorf("unknown: %q", st.Unknown)
	}
	if !strings.Contains(st.Repositories[0].Error, "502") {
		t.Errorf("repository error: %+v", st.Repositories[0])
	}
	html := get(t, status.Handler(staticSource{st}, nil), "/", http.StatusOK)
	for _, want := range []string{"Not read yet by this process", "does not lead", "GitHub could not be read just now", "another replica"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestGatherReadsOncePerCachePeriod(t *testing.T) {
	b := sampleBot(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	g := status.NewGatherer(status.Sources{Repositories: []string{"acme/infra"}, Bot: b, CacheFor: 5 * time.Second,
		Now: func() time.Time { return now }})
	g.Status(context.Background())
	g.Status(context.Background())
	now = now.Add(6 * time.Second)
	g.Status(context.Background())
	if b.reads != 2 {
		t.Errorf("GitHub read %d times for three page loads over two periods", b.reads)
	}
}

type staticSource struct{ st *status.Status }

func (s staticSource) Status(context.Context) *status.Status { return s.st }

func get(t *testing.T, h http.Handler, path string, code int) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != code {
		t.Fatalf("GET %s: %d, want %d\n%s", path, rec.Code, code, body)
	}
	return string(body)
}

func TestPagesAndAPIRenderOneModel(t *testing.T) {
	st := gatherer(sampleBot(t), fakeRollout{}, true).Status(context.Background())
	h := status.Handler(staticSource{st}, nil)

	var back status.Status
	if err := json.Unmarshal([]byte(get(t, h, "/api/status", http.StatusOK)), &back); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(st)
	got, _ := json.Marshal(&back)
	if string(want) != string(got) {
		t.Errorf("/api/status is not the model:\n%s\n%s", got, want)
	}
	var r status.Request
	if err := json.Unmarshal([]byte(get(t, h, "/api/requests/acme/infra/dev/team-a/web", http.StatusOK)), &r); err != nil || r.State != status.StateMerged {
		t.Errorf("/api/requests: %+v %v", r, err)
	}
	var tg status.Target
	if err := json.Unmarshal([]byte(get(t, h, "/api/targets/dev", http.StatusOK)), &tg); err != nil || tg.Name != "dev" {
		t.Errorf("/api/targets: %+v %v", tg, err)
	}
	get(t, h, "/api/targets/nowhere", http.StatusNotFound)
	get(t, h, "/api/requests/acme/infra/99", http.StatusNotFound)
	get(t, h, "/requests/other/repo/7", http.StatusNotFound)

	home := get(t, h, "/", http.StatusOK)
	for _, want := range []string{`href="/requests/acme/infra/7"`, `href="/requests/acme/infra/dev/team-a/web"`, `href="/targets/dev"`,
		`href="https://github.com/acme/infra/issues/new?template=gitvend-web-service.yml"`, "A merge can skip approvals.",
		"does not require gitvend/approval", "1 running, 2 waiting of 100, 4 workers", "this process", "freeze"} {
		if !strings.Contains(home, want) {
			t.Errorf("status page lacks %s", want)
		}
	}
	req := get(t, h, "/requests/acme/infra/7", http.StatusOK)
	for _, want := range []string{`href="https://github.com/acme/infra/pull/12"`, `href="https://github.com/acme/infra/runs/1"`,
		"2030-01-02 03:04:05 UTC", `href="https://gitvend.example.com/v/`} {
		if !strings.Contains(req, want) {
			t.Errorf("request page lacks %s", want)
		}
	}
	tp := get(t, h, "/targets/dev", http.StatusOK)
	for _, want := range []string{"Drift (1)", "spec.ports", "Deployment/team-a/web", "Current", "fedcba987654"} {
		if !strings.Contains(tp, want) {
			t.Errorf("target page lacks %s", want)
		}
	}
	if p := get(t, h, "/targets/prod", http.StatusOK); !strings.Contains(p, "Not known to this process") {
		t.Errorf("prod page claims to know its drift:\n%s", p)
	}
}

// Anyone who may open an issue writes its title and body, and any App may
// post a check run: the pages show them as text, and a script URL never
// becomes a link.
func TestPagesEscapeWhatPeopleWrote(t *testing.T) {
	st := gatherer(sampleBot(t), fakeRollout{}, true).Status(context.Background())
	h := status.Handler(staticSource{st}, nil)
	for _, path := range []string{"/", "/requests/acme/infra/8", "/requests/acme/infra/7"} {
		page := get(t, h, path, http.StatusOK)
		for _, bad := range []string{`<script>alert`, `<img src=x`, `href="javascript:`} {
			if strings.Contains(page, bad) {
				t.Errorf("%s carries %s", path, bad)
			}
		}
	}
	// The page's own style and script carry the response's nonce; nothing
	// else may run.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	_, nonce, _ := strings.Cut(csp, "script-src 'nonce-")
	nonce, _, _ = strings.Cut(nonce, "'")
	body := rec.Body.String()
	if nonce == "" || !strings.HasPrefix(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") ||
		strings.Count(body, "<script") != 1 || !strings.Contains(body, `<script nonce="`+nonce+`">`) ||
		!strings.Contains(body, `<style nonce="`+nonce+`">`) {
		t.Errorf("Content-Security-Policy %q does not match the page's script and style", csp)
	}
	if page := get(t, h, "/requests/acme/infra/8", http.StatusOK); !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("the title is not shown as text:\n%s", page)
	}
}
