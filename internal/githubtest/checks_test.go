package githubtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// TestCheckRunsNameTheirApp: a run names the App that created it, another
// App's run of the same name sits in that App's own suite, listing by
// app_id keeps to one App, and "latest" is per App and name.
func TestCheckRunsNameTheirApp(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	branches, err := f.gh.Branches(f.ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	sha := branches["main"]
	if _, _, err := f.client.Checks.CreateCheckRun(f.ctx, "acme", "infra", github.CreateCheckRunOptions{Name: "lint", HeadSHA: sha, Conclusion: github.String("failure"),
		Output: &github.CheckRunOutput{Title: github.String("bad"), Summary: github.String("bad")}}); err != nil {
		t.Fatal(err)
	}
	other := App{ID: testAppID + 1, Slug: "other-ci"}
	foreign, err := f.gh.CreateCheckRunAs(f.ctx, testRepo, other, CheckRunSpec{Name: "lint", HeadSHA: sha, Conclusion: "success", Summary: "fine"})
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err := f.client.Checks.UpdateCheckRun(f.ctx, "acme", "infra", foreign, github.UpdateCheckRunOptions{Name: "lint", Conclusion: github.String("failure")})
	if err == nil || resp.StatusCode != 403 {
		t.Errorf("the App changed another App's check run: %v", err)
	}
	if _, err := f.gh.CreateCheckRunAs(f.ctx, testRepo, App{ID: testAppID, Slug: "me"}, CheckRunSpec{Name: "lint", HeadSHA: sha}); err == nil {
		t.Error("another App may not carry the served App's id")
	}
	list := func(opts *github.ListCheckRunsOptions) [][]any {
		t.Helper()
		res, _, err := f.client.Checks.ListCheckRunsForRef(f.ctx, "acme", "infra", sha, opts)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]any
		for _, r := range res.CheckRuns {
			out = append(out, []any{r.GetApp().GetID(), r.GetApp().GetSlug(), r.GetName(), r.GetConclusion()})
		}
		return out
	}
	if diff := cmp.Diff([][]any{{int64(testAppID + 1), "other-ci", "lint", "success"}, {int64(testAppID), "gitvend", "lint", "failure"}}, list(nil)); diff != "" {
		t.Errorf("runs of every App (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]any{{int64(testAppID), "gitvend", "lint", "failure"}}, list(&github.ListCheckRunsOptions{AppID: github.Int64(testAppID)})); diff != "" {
		t.Errorf("runs of the App (-want +got):\n%s", diff)
	}
	suites, err := f.gh.CheckSuites(testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if len(suites) != 2 {
		t.Errorf("suites: %+v, want one per App", suites)
	}
	runs, err := f.gh.CheckRuns(testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].AppID != testAppID || runs[1].AppID != testAppID+1 {
		t.Errorf("snapshot: %+v", runs)
	}
}

// TestStatusesNameTheirCreator: a status set with the App's token names the
// bot user, one a person sets names that person, who needs write access.
func TestStatusesNameTheirCreator(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	for login, perm := range map[string]string{"carol": "write", "bob": "read"} {
		if err := f.gh.SetPermission(testRepo, login, perm); err != nil {
			t.Fatal(err)
		}
	}
	branches, err := f.gh.Branches(f.ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	sha := branches["main"]
	if _, _, err := f.client.Repositories.CreateStatus(f.ctx, "acme", "infra", sha, &github.RepoStatus{State: github.String("pending"), Context: github.String("gitvend/apply/dev")}); err != nil {
		t.Fatal(err)
	}
	if err := f.gh.PostStatus(f.ctx, testRepo, StatusSpec{User: "carol", SHA: sha, State: "success", Context: "gitvend/apply/dev"}); err != nil {
		t.Fatal(err)
	}
	if err := f.gh.PostStatus(f.ctx, testRepo, StatusSpec{User: "bob", SHA: sha, State: "success", Context: "gitvend/apply/dev"}); err == nil {
		t.Error("a reader set a status")
	}
	list, _, err := f.client.Repositories.ListStatuses(f.ctx, "acme", "infra", sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, st := range list {
		got = append(got, []string{st.GetCreator().GetLogin(), st.GetState()})
	}
	if diff := cmp.Diff([][]string{{"carol", "success"}, {"gitvend[bot]", "pending"}}, got); diff != "" {
		t.Errorf("statuses, newest first (-want +got):\n%s", diff)
	}
}
