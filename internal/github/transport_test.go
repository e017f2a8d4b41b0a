package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	gh "github.com/google/go-github/v60/github"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/retry"
)

// noJitter makes backoff waits exact.
var noJitter = RetryPolicy{MaxAttempts: 3, InitialBackoff: 10 * time.Millisecond, Multiplier: 2, Jitter: -1}

func TestRetryServerErrors(t *testing.T) {
	f := newFixture(t, fixtureOptions{policy: noJitter})
	ctx := context.Background()
	if _, err := f.client.DefaultBranch(ctx, owner, repoName); err != nil {
		t.Fatal(err)
	}
	f.gh.ResetCalls()
	f.gh.SetFaults(githubtest.Faults{ErrorRate: 1})
	_, err := f.client.DefaultBranch(ctx, owner, repoName)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || !retry.IsRetryable(err) {
		t.Fatalf("error = %v, want a retryable 502", err)
	}
	if n := f.calls("GET /repos/{owner}/{repo}"); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
	if diff := cmp.Diff([]time.Duration{10 * time.Millisecond, 20 * time.Millisecond}, f.clock.slept()); diff != "" {
		t.Errorf("backoff waits (-want +got):\n%s", diff)
	}
	if got := f.counter(t, "gitvend_github_api_retries_total", "reason", "server_error"); got != 2 {
		t.Errorf("server_error retries = %v, want 2", got)
	}
}

