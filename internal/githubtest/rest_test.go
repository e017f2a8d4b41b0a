package githubtest

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

func TestRouteMatching(t *testing.T) {
	t.Parallel()
	s := &Server{}
	s.routes = s.routeTable()
	tests := []struct {
		method, path string
		wantRoute    string
		wantParams   map[string]string
	}{
		{"GET", "/repos/a/b/git/ref/heads/gitvend/request-1", "/repos/{owner}/{repo}/git/ref/{ref}",
			map[string]string{"owner": "a", "repo": "b", "ref": "heads/gitvend/request-1"}},
		{"PATCH", "/repos/a/b/git/refs/heads/x", "/repos/{owner}/{repo}/git/refs/{ref}",
			map[string]string{"owner": "a", "repo": "b", "ref": "heads/x"}},
		{"GET", "/repos/a/b/commits/feature/x/check-runs", "/repos/{owner}/{repo}/commits/{ref}/check-runs",
			map[string]string{"owner": "a", "repo": "b", "ref": "feature/x"}},
		{"GET", "/repos/a/b/commits/abc/status", "/repos/{owner}/{repo}/commits/{ref}/status",
			map[string]string{"owner": "a", "repo": "b", "ref": "abc"}},
		{"PUT", "/repos/a/b/contents/requests/dev/x%20y.yaml", "/repos/{owner}/{repo}/contents/{path}",
			map[string]string{"owner": "a", "repo": "b", "path": "requests/dev/x y.yaml"}},
		{"GET", "/repos/a/b/issues/comments/12", "/repos/{owner}/{repo}/issues/comments/{comment_id}",
			map[string]string{"owner": "a", "repo": "b", "comment_id": "12"}},
		{"GET", "/repos/a/b/issues/12", "/repos/{owner}/{repo}/issues/{issue_number}",
			map[string]string{"owner": "a", "repo": "b", "issue_number": "12"}},
		{"DELETE", "/repos/a/b/issues/3/labels/needs%20review", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
			map[string]string{"owner": "a", "repo": "b", "issue_number": "3", "name": "needs review"}},
		{"GET", "/repos/a/b/unknown", "", nil},
		{"GET", "/repos/a/b/issues/1/comments/extra", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rt, params, _ := s.match(tc.method, tc.path)
			got := ""
			if rt != nil {
				got = rt.template
			}
			if got != tc.wantRoute {
				t.Fatalf("route = %q, want %q", got, tc.wantRoute)
			}
			if rt == nil {
				return
			}
			if diff := cmp.Diff(tc.wantParams, params); diff != "" {
				t.Fatalf("params (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPaginationAndCallCounts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	for i := range 25 {
		if _, err := f.gh.OpenIssue(f.ctx, testRepo, IssueSpec{User: "alice", Title: fmt.Sprintf("issue %d", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	f.gh.ResetCalls()
	type page struct {
		Numbers  []int
		NextPage int
		LastPage int
	}
	var got []page
	opts := &github.IssueListByRepoOptions{Direction: "asc", ListOptions: github.ListOptions{PerPage: 10}}
	for {
		issues, resp, err := f.client.Issues.ListByRepo(f.ctx, "acme", "infra", opts)
		if err != nil {
			t.Fatal(err)
		}
		p := page{NextPage: resp.NextPage, LastPage: resp.LastPage}
		for _, is := range issues {
			p.Numbers = append(p.Numbers, is.GetNumber())
		}
		got = append(got, p)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	want := []page{
		{Numbers: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, NextPage: 2, LastPage: 3},
		{Numbers: []int{11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, NextPage: 3, LastPage: 3},
		{Numbers: []int{21, 22, 23, 24, 25}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("pages (-want +got):\n%s", diff)
	}

	for range 2 {
		if _, _, err := f.client.Issues.CreateComment(f.ctx, "acme", "infra", 1, &github.IssueComment{Body: github.String("hi")}); err != nil {
			t.Fatal(err)
		}
	}
	calls := f.gh.Calls()
	wantCalls := CallStats{
		ByRoute: map[string]int{
			"GET /repos/{owner}/{repo}/issues":                          3,
			"POST /repos/{owner}/{repo}/issues/{issue_number}/comments": 2,
			"POST /app/installations/{installation_id}/access_tokens":   1,
		},
		Total:         6,
		RateLimitUsed: 6,
	}
	if diff := cmp.Diff(wantCalls, calls); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
	f.gh.ResetCalls()
	if diff := cmp.Diff(CallStats{ByRoute: map[string]int{}}, f.gh.Calls()); diff != "" {
		t.Fatalf("calls after reset (-want +got):\n%s", diff)
	}
}

func TestSnapshots(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	ctx, c := f.ctx, f.client
	if err := f.gh.CreateLabel(testRepo, Label{Name: "gitvend"}); err != nil {
		t.Fatal(err)
	}
	n, err := f.gh.OpenIssue(ctx, testRepo, IssueSpec{User: "alice", Title: "Namespace", Body: "please", Labels: []string{"gitvend"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Reactions.CreateIssueReaction(ctx, "acme", "infra", n, "eyes"); err != nil {
		t.Fatal(err)
	}
	cm, _, err := c.Issues.CreateComment(ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("PR opened")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Reactions.CreateIssueCommentReaction(ctx, "acme", "infra", cm.GetID(), "+1"); err != nil {
		t.Fatal(err)
	}
	// The same reaction twice is one reaction, answered 200.
	if _, resp, err := c.Reactions.CreateIssueCommentReaction(ctx, "acme", "infra", cm.GetID(), "+1"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("repeated reaction: %v %v", resp, err)
	}
	is, err := f.gh.Issue(testRepo, n)
	if err != nil {
		t.Fatal(err)
	}
	wantIssue := Issue{
		Number: n, Title: "Namespace", Body: "please", User: "alice", State: "open", Labels: []string{"gitvend"},
		Reactions: []Reaction{{User: "gitvend[bot]", Content: "eyes"}},
		Comments:  []Comment{{ID: cm.GetID(), User: "gitvend[bot]", Body: "PR opened", Reactions: []Reaction{{User: "gitvend[bot]", Content: "+1"}}}},
	}
	ignoreTimes := cmp.FilterPath(func(p cmp.Path) bool {
		switch p.Last().String() {
		case ".CreatedAt", ".UpdatedAt", ".ClosedAt":
			return true
		}
		return false
	}, cmp.Ignore())
	if diff := cmp.Diff(wantIssue, is, ignoreTimes); diff != "" {
		t.Fatalf("issue snapshot (-want +got):\n%s", diff)
	}

	branches, err := f.gh.Branches(ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	sha := branches["main"]
	run, _, err := c.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{Name: "gitvend/cost", HeadSHA: sha,
		Conclusion: github.String("success"), Output: &github.CheckRunOutput{Title: github.String("$12.40/month"), Summary: github.String("+$3.10"),
			Annotations: []*github.CheckRunAnnotation{{Path: github.String("a.yaml"), StartLine: github.Int(3), EndLine: github.Int(3),
				StartColumn: github.Int(1), EndColumn: github.Int(4), AnnotationLevel: github.String("notice"), Message: github.String("costs $3.10")}}}})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := f.gh.CheckRuns(testRepo)
	if err != nil {
		t.Fatal(err)
	}
	suites, err := f.gh.CheckSuites(testRepo)
	if err != nil || len(suites) != 1 {
		t.Fatalf("suites %v %v", suites, err)
	}
	wantRuns := []CheckRun{{ID: run.GetID(), AppID: testAppID, SuiteID: suites[0].ID, Name: "gitvend/cost", HeadSHA: sha, Status: "completed", Conclusion: "success",
		Title: "$12.40/month", Summary: "+$3.10",
		Annotations: []Annotation{{Path: "a.yaml", StartLine: 3, EndLine: 3, StartColumn: 1, EndColumn: 4, Level: "notice", Message: "costs $3.10"}}}}
	if diff := cmp.Diff(wantRuns, runs); diff != "" {
		t.Fatalf("check runs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(CheckSuite{ID: suites[0].ID, HeadSHA: sha, Status: "completed", Conclusion: "success"}, suites[0]); diff != "" {
		t.Fatalf("check suite (-want +got):\n%s", diff)
	}

	tooMany := make([]*github.CheckRunAnnotation, 51)
	for i := range tooMany {
		tooMany[i] = &github.CheckRunAnnotation{Path: github.String("a.yaml"), StartLine: github.Int(1), EndLine: github.Int(1), AnnotationLevel: github.String("warning"), Message: github.String("m")}
	}
	_, resp, err := c.Checks.UpdateCheckRun(ctx, "acme", "infra", run.GetID(), github.UpdateCheckRunOptions{Name: "gitvend/cost", Output: &github.CheckRunOutput{Summary: github.String("s"), Annotations: tooMany}})
	if err == nil || resp.StatusCode != 422 {
		t.Fatalf("51 annotations: %v, want 422", err)
	}

	if _, _, err := c.Repositories.CreateStatus(ctx, "acme", "infra", sha, &github.RepoStatus{State: github.String("pending"), Context: github.String("gitvend/apply/dev")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Repositories.CreateStatus(ctx, "acme", "infra", sha, &github.RepoStatus{State: github.String("success"), Context: github.String("gitvend/apply/dev"), Description: github.String("3 objects applied")}); err != nil {
		t.Fatal(err)
	}
	combined, _, err := c.Repositories.GetCombinedStatus(ctx, "acme", "infra", "main", nil)
	if err != nil {
		t.Fatal(err)
	}
	if combined.GetState() != "success" || combined.GetTotalCount() != 1 {
		t.Fatalf("combined status %s with %d contexts, want success with 1", combined.GetState(), combined.GetTotalCount())
	}
	statuses, err := f.gh.Statuses(testRepo)
	if err != nil {
		t.Fatal(err)
	}
	for i := range statuses {
		statuses[i].ID = 0
	}
	wantStatuses := []Status{
		{SHA: sha, State: "pending", Context: "gitvend/apply/dev", Creator: "gitvend[bot]"},
		{SHA: sha, State: "success", Context: "gitvend/apply/dev", Description: "3 objects applied", Creator: "gitvend[bot]"},
	}
	if diff := cmp.Diff(wantStatuses, statuses); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
}
