package githubtest

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// TestFormLabelsOnlyIfTheyExist plays GitHub's rule for issue forms: the
// form's labels are applied only when the repository has them, so on a
// fresh repository a form issue arrives unlabelled.
func TestFormLabelsOnlyIfTheyExist(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	form := IssueSpec{User: "alice", Title: "[gitvend] web-service: orders", Body: "### Request name\n\norders", Labels: []string{"gitvend", "team-payments"}}
	n, err := f.gh.OpenIssue(f.ctx, testRepo, form)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.gh.CreateLabel(testRepo, Label{Name: "GitVend", Color: "5319e7", Description: "A request"}); err != nil {
		t.Fatal(err)
	}
	m, err := f.gh.OpenIssue(f.ctx, testRepo, form)
	if err != nil {
		t.Fatal(err)
	}
	for number, want := range map[int][]string{n: {}, m: {"GitVend"}} {
		is, err := f.gh.Issue(testRepo, number)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, is.Labels); diff != "" {
			t.Errorf("labels of #%d (-want +got):\n%s", number, diff)
		}
	}
	labels, err := f.gh.Labels(testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Label{{Name: "GitVend", Color: "5319e7", Description: "A request"}}, labels); diff != "" {
		t.Errorf("a form created labels (-want +got):\n%s", diff)
	}
}

// TestLabelsREST covers the labels endpoints as GitHub answers them:
// names without regard to case, 422 already_exists, validation, and the
// labels endpoint of an issue creating a missing label.
func TestLabelsREST(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	ctx, c := f.ctx, f.client
	const o, r = "acme", "infra"
	l, resp, err := c.Issues.CreateLabel(ctx, o, r, &github.Label{Name: github.String("gitvend"), Color: github.String("5319e7"), Description: github.String("A request")})
	if err != nil || resp.StatusCode != http.StatusCreated || l.GetColor() != "5319e7" || l.GetDescription() != "A request" {
		t.Fatalf("create: %+v %v %v", l, resp, err)
	}
	for _, bad := range []*github.Label{
		{Name: github.String("GITVEND"), Color: github.String("ffffff")},
		{Name: github.String("x"), Color: github.String("red")},
		{Name: github.String("y"), Description: github.String(string(make([]byte, 101)))},
		{Color: github.String("ffffff")},
	} {
		if _, resp, err := c.Issues.CreateLabel(ctx, o, r, bad); err == nil || resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("create %+v: %v %v, want 422", bad, resp, err)
		}
	}
	var ve *github.ErrorResponse
	if _, _, err := c.Issues.CreateLabel(ctx, o, r, &github.Label{Name: github.String("GitVend")}); !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].Code != "already_exists" {
		t.Errorf("duplicate: %v", err)
	}
	if got, _, err := c.Issues.GetLabel(ctx, o, r, "GITVEND"); err != nil || got.GetName() != "gitvend" {
		t.Errorf("get in another case: %+v %v", got, err)
	}
	if got, _, err := c.Issues.EditLabel(ctx, o, r, "gitvend", &github.Label{Color: github.String("0E8A16")}); err != nil || got.GetColor() != "0e8a16" || got.GetDescription() != "A request" {
		t.Errorf("edit colour: %+v %v", got, err)
	}
	n, err := f.gh.OpenIssue(ctx, testRepo, IssueSpec{User: "alice", Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Issues.AddLabelsToIssue(ctx, o, r, n, []string{"Gitvend", "fresh"}); err != nil {
		t.Fatal(err)
	}
	labels, err := f.gh.Labels(testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Label{{Name: "gitvend", Color: "0e8a16", Description: "A request"}, {Name: "fresh", Color: "ededed"}}, labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if _, err := c.Issues.DeleteLabel(ctx, o, r, "FRESH"); err != nil {
		t.Fatal(err)
	}
	if is, _ := f.gh.Issue(testRepo, n); !cmp.Equal(is.Labels, []string{"gitvend"}) {
		t.Errorf("deleted label still on the issue: %v", is.Labels)
	}
	if _, resp, err := c.Issues.GetLabel(ctx, o, r, "fresh"); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleted label: %v %v", resp, err)
	}
}