func TestPOSTNotRepeatedAfterServerError(t *testing.T) {
	f := newFixture(t, fixtureOptions{policy: noJitter})
	ctx := context.Background()
	n := f.openIssue(t, "post")
	if _, err := f.app.BotLogin(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	f.gh.SetFaults(githubtest.Faults{ErrorRate: 1})
	_, err := f.client.CreateComment(ctx, owner, repoName, n, "hello")
	if err == nil || !retry.IsRetryable(err) {
		t.Fatalf("error = %v, want a retryable error", err)
	}
	// One POST, then the check for it failed too; a blind retry would
	// have sent three.
	if got := f.calls("POST /repos/{owner}/{repo}/issues/{issue_number}/comments"); got != 1 {
		t.Errorf("POSTs = %d, want 1", got)
	}
	if !strings.Contains(err.Error(), "checking whether it happened") {
		t.Errorf("error %q does not say the check failed", err)
	}
}

func TestWriteOnceStopsAtTerminalError(t *testing.T) {
	f := newFixture(t, fixtureOptions{policy: noJitter})
	ctx := context.Background()
	if _, err := f.app.BotLogin(ctx); err != nil {
		t.Fatal(err)
	}
	f.gh.ResetCalls()
	_, err := f.client.CreateComment(ctx, owner, repoName, 9999, "hello")
	if !errors.Is(err, ErrNotFound) || !retry.IsTerminal(err) {
		t.Fatalf("error = %v, want a terminal ErrNotFound", err)
	}
	// Neither repeated nor looked for: a 404 says the write did not happen.
	if got := f.calls("POST /repos/{owner}/{repo}/issues/{issue_number}/comments"); got != 1 {
		t.Errorf("POSTs = %d, want 1", got)
	}
	if got := f.calls("GET /repos/{owner}/{repo}/issues/{issue_number}/comments"); got != 0 {
		t.Errorf("lookups = %d, want 0", got)
	}
	if got := f.clock.slept(); len(got) != 0 {
		t.Errorf("waits = %v, want none", got)
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	tests := []struct {
		name       string
		maxWait    time.Duration
		wantCalls  int
		wantSleeps []time.Duration
	}{
		{"waits Retry-After", time.Minute, 3, []time.Duration{3 * time.Second, 3 * time.Second}},
		{"longer than allowed", 2 * time.Second, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := noJitter
			p.MaxRateLimitWait = tt.maxWait
			f := newFixture(t, fixtureOptions{policy: p})
			ctx := context.Background()
			n := f.openIssue(t, "busy")
			if _, err := f.client.GetIssue(ctx, owner, repoName, n); err != nil {
				t.Fatal(err)
			}
			f.gh.ResetCalls()
			f.gh.SetFaults(githubtest.Faults{RateLimitRate: 1, RetryAfter: 3 * time.Second})
			_, err := f.client.CreateComment(ctx, owner, repoName, n, "hi")
			var rl *RateLimitError
			if !errors.As(err, &rl) || !rl.Secondary || !retry.IsRetryable(err) {
				t.Fatalf("error = %v, want a secondary *RateLimitError", err)
			}
			if rl.Reset.Before(f.clock.Now()) {
				t.Errorf("reset %v is in the past", rl.Reset)
			}
			if got := f.gh.Calls().Total; got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantSleeps, f.clock.slept()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrimaryRateLimit(t *testing.T) {
	ghOpts := githubtest.Options{RateLimit: 3, TokenTTL: 48 * time.Hour}
	t.Run("waits for the reset", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{ghOpts: ghOpts})
		ctx := context.Background()
		n := f.openIssue(t, "quota")
		for i := range 4 {
			if _, err := f.client.CreateComment(ctx, owner, repoName, n, fmt.Sprint("c", i)); err != nil {
				t.Fatalf("comment %d: %v", i, err)
			}
		}
		sleeps := f.clock.slept()
		if len(sleeps) != 1 || sleeps[0] < 59*time.Minute || sleeps[0] > 61*time.Minute {
			t.Errorf("waits = %v, want one wait of about an hour", sleeps)
		}
		if got := len(f.comments(t, n)); got != 4 {
			t.Errorf("comments = %d, want 4", got)
		}
	})
	t.Run("fails fast beyond the longest wait", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{ghOpts: ghOpts, policy: RetryPolicy{MaxRateLimitWait: time.Minute}})
		ctx := context.Background()
		n := f.openIssue(t, "quota")
		if _, err := f.client.DefaultBranch(ctx, owner, repoName); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if _, err := f.client.CreateComment(ctx, owner, repoName, n, fmt.Sprint("c", i)); err != nil {
				t.Fatal(err)
			}
		}
		f.gh.ResetCalls()
		_, err := f.client.CreateComment(ctx, owner, repoName, n, "one too many")
		var rl *RateLimitError
		if !errors.As(err, &rl) || rl.Secondary || !retry.IsRetryable(err) || rl.Reset.Before(time.Now().Add(50*time.Minute)) {
			t.Fatalf("error = %v, want a primary *RateLimitError resetting in about an hour", err)
		}
		if got := f.gh.Calls().Total; got != 0 {
			t.Errorf("calls = %d, want 0: the limit was known to be exhausted", got)
		}
		// Conditional requests still pass: a 304 costs nothing.
		if _, err := f.client.DefaultBranch(ctx, owner, repoName); err != nil {
			t.Errorf("conditional request while exhausted: %v", err)
		}

		// Another process (a second App) learns it from GitHub's 403.
		pemKey, _ := keyPEM(t)
		other, err := NewApp(AppConfig{APIURL: f.gh.URL() + "/", AppID: testAppID, PrivateKey: pemKey},
			WithClock(f.clock), WithRetryPolicy(RetryPolicy{MaxRateLimitWait: time.Minute}),
			WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		oc, err := other.Installation(ctx, f.inst)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := oc.GetIssue(ctx, owner, repoName, n); !errors.As(err, &rl) {
			t.Errorf("second App: error = %v, want a *RateLimitError", err)
		}
	})
}

func TestAttemptTimeout(t *testing.T) {
	f := newFixture(t, fixtureOptions{policy: RetryPolicy{MaxAttempts: 2, AttemptTimeout: 30 * time.Millisecond}})
	ctx := context.Background()
	if _, err := f.client.DefaultBranch(ctx, owner, repoName); err != nil {
		t.Fatal(err)
	}
	f.gh.SetFaults(githubtest.Faults{Latency: time.Second})
	_, err := f.client.DefaultBranch(ctx, owner, repoName)
	var te *TimeoutError
	if !errors.As(err, &te) || !retry.IsRetryable(err) {
		t.Fatalf("error = %v, want a retryable *TimeoutError", err)
	}
	if got := f.counter(t, "gitvend_github_api_retries_total", "reason", "timeout"); got != 1 {
		t.Errorf("timeout retries = %v, want 1", got)
	}
}

func TestCancelDuringWait(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	n := f.openIssue(t, "cancel")
	f.clock.block = true
	f.gh.SetFaults(githubtest.Faults{RateLimitRate: 1, RetryAfter: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := f.client.GetIssue(ctx, owner, repoName, n)
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, new(*TimeoutError)) {
		t.Fatalf("error = %v, want the caller's deadline, not an attempt timeout", err)
	}
}

func TestConditionalRequests(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	n := f.openIssue(t, "before")
	if _, err := f.client.GetIssue(ctx, owner, repoName, n); err != nil {
		t.Fatal(err)
	}
	f.gh.ResetCalls()
	for range 3 {
		is, err := f.client.GetIssue(ctx, owner, repoName, n)
		if err != nil || is.Title != "before" {
			t.Fatalf("GetIssue = %+v, %v", is, err)
		}
	}
	if c := f.gh.Calls(); c.NotModified != 3 || c.RateLimitUsed != 0 {
		t.Errorf("calls: %d not modified, %d charged; want 3 and 0", c.NotModified, c.RateLimitUsed)
	}
	if got := f.counter(t, "gitvend_github_api_calls_total", "code", "304"); got != 3 {
		t.Errorf("304s counted = %v, want 3", got)
	}
	if err := f.gh.EditIssueBody(ctx, fullName, n, "alice", "changed"); err != nil {
		t.Fatal(err)
	}
	is, err := f.client.GetIssue(ctx, owner, repoName, n)
	if err != nil || is.Body != "changed" {
		t.Fatalf("GetIssue after edit = %+v, %v", is, err)
	}
}

func TestETagCacheBounded(t *testing.T) {
	c := newETagCache(800)
	for i := range 20 {
		c.put(&cacheEntry{key: fmt.Sprint(i), etag: "e", body: make([]byte, 90)})
	}
	if c.size > 800 || c.len() != 8 {
		t.Errorf("size %d with %d entries, want at most 800 bytes in 8 entries", c.size, c.len())
	}
	if c.get("19", "") == nil || c.get("11", "") != nil {
		t.Error("eviction did not drop the least recently used entries")
	}
	c.put(&cacheEntry{key: "big", etag: "e", body: make([]byte, 101)})
	if c.get("big", "") != nil {
		t.Error("an entry larger than an eighth of the cache was kept")
	}
}

func TestRouteOf(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/repos/acme/infra/issues/12/comments", "/repos/:owner/:repo/issues/:number/comments"},
		{"/repos/acme/infra/issues/comments/99", "/repos/:owner/:repo/issues/comments/:comment_id"},
		{"/repos/acme/infra/issues/comments/99/reactions", "/repos/:owner/:repo/issues/comments/:comment_id/reactions"},
		{"/repos/acme/infra/git/ref/heads/gitvend/request-1", "/repos/:owner/:repo/git/ref/:ref*"},
		{"/repos/acme/infra/commits/abc/check-runs", "/repos/:owner/:repo/commits/:ref*/check-runs"},
		{"/repos/acme/infra/collaborators/alice/permission", "/repos/:owner/:repo/collaborators/:user/permission"},
		{"/app/installations/7/access_tokens", "/app/installations/:installation_id/access_tokens"},
		{"/repos/acme/infra", "/repos/:owner/:repo"},
		{"/repos/acme/infra/issues/abc", otherRoute},
		{"/gists/1", otherRoute},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := routeOf(tt.path); got != tt.want {
				t.Errorf("routeOf(%s) = %s, want %s", tt.path, got, tt.want)
			}
		})
	}
}

