package githubtest

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-github/v60/github"
)

// TestBranchProtectionAsGitHubServesIt: an App without the administration
// permission gets 403; with it, an unprotected branch is 404 "Branch not
// protected", a missing one 404 "Branch not found", and a protected one
// its required checks, which GET branch shows too.
func TestBranchProtectionAsGitHubServesIt(t *testing.T) {
	t.Parallel()
	answer := func(f *fixture, branch string) (int, string) {
		_, resp, err := f.client.Repositories.GetBranchProtection(f.ctx, "acme", "infra", branch)
		var er *github.ErrorResponse
		if errors.Is(err, github.ErrBranchNotProtected) {
			return resp.StatusCode, "Branch not protected" // go-github's reading of the message
		}
		if errors.As(err, &er) {
			return resp.StatusCode, er.Message
		}
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, ""
	}
	without := newFixture(t, fixtureOptions{})
	if code, msg := answer(without, "main"); code != http.StatusForbidden || msg != "Resource not accessible by integration" {
		t.Errorf("without the permission: %d %q", code, msg)
	}

	f := newFixture(t, fixtureOptions{grants: map[string]string{"administration": "read"}})
	if code, msg := answer(f, "main"); code != http.StatusNotFound || msg != "Branch not protected" {
		t.Errorf("unprotected: %d %q", code, msg)
	}
	if code, msg := answer(f, "nope"); code != http.StatusNotFound || msg != "Branch not found" {
		t.Errorf("missing branch: %d %q", code, msg)
	}
	if err := f.gh.SetBranchProtection(testRepo, "main", &Protection{RequiredChecks: []string{"gitvend/policy"}}); err != nil {
		t.Fatal(err)
	}
	p, _, err := f.client.Repositories.GetBranchProtection(f.ctx, "acme", "infra", "main")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.GetRequiredStatusChecks(); got == nil || len(*got.Contexts) != 1 || (*got.Contexts)[0] != "gitvend/policy" {
		t.Errorf("required checks = %+v", got)
	}
	b, _, err := f.client.Repositories.GetBranch(f.ctx, "acme", "infra", "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !b.GetProtected() {
		t.Error("GET branch says main is not protected")
	}
	if err := f.gh.SetBranchProtection(testRepo, "main", nil); err != nil {
		t.Fatal(err)
	}
	if code, msg := answer(f, "main"); code != http.StatusNotFound || msg != "Branch not protected" {
		t.Errorf("protection removed: %d %q", code, msg)
	}
}
