package bot_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/queue"
	"github.com/gitvend/gitvend/internal/server"
)

const (
	appID  = 4242
	secret = "webhook-s3cret"
	repo   = "acme/infra"
)

// harness is gitvend's bot wired as in production (webhook server, queue,
// GitHub App client, git clones) against the GitHub test double.
type harness struct {
	t     testing.TB
	gh    *githubtest.Server
	bot   *bot.Bot
	queue *queue.Queue
	reg   *prometheus.Registry
	web   *httptest.Server
	opts  bot.Options // what the bot was built with, for another replica
}

// newHarness starts the double with the example desired-state repository,
// the bot, and people: alice (write, team payments), bob (read), carol
// (write, no team). As on start, the bot has made sure of its labels, so
// forms arrive labelled.
func newHarness(t testing.TB, opts ...func(*bot.Options)) *harness {
	t.Helper()
	h := newFreshHarness(t, opts...)
	if err := h.bot.EnsureLabels(context.Background(), repo); err != nil {
		t.Fatal(err)
	}
	return h
}

// newFreshHarness is newHarness on a repository without gitvend's labels:
// GitHub drops a form's labels the repository lacks.
func newFreshHarness(t testing.TB, opts ...func(*bot.Options)) *harness {
	t.Helper()
	return newHarnessOf(t, exampleFiles(t), opts...)
}

// newHarnessOf is newFreshHarness on a repository holding files.
func newHarnessOf(t testing.TB, files map[string]string, opts ...func(*bot.Options)) *harness {
	t.Helper()
	return newHarnessThrough(t, files, nil, opts...)
}

// newHarnessThrough is newHarnessOf with the bot's requests to GitHub
// going through transport (nil: straight to the double).
func newHarnessThrough(t testing.TB, files map[string]string, transport http.RoundTripper, opts ...func(*bot.Options)) *harness {
	t.Helper()
	ctx := context.Background()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := githubtest.Start(githubtest.Options{AppID: appID, AppPublicKey: &key.PublicKey, WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	if err := gh.CreateRepo(ctx, githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: files}); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.AddInstallation("acme", repo); err != nil {
		t.Fatal(err)
	}
	for user, perm := range map[string]string{"alice": "write", "bob": "read", "carol": "write"} {
		if err := gh.SetPermission(repo, user, perm); err != nil {
			t.Fatal(err)
		}
	}
	gh.SetTeamMembers("acme", "payments", "alice")
	gh.SetTeamMembers("acme", "platform")

	h := &harness{t: t, gh: gh, reg: prometheus.NewRegistry()}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	appOpts := []github.Option{github.WithLogger(log), github.WithRegisterer(h.reg), github.WithRetryPolicy(fastRetries())}
	if transport != nil {
		appOpts = append(appOpts, github.WithTransport(transport))
	}
	app, err := github.NewApp(github.AppConfig{APIURL: gh.URL() + "/", AppID: appID, PrivateKey: pemKey(key)}, appOpts...)
	if err != nil {
		t.Fatal(err)
	}
	o := bot.Options{
		Clients:    app,
		Git:        gitrepo.Clones{Cache: gitrepo.New(t.TempDir(), log), Remote: app},
		Login:      gh.BotLogin(),
		Author:     gitrepo.BotSignature(gh.BotLogin(), gh.BotUserID()),
		Repos:      map[string]string{repo: ""},
		ScratchDir: t.TempDir(),
		Logger:     log,
		Registerer: h.reg,
	}
	for _, f := range opts {
		f(&o)
	}
	h.opts = o
	if h.bot, err = bot.New(o); err != nil {
		t.Fatal(err)
	}
	h.queue = queue.New(queue.Options{Workers: 4, Capacity: 1000, Logger: log, Registerer: h.reg})
	qctx, cancel := context.WithCancel(ctx)
	go h.queue.Run(qctx)
	srv := server.New(server.Options{Secret: []byte(secret), Handler: bot.NewDispatcher(h.bot, h.queue, nil), Registry: h.reg, Logger: log})
	h.web = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		h.web.Close()
		cancel()
		sctx, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = h.queue.Shutdown(sctx)
	})
	gh.SetWebhookURL(h.web.URL + "/webhook")
	return h
}

