package githubtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// signJWT makes an RS256 JWT with the given claims.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	head := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(head))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return head + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// rawCall sends one request with an Authorization header and returns the
// status and the message of an error body.
func rawCall(t *testing.T, method, url, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	return resp.StatusCode, e.Message
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	if err := f.gh.CreateRepo(f.ctx, RepoSpec{Owner: "acme", Name: "other"}); err != nil {
		t.Fatal(err)
	}
	if err := f.gh.CreateRepo(f.ctx, RepoSpec{Owner: "acme", Name: "docs", Public: true}); err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tok := f.token(t)
	now := time.Now().Unix()
	good := signJWT(t, f.key, map[string]any{"iss": fmt.Sprint(testAppID), "iat": now - 30, "exp": now + 90})
	numericIss := signJWT(t, f.key, map[string]any{"iss": testAppID, "iat": now - 30, "exp": now + 90})
	forged := signJWT(t, other, map[string]any{"iss": fmt.Sprint(testAppID), "iat": now - 30, "exp": now + 90})
	wrongApp := signJWT(t, f.key, map[string]any{"iss": "7", "iat": now - 30, "exp": now + 90})
	expired := signJWT(t, f.key, map[string]any{"iss": fmt.Sprint(testAppID), "iat": now - 700, "exp": now - 100})
	tooLong := signJWT(t, f.key, map[string]any{"iss": fmt.Sprint(testAppID), "iat": now, "exp": now + 3600})
	u := f.gh.URL()
	tests := []struct {
		name       string
		method     string
		path       string
		auth       string
		wantStatus int
		wantMsg    string
	}{
		{"app jwt lists installations", "GET", "/app/installations", "Bearer " + good, 200, ""},
		{"numeric issuer", "GET", "/app", "Bearer " + numericIss, 200, ""},
		{"api v3 prefix", "GET", "/api/v3/app", "Bearer " + good, 200, ""},
		{"no credentials on app route", "GET", "/app/installations", "", 401, "A JSON web token could not be decoded"},
		{"token on app route", "GET", "/app/installations", "token " + tok, 401, "A JSON web token could not be decoded"},
		{"forged signature", "GET", "/app/installations", "Bearer " + forged, 401, "A JSON web token could not be decoded"},
		{"other app", "GET", "/app/installations", "Bearer " + wrongApp, 401, "Integration not found"},
		{"expired jwt", "GET", "/app/installations", "Bearer " + expired, 401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."},
		{"jwt lives too long", "GET", "/app/installations", "Bearer " + tooLong, 401, "'Expiration time' claim ('exp') is too far in the future."},
		{"token reads repo", "GET", "/repos/acme/infra", "token " + tok, 200, ""},
		{"bearer token reads repo", "GET", "/repos/acme/infra", "Bearer " + tok, 200, ""},
		{"token outside installation", "GET", "/repos/acme/other", "token " + tok, 404, "Not Found"},
		{"unknown token", "GET", "/repos/acme/infra", "token ghs_unknown", 401, "Bad credentials"},
		{"anonymous private repo", "GET", "/repos/acme/infra", "", 404, "Not Found"},
		{"anonymous public repo", "GET", "/repos/acme/docs", "", 200, ""},
		{"anonymous write", "POST", "/repos/acme/docs/issues", "", 401, "Requires authentication"},
		{"jwt on repo route", "GET", "/repos/acme/infra/issues", "Bearer " + good, 403, "Resource not accessible by integration"},
		{"missing repository", "GET", "/repos/acme/nope", "token " + tok, 404, "Not Found"},
		{"unknown route", "GET", "/nope", "token " + tok, 404, "Not Found"},
		{"wrong method", "DELETE", "/repos/acme/infra/issues", "token " + tok, 405, "Method Not Allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := rawCall(t, tc.method, u+tc.path, tc.auth)
			if status != tc.wantStatus {
				t.Fatalf("status = %d (%s), want %d", status, msg, tc.wantStatus)
			}
			if tc.wantMsg != "" && msg != tc.wantMsg {
				t.Fatalf("message = %q, want %q", msg, tc.wantMsg)
			}
		})
	}

	t.Run("expired installation token", func(t *testing.T) {
		f.gh.ExpireTokens()
		if status, _ := rawCall(t, "GET", u+"/repos/acme/infra", "token "+tok); status != 401 {
			t.Fatalf("status = %d, want 401", status)
		}
	})
}

func TestInstallationTokens(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		ttl        time.Duration
		calls      int
		wantIssued int
	}{
		{"cached for an hour", 0, 5, 1},
		{"refreshed when about to expire", 30 * time.Second, 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{opts: Options{TokenTTL: tc.ttl}})
			for range tc.calls {
				if _, _, err := f.client.Repositories.Get(f.ctx, "acme", "infra"); err != nil {
					t.Fatal(err)
				}
			}
			if got := f.gh.TokensIssued(); got != tc.wantIssued {
				t.Fatalf("TokensIssued = %d, want %d", got, tc.wantIssued)
			}
		})
	}

	t.Run("expires one hour after the server clock", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{opts: Options{Now: func() time.Time { return fixed }}})
		tok, _, err := f.app.Apps.CreateInstallationToken(f.ctx, f.inst, &github.InstallationTokenOptions{Repositories: []string{"infra"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok.GetToken(), "ghs_") || len(tok.GetToken()) != 40 {
			t.Errorf("token %q is not shaped like ghs_ + 36 characters", tok.GetToken())
		}
		if diff := cmp.Diff(fixed.Add(time.Hour), tok.GetExpiresAt().Time.UTC()); diff != "" {
			t.Errorf("expires_at (-want +got):\n%s", diff)
		}
		names := []string{}
		for _, r := range tok.Repositories {
			names = append(names, r.GetFullName())
		}
		if diff := cmp.Diff([]string{"acme/infra"}, names); diff != "" {
			t.Errorf("repositories (-want +got):\n%s", diff)
		}
	})

	t.Run("narrowing to a foreign repository fails", func(t *testing.T) {
		f := newFixture(t, fixtureOptions{})
		_, resp, err := f.app.Apps.CreateInstallationToken(f.ctx, f.inst, &github.InstallationTokenOptions{Repositories: []string{"elsewhere"}})
		if err == nil || resp.StatusCode != 422 {
			t.Fatalf("got %v, want 422", err)
		}
		_, resp, err = f.app.Apps.CreateInstallationToken(f.ctx, 1, nil)
		if err == nil || resp.StatusCode != 404 {
			t.Fatalf("unknown installation: got %v, want 404", err)
		}
	})
}
