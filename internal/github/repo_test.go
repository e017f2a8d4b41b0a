package github

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCloneURL(t *testing.T) {
	pemKey, _ := keyPEM(t)
	for _, tc := range []struct{ apiURL, want string }{
		{"https://api.github.com/", "https://github.com/acme/infra.git"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/acme/infra.git"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com/acme/infra.git"},
		{"http://127.0.0.1:8000/", "http://127.0.0.1:8000/acme/infra.git"},
		{"http://127.0.0.1:8000/github/", "http://127.0.0.1:8000/github/acme/infra.git"},
	} {
		t.Run(tc.apiURL, func(t *testing.T) {
			app, err := NewApp(AppConfig{APIURL: tc.apiURL, AppID: 1, PrivateKey: pemKey})
			if err != nil {
				t.Fatal(err)
			}
			if got := app.CloneURL("acme/infra"); got != tc.want {
				t.Errorf("CloneURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestForRepoAndRepoToken(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	c, err := f.app.ForRepo(ctx, owner, repoName)
	if err != nil || c != f.client {
		t.Fatalf("ForRepo = %p, %v; want the installation's client %p", c, err, f.client)
	}
	tok, err := f.app.RepoToken(ctx, owner, repoName)
	if err != nil || !strings.HasPrefix(tok, "ghs_") {
		t.Fatalf("RepoToken = %q, %v; want an installation token", tok, err)
	}
	if want, _ := f.client.Token(ctx); tok != want {
		t.Errorf("RepoToken = %q, want the installation's cached token %q", tok, want)
	}
	if _, err := f.app.ForRepo(ctx, owner, "nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "installation of acme/nope") {
		t.Errorf("ForRepo(nope) = %v, want ErrNotFound naming the repository", err)
	}
	if _, err := f.app.RepoToken(ctx, owner, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RepoToken(nope) = %v, want ErrNotFound", err)
	}
	if got, want := f.app.CloneURL(fullName), f.gh.CloneURL(fullName); got != want {
		t.Errorf("CloneURL = %q, want the double's %q", got, want)
	}
}
