package githubtest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

const (
	testAppID  = 4242
	testSecret = "webhook-secret"
	testRepo   = "acme/infra"
)

// testKey is one RSA key shared by the tests of this binary; generating a
// key per test would dominate the run time.
var testKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// received is one webhook as the receiving end saw it.
type received struct {
	Event      string
	Delivery   string
	Signature  string
	UserAgent  string
	Validated  bool
	Payload    []byte
	ParsedType string
}

// hookSink is a webhook receiver that checks signatures.
type hookSink struct {
	srv *httptest.Server

	mu     sync.Mutex
	got    []received
	status int
}

func newHookSink(t *testing.T) *hookSink {
	t.Helper()
	h := &hookSink{status: http.StatusOK}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		m := hmac.New(sha256.New, []byte(testSecret))
		m.Write(body)
		want := "sha256=" + hex.EncodeToString(m.Sum(nil))
		rec := received{
			Event: r.Header.Get("X-GitHub-Event"), Delivery: r.Header.Get("X-GitHub-Delivery"),
			Signature: r.Header.Get("X-Hub-Signature-256"), UserAgent: r.Header.Get("User-Agent"),
			Validated: hmac.Equal([]byte(want), []byte(r.Header.Get("X-Hub-Signature-256"))),
			Payload:   body,
		}
		if ev, err := github.ParseWebHook(rec.Event, body); err == nil {
			rec.ParsedType = typeName(ev)
		}
		h.mu.Lock()
		h.got = append(h.got, rec)
		status := h.status
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func typeName(v any) string {
	switch v.(type) {
	case *github.IssuesEvent:
		return "IssuesEvent"
	case *github.IssueCommentEvent:
		return "IssueCommentEvent"
	case *github.PullRequestEvent:
		return "PullRequestEvent"
	case *github.PushEvent:
		return "PushEvent"
	case *github.CheckSuiteEvent:
		return "CheckSuiteEvent"
	case *github.CheckRunEvent:
		return "CheckRunEvent"
	}
	return "other"
}

func (h *hookSink) received() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

// events lists "event/action" of what the sink received, in order.
func (h *hookSink) events() []string {
	var out []string
	for _, r := range h.received() {
		var p struct {
			Action string `json:"action"`
		}
		_ = json.Unmarshal(r.Payload, &p)
		if p.Action == "" {
			out = append(out, r.Event)
			continue
		}
		out = append(out, r.Event+"/"+p.Action)
	}
	return out
}

func (h *hookSink) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = nil
}

// fixture is a server with one repository, an installation, a webhook sink
// and go-github clients for the App and the installation.
type fixture struct {
	gh     *Server
	key    *rsa.PrivateKey
	inst   int64
	sink   *hookSink
	itr    *ghinstallation.Transport
	client *github.Client
	app    *github.Client
	ctx    context.Context
}

type fixtureOptions struct {
	opts      Options
	transport func(http.RoundTripper) http.RoundTripper
	files     map[string]string
	// grants are App permissions the installation gets besides the
	// default ones, such as administration: read.
	grants map[string]string
}

func newFixture(t *testing.T, fo fixtureOptions) *fixture {
	t.Helper()
	key, err := testKey()
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	sink := newHookSink(t)
	opts := fo.opts
	opts.AppID = testAppID
	opts.AppPublicKey = &key.PublicKey
	opts.WebhookSecret = testSecret
	if opts.WebhookURL == "" {
		opts.WebhookURL = sink.srv.URL
	}
	gh, err := Start(opts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(gh.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	files := fo.files
	if files == nil {
		files = map[string]string{"gitvend.yaml": "environments:\n  - dev\n", "README.md": "# infra\n"}
	}
	if err := gh.CreateRepo(ctx, RepoSpec{Owner: "acme", Name: "infra", Files: files}); err != nil {
		t.Fatalf("create repo: %v", err)
	}
	inst, err := gh.AddInstallation("acme", testRepo)
	if err != nil {
		t.Fatalf("add installation: %v", err)
	}
	for name, level := range fo.grants {
		if err := gh.SetInstallationPermission("acme", name, level); err != nil {
			t.Fatal(err)
		}
	}
	var base http.RoundTripper = http.DefaultTransport
	if fo.transport != nil {
		base = fo.transport(base)
	}
	atr := ghinstallation.NewAppsTransportFromPrivateKey(base, testAppID, key)
	atr.BaseURL = gh.URL()
	itr := ghinstallation.NewFromAppsTransport(atr, inst)
	itr.BaseURL = gh.URL()
	// An empty options object makes ghinstallation send "{}" instead of "null".
	itr.InstallationTokenOptions = &github.InstallationTokenOptions{}
	client, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(gh.URL()+"/", gh.URL()+"/")
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	app, err := github.NewClient(&http.Client{Transport: atr}).WithEnterpriseURLs(gh.URL()+"/", gh.URL()+"/")
	if err != nil {
		t.Fatalf("app client: %v", err)
	}
	return &fixture{gh: gh, key: key, inst: inst, sink: sink, itr: itr, client: client, app: app, ctx: ctx}
}

// idle waits for every webhook to be delivered.
func (f *fixture) idle(t *testing.T) {
	t.Helper()
	if err := f.gh.WaitIdle(f.ctx); err != nil {
		t.Fatal(err)
	}
}

// token returns a fresh installation token through the App.
func (f *fixture) token(t *testing.T) string {
	t.Helper()
	tok, err := f.itr.Token(f.ctx)
	if err != nil {
		t.Fatalf("installation token: %v", err)
	}
	return tok
}
