package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	gh "github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/queue"
)

const secret = "It's a Secret to Everybody"

const issuePayload = `{"action":"opened","issue":{"number":7,"title":"need a namespace"},
"repository":{"full_name":"acme/infra","name":"infra","owner":{"login":"acme"}},
"installation":{"id":42},"sender":{"login":"alice"}}`

// recorder is a WebhookHandler that records what it gets.
type recorder struct {
	mu    sync.Mutex
	hooks []Webhook
	err   error
	panic bool
}

func (r *recorder) HandleWebhook(ctx context.Context, hook Webhook) error {
	if r.panic {
		panic("handler exploded")
	}
	logctx.LoggerFrom(ctx).Info("handler saw it")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hooks = append(r.hooks, hook)
	return r.err
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hooks)
}

// fixture is a server under test with its registry and logs.
type fixture struct {
	srv  *Server
	reg  *prometheus.Registry
	logs *bytes.Buffer
	rec  *recorder
}

func newFixture(t *testing.T, edit func(*Options)) *fixture {
	t.Helper()
	f := &fixture{reg: prometheus.NewRegistry(), logs: &bytes.Buffer{}, rec: &recorder{}}
	opts := Options{
		Secret:   []byte(secret),
		Handler:  f.rec,
		Registry: f.reg,
		Logger:   slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&opts)
	}
	f.srv = New(opts)
	return f
}

func sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// delivery is one request to /webhook.
type delivery struct {
	method  string
	event   string
	id      string
	body    string
	sig     string // "" signs with the right secret; "-" sends no signature
	headers map[string]string
	chunked bool
}