func TestClassification(t *testing.T) {
	resp := func(code int) *http.Response {
		return &http.Response{StatusCode: code, Request: &http.Request{Method: "GET", URL: mustURL(t, "https://api.github.com/repos/a/b")}}
	}
	status := func(code int, message string) error {
		return convertError(&gh.ErrorResponse{Response: resp(code), Message: message})
	}
	tests := []struct {
		name         string
		err          error
		wantTerminal bool
	}{
		{"202 accepted, not done", convertError(&gh.AcceptedError{}), false},
		{"400", status(400, "Problems parsing JSON"), true},
		{"401", status(401, "Bad credentials"), true},
		{"403 forbidden", status(403, "Resource not accessible by integration"), true},
		{"403 about a rate limit", status(403, "You have exceeded a secondary rate limit"), false},
		{"404", status(404, "Not Found"), true},
		{"404, wrapped", fmt.Errorf("get issue: %w", status(404, "Not Found")), true},
		{"ErrNotFound, wrapped", fmt.Errorf("find issue: %w", ErrNotFound), true},
		{"408", status(408, "Request Timeout"), false},
		{"409 conflict", status(409, "Head branch was modified"), false},
		{"410", status(410, "Issues are disabled"), true},
		{"422", status(422, "Validation Failed"), true},
		{"429", status(429, "Too Many Requests"), false},
		{"500", status(500, ""), false},
		{"502", status(502, ""), false},
		{"503", status(503, ""), false},
		{"primary rate limit", convertError(&gh.RateLimitError{}), false},
		{"secondary rate limit", convertError(&gh.AbuseRateLimitError{}), false},
		{"attempt timeout", fmt.Errorf("get: %w", &TimeoutError{Err: errors.New("slow")}), false},
		{"caller cancelled", fmt.Errorf("get: %w", context.Canceled), false},
		{"unknown", errors.New("boom"), false},
		{"bad repository", checkArgs("", "repo"), true},
		{"bad number", checkArgs("owner", "repo", checkNumber("number", 0)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retry.IsTerminal(tt.err); got != tt.wantTerminal {
				t.Errorf("IsTerminal(%v) = %v, want %v", tt.err, got, tt.wantTerminal)
			}
			if got := retry.IsRetryable(tt.err); got == tt.wantTerminal {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, !tt.wantTerminal)
			}
		})
	}
	if err := checkArgs("owner", "repo", nil); err != nil {
		t.Errorf("good arguments: %v", err)
	}
	if err := status(404, "Not Found"); !errors.Is(err, ErrNotFound) {
		t.Errorf("404 %v does not match ErrNotFound", err)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
