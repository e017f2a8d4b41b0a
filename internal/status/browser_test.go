package status_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gitvend/gitvend/internal/demo"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/status"
)

// ScreenshotEnv names the environment variable that, set to a path, has
// TestBrowser write a PNG of the status page there (make screenshot).
const ScreenshotEnv = "GITVEND_SCREENSHOT"

// chromium finds the browser, skipping the test with the reason when
// there is none.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GITVEND_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium: `make browser` installs it (as root, with apt-get), or set GITVEND_CHROMIUM to a Chrome or Chromium binary")
	return ""
}

// gitvendBinary builds cmd/gitvend for the test.
func gitvendBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gitvend")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/gitvend").CombinedOutput(); err != nil {
		t.Fatalf("build gitvend: %v\n%s", err, out)
	}
	return bin
}

// browserWorld plays the demo's story up to the apply, then opens a second
// request and edits the cluster by hand, and waits until the status API
// shows all of it. It returns the world and gitvend serve.
func browserWorld(t *testing.T) (*demo.World, *demo.Serve) {
	t.Helper()
	if _, err := kubetest.BinDir(); err != nil {
		if required, _ := strconv.ParseBool(os.Getenv(kubetest.RequireEnv)); required {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx := context.Background()
	w, err := demo.NewWorld(ctx, t.TempDir(), "../../examples/desired-state")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	s, err := demo.NewServe(w, gitvendBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			if b, err := os.ReadFile(s.Log); err == nil {
				t.Logf("server log (tail):\n%s", tail(string(b), 40))
			}
		}
	})
	var out strings.Builder
	if err := (&demo.Story{W: w, Out: &out, Until: "cluster"}).Play(ctx); err != nil {
		t.Fatalf("story: %v\n%s", err, out.String())
	}
	body := "### Request name\n\ncheckout\n\n### Environment\n\ndev\n\n### Namespace\n\nteam-payments\n\n### Owner\n\npayments\n\n" +
		"### Image\n\nghcr.io/acme/checkout:latest\n\n### Min replicas\n\n_No response_\n"
	if _, err := w.GH.OpenIssue(ctx, demo.Repo, githubtest.IssueSpec{User: demo.Alice, Title: "[gitvend] web-service: checkout",
		Body: body, Labels: []string{"gitvend"}}); err != nil {
		t.Fatal(err)
	}
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"ghcr.io/acme/orders:hotfix"}]}}}}`
	if b, err := w.Kube.Kubectl(ctx, "patch", "deployment", "orders", "-n", "team-payments", "--type=strategic", "-p", patch).CombinedOutput(); err != nil {
		t.Fatalf("kubectl patch: %v: %s", err, b)
	}
	awaitSettled(t, s.OpsURL())
	return w, s
}

// awaitSettled waits until the status API shows what the test looks at.
func awaitSettled(t *testing.T, ops string) *status.Status {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := apiStatus(ops)
		if err == nil && settled(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("the status API never showed the merged request, the one in review with its checks and the drift: %v\n%+v", err, st)
		}
		time.Sleep(time.Second)
	}
}

// settled tells whether st shows what the test looks at.
func settled(st *status.Status) bool {
	var merged, review bool
	for _, r := range st.Requests {
		merged = merged || (r.Name == "orders" && r.State == status.StateMerged)
		if r.Name == "checkout" && r.State == status.StateInReview && len(r.Checks) > 0 {
			review = true
			for _, c := range r.Checks {
				review = review && c.Status == "completed"
			}
		}
	}
	t, ok := st.Target(demo.Target)
	return merged && review && ok && t.Revision != "" && len(t.Drift) > 0 && len(st.Repositories) == 1 && len(st.Repositories[0].Catalog) > 0
}

func apiStatus(ops string) (*status.Status, error) {
	resp, err := http.Get(ops + "/api/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/status: %s", resp.Status)
	}
	var st status.Status
	return &st, json.NewDecoder(resp.Body).Decode(&st)
}

// browser starts headless Chromium as this machine allows it (as root,
// without a sandbox, with no connections of its own) at a phone's width,
// and collects what the pages write to the console as errors.
func browser(t *testing.T, exe string) (context.Context, *pageErrors) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(390, 844))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatalf("start Chromium %s: %v", exe, err)
	}
	errs := &pageErrors{}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				errs.add(fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
			}
		}
	}()
	return ctx, errs
}

// pageErrors are the errors the pages wrote to the console.
type pageErrors struct {
	mu   sync.Mutex
	list []string
}

func (e *pageErrors) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

// take returns the errors so far and forgets them.
func (e *pageErrors) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.list
	e.list = nil
	return out
}

// seen is what a person sees of a page.
type seen struct {
	Text  string
	Links map[string]string // link text → href
	// Overflow is how far the page is wider than the screen, in CSS pixels.
	Overflow int
}

func look(t *testing.T, ctx context.Context, url string) seen {
	t.Helper()
	var s seen
	var links []struct{ Text, Href string }
	err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitReady("footer"),
		func(ctx context.Context, tg *chromedp.Target) (v chromedp.Void, err error) {
			if s.Text, err = chromedp.Evaluate[string](`document.body.innerText`)(ctx, tg); err != nil {
				return v, err
			}
			links, err = chromedp.Evaluate[[]struct{ Text, Href string }](
				`[...document.querySelectorAll("a[href]")].map(a => ({Text: a.innerText.trim(), Href: a.href}))`)(ctx, tg)
			if err != nil {
				return v, err
			}
			s.Overflow, err = chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`)(ctx, tg)
			return v, err
		},
	)
	if err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	s.Links = map[string]string{}
	for _, l := range links {
		s.Links[l.Text] = l.Href
	}
	return s
}

