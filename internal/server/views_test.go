package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/permalink"
)

// TestViewsAreSignedAndReadOnly: a signed link to a pull request's view
// renders its check; an unsigned, altered or foreign-signed one is not
// found, as is every other method.
func TestViewsAreSignedAndReadOnly(t *testing.T) {
	links := permalink.New("https://gitvend.example.com", []byte("webhook-secret"))
	pr := permalink.PullRequest{Repo: "acme/infra", Number: 7, HeadSHA: strings.Repeat("c", 40), Checked: time.Unix(0, 0), Counts: "3 denied, 0 warnings",
		Cost: "$10.00/month", Findings: []permalink.Finding{{Severity: "deny", Policy: "image-latest-tag", Where: "a.yaml:3", Message: "<script>alert(1)</script>"}}}
	target := permalink.Target{Name: "prod", Repository: "acme/infra", Revision: strings.Repeat("d", 40), State: "success", Description: "applied 3",
		Drift: []permalink.Drift{{Object: "apps/v1/Deployment/team-a/web", Fields: []string{"spec.replicas"}}}}
	s := New(Options{Secret: []byte("webhook-secret"), Views: Views{Links: links,
		PullRequest: func(_ context.Context, repo string, n int) (permalink.PullRequest, bool, error) {
			return pr, repo == pr.Repo && n == pr.Number, nil
		},
		Target: func(_ context.Context, name string) (permalink.Target, bool, error) {
			return target, name == target.Name, nil
		},
	}})
	web := httptest.NewServer(s.Handler())
	defer web.Close()
	get := func(method, path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, web.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	prPath := strings.TrimPrefix(links.PullRequest("acme/infra", 7), "https://gitvend.example.com")
	code, body := get("GET", prPath)
	if code != http.StatusOK || !strings.Contains(body, "acme/infra #7") || !strings.Contains(body, "image-latest-tag") || !strings.Contains(body, "cccccccccccc") {
		t.Errorf("signed pull request view: %d\n%s", code, body)
	}
	if strings.Contains(body, "<script>") {
		t.Error("a finding's message is not escaped")
	}
	code, body = get("GET", strings.TrimPrefix(links.Target("prod"), "https://gitvend.example.com"))
	if code != http.StatusOK || !strings.Contains(body, "Target prod") || !strings.Contains(body, "spec.replicas") {
		t.Errorf("signed target view: %d\n%s", code, body)
	}
	sig := strings.Split(prPath, "/")[2]
	other := permalink.New("https://gitvend.example.com", []byte("another-secret"))
	for _, bad := range []string{
		"/v/pull/acme/infra/7",
		strings.Replace(prPath, "/7", "/8", 1),
		strings.Replace(prPath, "acme/infra", "acme/secret", 1),
		strings.Replace(prPath, sig, strings.Repeat("A", len(sig)), 1),
		strings.TrimPrefix(other.PullRequest("acme/infra", 7), "https://gitvend.example.com"),
		"/v/",
	} {
		if code, body := get("GET", bad); code != http.StatusNotFound || strings.Contains(body, "acme/infra #7") {
			t.Errorf("GET %s: %d, want 404", bad, code)
		}
	}
	if code, _ := get("POST", prPath); code != http.StatusMethodNotAllowed {
		t.Errorf("POST to a view: %d, want 405", code)
	}
	// The ops listener's status page is not on the public one.
	if code, _ := get("GET", "/"); code != http.StatusNotFound {
		t.Errorf("GET / on the public listener: %d", code)
	}
	// Without links, no view at all.
	plain := httptest.NewServer(New(Options{Secret: []byte("x")}).Handler())
	defer plain.Close()
	resp, err := http.Get(plain.URL + prPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("view without links: %d", resp.StatusCode)
	}
}

// TestViewsAreBounded: views answered at once are bounded; one more is
// told to come back (503, Retry-After) at once rather than queued, and a
// slow read is cut at the view's timeout.
func TestViewsAreBounded(t *testing.T) {
	links := permalink.New("https://gitvend.example.com", []byte("webhook-secret"))
	started, release := make(chan struct{}), make(chan struct{})
	s := New(Options{Secret: []byte("webhook-secret"), Views: Views{Links: links, MaxConcurrent: 1, Timeout: 50 * time.Millisecond,
		PullRequest: func(ctx context.Context, _ string, n int) (permalink.PullRequest, bool, error) {
			if n == 1 {
				started <- struct{}{}
				<-release
			}
			<-ctx.Done() // a read that never answers
			return permalink.PullRequest{}, false, ctx.Err()
		},
	}})
	web := httptest.NewServer(s.Handler())
	defer web.Close()
	get := func(n int) (*http.Response, string) {
		resp, err := http.Get(web.URL + strings.TrimPrefix(links.PullRequest("acme/infra", n), "https://gitvend.example.com"))
		if err != nil {
			t.Error(err)
			return nil, ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	done := make(chan string)
	go func() { _, body := get(1); done <- body }()
	<-started
	resp, _ := get(2)
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a view beyond the bound: %v; want 503 with Retry-After", resp)
	}
	close(release)
	if body := <-done; !strings.Contains(body, "could not be read just now") {
		t.Errorf("a view whose read timed out says:\n%s", body)
	}
	if resp, body := get(3); resp == nil || resp.StatusCode != http.StatusOK || !strings.Contains(body, "could not be read just now") {
		t.Errorf("after the first view returned: %v\n%s", resp, body)
	}
}