// settle waits until every webhook is delivered and every queued job ran.
func (h *harness) settle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		if err := h.gh.WaitIdle(ctx); err != nil {
			h.t.Fatalf("webhooks: %v", err)
		}
		for st := h.queue.Stats(); st.Waiting+st.Running > 0; st = h.queue.Stats() {
			select {
			case <-ctx.Done():
				h.t.Fatalf("queue still busy: %+v", st)
			case <-time.After(5 * time.Millisecond):
			}
		}
		// A job may have caused new webhooks (the bot's own PR, say).
		if err := h.gh.WaitIdle(ctx); err != nil {
			h.t.Fatalf("webhooks: %v", err)
		}
		if st := h.queue.Stats(); st.Waiting+st.Running == 0 {
			return
		}
	}
}

// openForm opens an issue as GitHub does from the blueprint's form.
func (h *harness) openForm(user, blueprint string, fields map[string]string) int {
	h.t.Helper()
	var body strings.Builder
	for _, label := range []string{"Request name", "Environment", "Namespace", "Owner"} {
		fmt.Fprintf(&body, "### %s\n\n%s\n\n", label, orNoResponse(fields[label]))
	}
	for label, v := range fields {
		switch label {
		case "Request name", "Environment", "Namespace", "Owner":
			continue
		}
		fmt.Fprintf(&body, "### %s\n\n%s\n\n", label, orNoResponse(v))
	}
	n, err := h.gh.OpenIssue(context.Background(), repo, githubtest.IssueSpec{User: user,
		Title: "[gitvend] " + blueprint + ": " + fields["Request name"], Body: body.String(), Labels: []string{"gitvend"}})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func orNoResponse(s string) string {
	if s == "" {
		return "_No response_"
	}
	return s
}

func (h *harness) comment(n int, user, body string) {
	h.t.Helper()
	if _, err := h.gh.Comment(context.Background(), repo, n, user, body); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) pulls() []githubtest.PullRequest {
	h.t.Helper()
	prs, err := h.gh.PullRequests(repo)
	if err != nil {
		h.t.Fatal(err)
	}
	return prs
}

func (h *harness) issue(n int) githubtest.Issue {
	h.t.Helper()
	is, err := h.gh.Issue(repo, n)
	if err != nil {
		h.t.Fatal(err)
	}
	return is
}

// botComments are the bot's comments on issue or PR n.
func (h *harness) botComments(n int) []string {
	var out []string
	for _, c := range h.issue(n).Comments {
		if c.User == h.gh.BotLogin() {
			out = append(out, c.Body)
		}
	}
	return out
}

func (h *harness) checkRuns(sha string) map[string]githubtest.CheckRun {
	h.t.Helper()
	runs, err := h.gh.CheckRuns(repo)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]githubtest.CheckRun{}
	for _, r := range runs {
		if r.HeadSHA == sha {
			if _, dup := out[r.Name]; dup {
				h.t.Errorf("check run %s posted twice on %.12s", r.Name, sha)
			}
			out[r.Name] = r
		}
	}
	return out
}

func (h *harness) files(ref string) map[string]string {
	h.t.Helper()
	files, err := h.gh.Files(context.Background(), repo, ref)
	if err != nil {
		h.t.Fatal(err)
	}
	return files
}

// exampleFiles reads the example desired-state repository.
func exampleFiles(t testing.TB) map[string]string {
	t.Helper()
	files, err := githubtest.ReadFiles(filepath.Join("..", "..", "examples", "desired-state"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func pemKey(key *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func fastRetries() github.RetryPolicy {
	return github.RetryPolicy{MaxAttempts: 6, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxRateLimitWait: 5 * time.Second}
}

// jobErrors counts the bot's jobs that ended in an error.
func (h *harness) jobErrors() float64 {
	h.t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "gitvend_bot_jobs_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == "error" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
