package github

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/githubtest"
)

func TestNewAppValidates(t *testing.T) {
	pemKey, _ := keyPEM(t)
	tests := []struct {
		name    string
		cfg     AppConfig
		opts    []Option
		wantErr string
	}{
		{name: "defaults", cfg: AppConfig{AppID: 1, PrivateKey: pemKey}},
		{name: "enterprise", cfg: AppConfig{APIURL: "https://ghe.example/api/v3", AppID: 1, PrivateKey: pemKey}},
		{name: "relative url", cfg: AppConfig{APIURL: "api.github.com", AppID: 1, PrivateKey: pemKey}, wantErr: "apiURL"},
		{name: "ftp url", cfg: AppConfig{APIURL: "ftp://x/", AppID: 1, PrivateKey: pemKey}, wantErr: "apiURL"},
		{name: "no app id", cfg: AppConfig{PrivateKey: pemKey}, wantErr: "appID"},
		{name: "negative app id", cfg: AppConfig{AppID: -3, PrivateKey: pemKey}, wantErr: "appID"},
		{name: "no key", cfg: AppConfig{AppID: 1}, wantErr: "privateKey: missing"},
		{name: "not pem", cfg: AppConfig{AppID: 1, PrivateKey: []byte("hello")}, wantErr: "privateKey"},
		{name: "cache size", cfg: AppConfig{AppID: 1, PrivateKey: pemKey}, opts: []Option{WithCacheSize(-1)}, wantErr: "cache size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := NewApp(tt.cfg, tt.opts...)
			if tt.wantErr == "" {
				if err != nil || app == nil {
					t.Fatalf("NewApp: %v", err)
				}
				if !strings.HasSuffix(app.apiURL.Path, "/") {
					t.Errorf("API URL %s has no trailing slash", app.apiURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewApp error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestInstallationTokenAndLookup(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()

	again, err := f.app.Installation(ctx, f.inst)
	if err != nil || again != f.client {
		t.Fatalf("Installation again = %p, %v; want the cached client %p", again, err, f.client)
	}
	if _, err := f.app.Installation(ctx, 0); err == nil {
		t.Error("Installation(0) succeeded")
	}
	tok1, err := f.app.Token(ctx, f.inst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.DefaultBranch(ctx, owner, repoName); err != nil {
		t.Fatal(err)
	}
	tok2, err := f.client.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok1 != tok2 || !strings.HasPrefix(tok1, "ghs_") {
		t.Errorf("tokens %q and %q: want the same cached installation token", tok1, tok2)
	}
	if n := f.gh.TokensIssued(); n != 1 {
		t.Errorf("tokens issued = %d, want 1", n)
	}

	for range 2 {
		id, err := f.app.InstallationForRepo(ctx, owner, repoName)
		if err != nil || id != f.inst {
			t.Fatalf("InstallationForRepo = %d, %v; want %d", id, err, f.inst)
		}
	}
	if n := f.calls("GET /repos/{owner}/{repo}/installation"); n != 1 {
		t.Errorf("installation lookups = %d, want 1 (cached)", n)
	}
	if _, err := f.app.InstallationForRepo(ctx, owner, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("InstallationForRepo(nope) = %v, want ErrNotFound", err)
	}
	if _, err := f.app.InstallationForRepo(ctx, "", "x"); err == nil || !strings.Contains(err.Error(), "owner") {
		t.Errorf("InstallationForRepo with empty owner = %v, want an owner error", err)
	}
	login, err := f.app.BotLogin(ctx)
	if err != nil || login != f.gh.BotLogin() {
		t.Errorf("BotLogin = %q, %v; want %q", login, err, f.gh.BotLogin())
	}
	if got := f.client.InstallationID(); got != f.inst {
		t.Errorf("InstallationID = %d, want %d", got, f.inst)
	}
}

func TestTokenRenewal(t *testing.T) {
	t.Run("near expiry", func(t *testing.T) {
		// Tokens that live less than ghinstallation's minute of margin are
		// renewed on every call.
		f := newFixture(t, fixtureOptions{ghOpts: githubtest.Options{TokenTTL: 30 * time.Second}})
		ctx := context.Background()
		for range 3 {
			if _, err := f.client.DefaultBranch(ctx, owner, repoName); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.gh.TokensIssued(); n != 3 {
			t.Errorf("tokens issued = %d, want 3", n)
		}
	})
	t.Run("refused", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		ctx := context.Background()
		if _, err := f.client.DefaultBranch(ctx, owner, repoName); err != nil {
			t.Fatal(err)
		}
		// The double forgets the token ghinstallation still holds: the
		// call is refused once, then sent again with a new token.
		f.gh.ExpireTokens()
		n := f.openIssue(t, "after expiry")
		if _, err := f.client.CreateComment(ctx, owner, repoName, n, "still here"); err != nil {
			t.Fatal(err)
		}
		if n := f.gh.TokensIssued(); n != 2 {
			t.Errorf("tokens issued = %d, want 2", n)
		}
		if diff := cmp.Diff([]string{"still here"}, f.comments(t, n)); diff != "" {
			t.Errorf("comments (-want +got):\n%s", diff)
		}
	})
}

func TestEnterpriseBaseURL(t *testing.T) {
	f := newFixture(t, fixtureOptions{apiPath: "/api/v3/"})
	ctx := context.Background()
	n := f.openIssue(t, "on enterprise")
	is, err := f.client.GetIssue(ctx, owner, repoName, n)
	if err != nil || is.Title != "on enterprise" {
		t.Fatalf("GetIssue = %+v, %v", is, err)
	}
	if _, err := f.app.InstallationForRepo(ctx, owner, repoName); err != nil {
		t.Fatal(err)
	}
	if got := f.counter(t, "gitvend_github_api_calls_total", "route", "/repos/:owner/:repo/issues/:number"); got != 1 {
		t.Errorf("calls on the issue route = %v, want 1 (the /api/v3 prefix is not part of the route)", got)
	}
}

func TestMetricsAndLogs(t *testing.T) {
	f := newFixture(t, fixtureOptions{
		ghOpts:  githubtest.Options{RateLimit: 20},
		options: []Option{WithLowRateLimit(0.5)},
	})
	ctx := context.Background()
	n := f.openIssue(t, "metrics")
	for i := range 12 {
		if _, err := f.client.CreateComment(ctx, owner, repoName, n, "comment "+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.counter(t, "gitvend_github_api_calls_total",
		"method", "POST", "route", "/repos/:owner/:repo/issues/:number/comments", "code", "201"); got != 12 {
		t.Errorf("comment calls = %v, want 12", got)
	}
	if got := f.counter(t, "gitvend_github_api_calls_total",
		"route", "/app/installations/:installation_id/access_tokens"); got != 1 {
		t.Errorf("token calls = %v, want 1", got)
	}
	if got, want := f.counter(t, "gitvend_github_rate_limit_remaining", "installation", strconv.FormatInt(f.inst, 10)), float64(f.gh.RateLimitRemaining(f.inst)); got != want {
		t.Errorf("remaining gauge = %v, want %v", got, want)
	}
	if rl := f.client.RateLimit(); rl.Limit != 20 || rl.Remaining != f.gh.RateLimitRemaining(f.inst) || rl.Reset.IsZero() {
		t.Errorf("RateLimit() = %+v", rl)
	}
	logs := f.logs.String()
	if n := countLines(logs, "github rate limit running low"); n != 1 {
		t.Errorf("low rate limit warnings = %d, want 1 per window\n%s", n, logs)
	}
	if !strings.Contains(logs, "route=/repos/:owner/:repo/issues/:number/comments") {
		t.Errorf("no debug line per call:\n%s", logs)
	}
	if strings.Contains(logs, "ghs_") {
		t.Error("a token appears in the logs")
	}
}

// TestBotUser: the bot user's id is its own, not the App's, asked once
// and remembered.
func TestBotUser(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	for range 2 {
		bu, err := f.app.BotUser(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if bu.Login != f.gh.BotLogin() || bu.ID != f.gh.BotUserID() || bu.ID == testAppID {
			t.Fatalf("BotUser = %+v, want %s with id %d (not the App id %d)", bu, f.gh.BotLogin(), f.gh.BotUserID(), testAppID)
		}
	}
	if n := f.calls("GET /users/{username}"); n != 1 {
		t.Errorf("user lookups = %d, want 1 (remembered)", n)
	}
}