func (f *fixture) send(t *testing.T, d delivery) *httptest.ResponseRecorder {
	t.Helper()
	if d.method == "" {
		d.method = http.MethodPost
	}
	var body io.Reader = strings.NewReader(d.body)
	if d.chunked {
		body = io.MultiReader(body) // hides the length: no Content-Length
	}
	req := httptest.NewRequest(d.method, "/webhook", body)
	if d.chunked {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", "application/json")
	if d.event != "" {
		req.Header.Set("X-GitHub-Event", d.event)
	}
	if d.id != "" {
		req.Header.Set("X-GitHub-Delivery", d.id)
	}
	switch d.sig {
	case "":
		req.Header.Set("X-Hub-Signature-256", sign(secret, []byte(d.body)))
	case "-":
	default:
		req.Header.Set("X-Hub-Signature-256", d.sig)
	}
	for k, v := range d.headers {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	return w
}

// counter reads gitvend_webhooks_total for one event and outcome.
func (f *fixture) counter(t *testing.T, event, outcome string) float64 {
	t.Helper()
	var m dto.Metric
	if err := f.srv.metrics.webhooks.WithLabelValues(event, outcome).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestWebhookAcceptedOnceThenDeduplicated(t *testing.T) {
	f := newFixture(t, nil)
	d := delivery{event: "issues", id: "d-1", body: issuePayload}
	w := f.send(t, d)
	if w.Code != http.StatusAccepted || w.Body.String() != "accepted\n" {
		t.Fatalf("first delivery: %d %q", w.Code, w.Body.String())
	}
	if f.rec.calls() != 1 {
		t.Fatalf("handler calls = %d, want 1", f.rec.calls())
	}
	got := f.rec.hooks[0]
	want := Webhook{Event: "issues", DeliveryID: "d-1", InstallationID: 42, Repo: "acme/infra", Sender: "alice"}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(Webhook{}, "Payload", "Received")); d != "" {
		t.Errorf("webhook (-want +got):\n%s", d)
	}
	if ev, ok := got.Payload.(*gh.IssuesEvent); !ok || ev.GetIssue().GetNumber() != 7 {
		t.Errorf("payload = %#v, want *github.IssuesEvent for issue 7", got.Payload)
	}
	if time.Since(got.Received) > time.Minute {
		t.Errorf("received = %v", got.Received)
	}

	w = f.send(t, d)
	if w.Code != http.StatusOK || f.rec.calls() != 1 {
		t.Errorf("redelivery: %d, handler calls %d; want 200 and still 1", w.Code, f.rec.calls())
	}
	if f.counter(t, "issues", OutcomeAccepted) != 1 || f.counter(t, "issues", OutcomeDuplicate) != 1 {
		t.Errorf("metrics accepted=%v duplicate=%v", f.counter(t, "issues", OutcomeAccepted), f.counter(t, "issues", OutcomeDuplicate))
	}
}

func TestWebhookRefusals(t *testing.T) {
	big := `{"action":"opened","pad":"` + strings.Repeat("x", 2048) + `"}`
	tests := []struct {
		name    string
		edit    func(*Options)
		d       delivery
		code    int
		outcome string
		event   string // metric label
	}{
		{name: "unsigned", d: delivery{event: "issues", id: "1", body: issuePayload, sig: "-"}, code: 401, outcome: OutcomeBadSignature},
		{name: "forged", d: delivery{event: "issues", id: "1", body: issuePayload, sig: sign("guess", []byte(issuePayload))}, code: 401, outcome: OutcomeBadSignature},
		{name: "sha1 only", d: delivery{event: "issues", id: "1", body: issuePayload, sig: "-", headers: map[string]string{"X-Hub-Signature": "sha1=0000"}}, code: 401, outcome: OutcomeBadSignature},
		{name: "sha512 in the sha256 header", d: delivery{event: "issues", id: "1", body: issuePayload, sig: "sha512=00"}, code: 401, outcome: OutcomeBadSignature},
		{name: "not hex", d: delivery{event: "issues", id: "1", body: issuePayload, sig: "sha256=zz"}, code: 401, outcome: OutcomeBadSignature},
		{name: "unsigned garbage is refused before parsing", d: delivery{event: "issues", id: "1", body: "{not json", sig: "-"}, code: 401, outcome: OutcomeBadSignature},
		{name: "forged garbage is refused before parsing", d: delivery{event: "issues", id: "1", body: "{not json", sig: sign("guess", []byte("{not json"))}, code: 401, outcome: OutcomeBadSignature},
		{name: "no secret configured", edit: func(o *Options) { o.Secret = nil }, d: delivery{event: "issues", id: "1", body: issuePayload, sig: sign("", []byte(issuePayload))}, code: 401, outcome: OutcomeBadSignature},
		{name: "too large by Content-Length", edit: func(o *Options) { o.MaxBodyBytes = 1024 }, d: delivery{event: "issues", id: "1", body: big}, code: 413, outcome: OutcomeTooLarge},
		{name: "too large while reading", edit: func(o *Options) { o.MaxBodyBytes = 1024 }, d: delivery{event: "issues", id: "1", body: big, chunked: true}, code: 413, outcome: OutcomeTooLarge},
		{name: "wrong content type", d: delivery{event: "issues", id: "1", body: issuePayload, headers: map[string]string{"Content-Type": "text/plain"}}, code: 415, outcome: OutcomeBadRequest},
		{name: "no event header", d: delivery{id: "1", body: issuePayload}, code: 400, outcome: OutcomeBadRequest, event: "other"},
		{name: "no delivery header", d: delivery{event: "issues", body: issuePayload}, code: 400, outcome: OutcomeBadRequest},
		{name: "signed but not JSON", d: delivery{event: "issues", id: "1", body: "{not json"}, code: 400, outcome: OutcomeBadRequest},
		{name: "event not handled", d: delivery{event: "star", id: "1", body: `{"action":"created"}`}, code: 202, outcome: OutcomeIgnored, event: "other"},
		{name: "event unknown to go-github", d: delivery{event: "brand_new_event", id: "1", body: `{}`}, code: 202, outcome: OutcomeIgnored, event: "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.edit)
			w := f.send(t, tt.d)
			if w.Code != tt.code {
				t.Errorf("status = %d %q, want %d", w.Code, w.Body.String(), tt.code)
			}
			if n := f.rec.calls(); n != 0 {
				t.Errorf("handler was called %d times; it must not be", n)
			}
			event := tt.event
			if event == "" {
				event = "issues"
			}
			if got := f.counter(t, event, tt.outcome); got != 1 {
				t.Errorf("gitvend_webhooks_total{event=%q,outcome=%q} = %v, want 1", event, tt.outcome, got)
			}
		})
	}
}

func TestWrongMethod(t *testing.T) {
	f := newFixture(t, nil)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		w := f.send(t, delivery{method: m, event: "issues", id: "1", body: issuePayload})
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
			t.Errorf("%s /webhook: %d, Allow %q; want 405, POST", m, w.Code, w.Header().Get("Allow"))
		}
	}
	if f.rec.calls() != 0 {
		t.Error("handler was called")
	}
}

func TestHandlerErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		panic   bool
		code    int
		body    string
		outcome string
	}{
		{"queue full", fmt.Errorf("queue job: %w", queue.ErrFull), false, 503, "busy: queue full, retry later\n", OutcomeQueueFull},
		{"other error", errors.New("clone failed: token ghs_very_secret"), false, 500, "internal error\n", OutcomeError},
		{"panic", nil, true, 500, "internal error\n", OutcomeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.rec.err, f.rec.panic = tt.err, tt.panic
			d := delivery{event: "issues", id: "d-9", body: issuePayload}
			w := f.send(t, d)
			if w.Code != tt.code || w.Body.String() != tt.body {
				t.Errorf("answer = %d %q, want %d %q", w.Code, w.Body.String(), tt.code, tt.body)
			}
			if f.counter(t, "issues", tt.outcome) != 1 {
				t.Errorf("outcome %s not counted", tt.outcome)
			}
			if !strings.Contains(f.logs.String(), `"level":"ERROR"`) && tt.code == 500 {
				t.Errorf("no error logged:\n%s", f.logs)
			}
			// A delivery that was not handed on is processed when GitHub redelivers it.
			f.rec.err, f.rec.panic = nil, false
			if w := f.send(t, d); w.Code != http.StatusAccepted {
				t.Errorf("redelivery after %s: %d, want 202", tt.name, w.Code)
			}
		})
	}
}

func TestDeliveryLogLines(t *testing.T) {
	f := newFixture(t, nil)
	f.send(t, delivery{event: "issues", id: "d-42", body: issuePayload})
	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want the handler's line and the server's line, got:\n%s", f.logs)
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		got := map[string]any{"delivery": rec["delivery"], "event": rec["event"], "repo": rec["repo"]}
		want := map[string]any{"delivery": "d-42", "event": "issues", "repo": "acme/infra"}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("log line %q (-want +got):\n%s", rec["msg"], d)
		}
	}
}

func TestProbesStatusAndMetrics(t *testing.T) {
	var readyErr error
	f := newFixture(t, func(o *Options) {
		o.Ready = func(context.Context) error { return readyErr }
		o.Status = func() any {
			return map[string]any{"queue": map[string]int{"waiting": 3}, "note": "<script>alert(1)</script>"}
		}
	})
	f.send(t, delivery{event: "issues", id: "1", body: issuePayload})
	tests := []struct {
		name, method, path string
		ops                bool // ask the ops listener, not the public one
		setup              func()
		code               int
		contains           string
	}{
		{"healthz", "GET", "/healthz", false, nil, 200, "ok"},
		{"healthz on ops", "GET", "/healthz", true, nil, 200, "ok"},
		{"readyz ready", "GET", "/readyz", false, nil, 200, "ok"},
		{"readyz not ready", "GET", "/readyz", false, func() { readyErr = errors.New("github unreachable") }, 503, "not ready\n"},
		{"readyz verbose on ops", "GET", "/readyz?verbose", true, nil, 503, "not ready: github unreachable"},
		{"readyz verbose on public keeps the reason", "GET", "/readyz?verbose", false, nil, 503, "not ready\n"},
		{"metrics", "GET", "/metrics", true, nil, 200, `gitvend_webhooks_total{event="issues",outcome="accepted"} 1`},
		{"status page", "GET", "/", true, nil, 200, `&#34;waiting&#34;: 3`},
		{"status page escapes", "GET", "/", true, nil, 200, "&lt;script&gt;"},
		{"unknown path", "GET", "/nope", false, nil, 404, ""},
		{"unknown path on ops", "GET", "/nope", true, nil, 404, ""},
		{"webhook not on ops", "POST", "/webhook", true, nil, 404, ""},
		{"POST to a probe", "POST", "/healthz", false, nil, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			h := f.srv.Handler()
			if tt.ops {
				h = f.srv.OpsHandler()
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.contains) {
				t.Errorf("%s %s = %d\n%s\nwant %d containing %q", tt.method, tt.path, w.Code, w.Body.String(), tt.code, tt.contains)
			}
			if !tt.ops && strings.Contains(w.Body.String(), "github unreachable") {
				t.Errorf("the public listener tells why it is not ready:\n%s", w.Body.String())
			}
			if strings.Contains(w.Body.String(), "<script>") {
				t.Errorf("status page does not escape:\n%s", w.Body.String())
			}
		})
	}
}