func (s seen) wants(t *testing.T, page string, texts ...string) {
	t.Helper()
	for _, want := range texts {
		if !strings.Contains(s.Text, want) {
			t.Errorf("%s: a reader does not see %q in:\n%s", page, want, s.Text)
		}
	}
	if s.Overflow > 0 {
		t.Errorf("%s: wider than a phone's screen by %dpx", page, s.Overflow)
	}
}

func (s seen) link(t *testing.T, page, text, wantPrefix string) string {
	t.Helper()
	href, ok := s.Links[text]
	if !ok {
		t.Errorf("%s: no link %q among %v", page, text, s.Links)
		return ""
	}
	if !strings.HasPrefix(href, wantPrefix) {
		t.Errorf("%s: link %q goes to %s, want %s…", page, text, href, wantPrefix)
	}
	return href
}

// TestBrowser loads the status page, a request's page, a target's page and
// the JSON API of a running gitvend serve in headless Chromium, against the
// GitHub double and a real API server in the state the demo leaves after
// its apply, with one more request in review and a hand edit drifting.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("gitvend serve as a process, the demo's world and a browser")
	}
	exe := chromium(t)
	w, s := browserWorld(t)
	ctx, errs := browser(t, exe)
	ops, gh := s.OpsURL(), w.GH.URL()+"/"+demo.Repo
	before, err := apiStatus(ops)
	if err != nil {
		t.Fatal(err)
	}

	home := look(t, ctx, ops+"/")
	home.wants(t, "status page", "Catalog", "web-service", "Request web-service →", fmt.Sprintf("Requests (%d)", len(before.Requests)), "orders", "merged",
		"checkout", "in review", "gitvend/policy", "failure", "Targets (1)", "1 object(s) differ", "4 object(s) by the last apply", "next sync",
		"this process", "running", "waiting")
	home.link(t, "status page", "Request web-service →", gh+"/issues/new?template=gitvend-web-service.yml")
	home.link(t, "status page", demo.Repo, gh)
	reqURL := home.link(t, "status page", "checkout", ops+"/requests/"+demo.Repo+"/")
	targetURL := home.link(t, "status page", demo.Target, ops+"/targets/"+demo.Target)

	req := look(t, ctx, reqURL)
	req.wants(t, "request page", "checkout", "in review", "team-payments", "payments", "Checks", "gitvend/policy", "gitvend/cost")
	for text, href := range req.Links {
		if strings.HasPrefix(text, "#") && !strings.HasPrefix(href, gh+"/") {
			t.Errorf("request page: %q links to %s, not to GitHub", text, href)
		}
	}

	merged := look(t, ctx, ops+"/requests/"+demo.Repo+"/dev/team-payments/orders")
	merged.wants(t, "merged request page", "orders", "merged", "requests/dev/team-payments/orders")

	target := look(t, ctx, targetURL)
	target.wants(t, "target page", "Target dev", "success", "Drift (1)", "Deployment/team-payments/orders", "spec.template.spec.containers[name=app].image", "next sync")

	if e := errs.take(); len(e) > 0 {
		t.Errorf("the pages reported errors:\n%s", strings.Join(e, "\n"))
	}
	missing := look(t, ctx, ops+"/targets/nowhere")
	missing.wants(t, "missing target", "No such target")
	time.Sleep(200 * time.Millisecond)
	for _, e := range errs.take() {
		if !strings.Contains(e, "404") || !strings.Contains(e, "/targets/nowhere") {
			t.Errorf("the missing page reported more than its 404: %s", e)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(ops+"/api/status")); err != nil {
		t.Fatal(err)
	}
	var raw string
	raw, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	var st status.Status
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		t.Fatalf("/api/status in the browser is not JSON: %v\n%s", err, raw)
	}
	if !settled(&st) || st.Queue.Workers != 4 || !st.Leader.Election || !st.Leader.Leading {
		t.Errorf("/api/status: %+v", st)
	}

	time.Sleep(200 * time.Millisecond) // the console's last messages
	if e := errs.take(); len(e) > 0 {
		t.Errorf("the pages reported errors:\n%s", strings.Join(e, "\n"))
	}
	// The watch on the console works: a page that writes an error is seen.
	if err := chromedp.Do(ctx, chromedp.Navigate(`data:text/html,<footer></footer><script>console.error("canary")</script>`),
		chromedp.WaitReady("footer")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if e := errs.take(); !strings.Contains(strings.Join(e, "\n"), "canary") {
		t.Errorf("a console error was not caught: %q", e)
	}
	if path := os.Getenv(ScreenshotEnv); path != "" {
		screenshot(t, ctx, ops+"/", path)
	}

	// After a crash the page is built again from GitHub and the cluster:
	// the catalog, both requests, the last apply and the drift.
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	awaitSettled(t, s.OpsURL())
	again := look(t, ctx, s.OpsURL()+"/")
	again.wants(t, "status page after a restart", "Request web-service →", "checkout", "in review", "orders", "merged",
		"1 object(s) differ", "next sync")
	if e := errs.take(); len(e) > 0 {
		t.Errorf("the page after a restart reported errors:\n%s", strings.Join(e, "\n"))
	}
}

// screenshot writes a PNG of the whole page at url, at a laptop's width.
func screenshot(t *testing.T, ctx context.Context, url, path string) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 900), chromedp.Navigate(url), chromedp.WaitReady("footer"))
	var png []byte
	if err == nil {
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	}
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", path, len(png))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