func TestPanicOutsideWebhook(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Status = func() any { panic("status broke") } })
	w := httptest.NewRecorder()
	f.srv.OpsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || !strings.Contains(f.logs.String(), "status broke") {
		t.Errorf("status panic: %d; logs:\n%s", w.Code, f.logs)
	}
}

func TestServeAndShutdown(t *testing.T) {
	f := newFixture(t, nil)
	var lns []net.Listener
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, lns[0], lns[1]) }()
	for _, ln := range lns {
		resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("healthz over TCP on %s = %d", ln.Addr(), resp.StatusCode)
		}
	}
	if err := f.srv.Serve(ctx, newListener(t), nil); err == nil {
		t.Error("a second Serve was accepted")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	for _, ln := range lns {
		if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
			t.Errorf("server still answers on %s after shutdown", ln.Addr())
		}
	}
}

func TestRunRefusesABusyPort(t *testing.T) {
	taken := newListener(t)
	f := newFixture(t, nil)
	err := f.srv.Run(context.Background(), "127.0.0.1:0", taken.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "listen on "+taken.Addr().String()) {
		t.Errorf("Run with the ops port taken: %v", err)
	}
}

// newListener opens a loopback listener closed at the end of the test.
func newListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestSpaceSeparatedTimestamps(t *testing.T) {
	f := newFixture(t, nil)
	body := `{"action":"rerequested","check_run":{"id":5,"name":"gitvend/policy","app":{"id":1,"created_at":"2018-04-25 20:42:10"}},
"repository":{"full_name":"acme/infra"},"installation":{"id":3},"sender":{"login":"bob"},"note":"2018-04-25 20:42:10 stays"}`
	if w := f.send(t, delivery{event: "check_run", id: "c-1", body: body}); w.Code != http.StatusAccepted {
		t.Fatalf("answer %d %q", w.Code, w.Body.String())
	}
	ev, ok := f.rec.hooks[0].Payload.(*gh.CheckRunEvent)
	if !ok {
		t.Fatalf("payload = %T", f.rec.hooks[0].Payload)
	}
	want := time.Date(2018, 4, 25, 20, 42, 10, 0, time.UTC)
	if got := ev.GetCheckRun().GetApp().GetCreatedAt().Time; !got.Equal(want) || ev.GetCheckRun().GetID() != 5 {
		t.Errorf("created_at = %v, id = %d", got, ev.GetCheckRun().GetID())
	}
}

// The status pages name repositories, requests and targets: the ops
// listener serves them, the public one (which anyone who reaches the
// webhook reaches) does not, and the probes and /metrics stay the
// server's own.
func TestStatusPagesOnlyOnOps(t *testing.T) {
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reply(w, http.StatusOK, "pages "+r.URL.Path) })
	f := newFixture(t, func(o *Options) { o.Pages = pages })
	for _, path := range []string{"/", "/api/status", "/requests/acme/infra/7", "/targets/dev", "/api/targets/dev"} {
		w := httptest.NewRecorder()
		f.srv.OpsHandler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 || w.Body.String() != "pages "+path+"\n" {
			t.Errorf("ops GET %s = %d %q", path, w.Code, w.Body.String())
		}
		w = httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 404 {
			t.Errorf("public GET %s = %d %q: the status pages are on the public listener", path, w.Code, w.Body.String())
		}
	}
	for _, path := range []string{"/healthz", "/metrics"} {
		w := httptest.NewRecorder()
		f.srv.OpsHandler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 200 || strings.HasPrefix(w.Body.String(), "pages") {
			t.Errorf("ops GET %s = %d %q", path, w.Code, w.Body.String())
		}
	}
}
