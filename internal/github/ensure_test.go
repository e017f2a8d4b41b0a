package github

import (
	"context"
	"testing"

	"github.com/gitvend/gitvend/internal/githubtest"
)

func TestEnsurePR(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	branch := "gitvend/request-7"
	if _, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{
		User: f.gh.BotLogin(), Branch: branch, Files: map[string]string{"requests/dev/a/web.yaml": "kind: Request\n"},
	}); err != nil {
		t.Fatal(err)
	}
	spec := NewPR{Title: "gitvend: web", Body: "Closes #7", Head: branch, Base: "main"}
	pr, did, err := f.client.EnsurePR(ctx, owner, repoName, spec, nil)
	if err != nil || did != Created {
		t.Fatalf("EnsurePR with none open = %+v, %v, %v; want created", pr, did, err)
	}
	// Found again by its head: nothing to do.
	open, err := f.client.FindPRByHead(ctx, owner, repoName, branch)
	if err != nil {
		t.Fatal(err)
	}
	f.gh.ResetCalls()
	again, did, err := f.client.EnsurePR(ctx, owner, repoName, spec, &open)
	if err != nil || did != Unchanged || again.Number != pr.Number {
		t.Fatalf("EnsurePR unchanged = #%d, %v, %v", again.Number, did, err)
	}
	if calls := f.gh.Calls(); calls.Total != 0 {
		t.Errorf("an unchanged pull request cost %d calls: %v", calls.Total, calls.ByRoute)
	}
	spec.Body = "Closes #7\n\nrendered again"
	edited, did, err := f.client.EnsurePR(ctx, owner, repoName, spec, &open)
	if err != nil || did != Updated || edited.Number != pr.Number || edited.Body != spec.Body {
		t.Fatalf("EnsurePR changed = %+v, %v, %v", edited, did, err)
	}
	// A caller that missed the open pull request still gets that one.
	missed, _, err := f.client.EnsurePR(ctx, owner, repoName, spec, nil)
	if err != nil || missed.Number != pr.Number {
		t.Fatalf("EnsurePR after a missed lookup = #%d, %v; want #%d", missed.Number, err, pr.Number)
	}
	if prs, _ := f.gh.PullRequests(fullName); len(prs) != 1 {
		t.Errorf("%d pull requests, want 1", len(prs))
	}
	other := open
	other.Head = "someone-else"
	if _, _, err := f.client.EnsurePR(ctx, owner, repoName, spec, &other); err == nil {
		t.Error("EnsurePR took a pull request of another head")
	}
}

func TestEnsureCheckRuns(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	head, err := f.client.HeadSHA(ctx, owner, repoName, "main")
	if err != nil {
		t.Fatal(err)
	}
	runs := []CheckRunSpec{
		{Name: "gitvend/policy", HeadSHA: head, Conclusion: "success", Title: "passed", Summary: "ok"},
		{Name: "gitvend/cost", HeadSHA: head, Conclusion: "success", Title: "$1/month", Summary: "ok"},
	}
	// One of the two was posted before a crash.
	if _, err := f.client.CreateCheckRun(ctx, owner, repoName, runs[0]); err != nil {
		t.Fatal(err)
	}
	existing, err := f.client.ListCheckRuns(ctx, owner, repoName, head)
	if err != nil {
		t.Fatal(err)
	}
	did, err := f.client.EnsureCheckRuns(ctx, owner, repoName, runs, existing)
	if err != nil || did != Created {
		t.Fatalf("EnsureCheckRuns = %v, %v; want created", did, err)
	}
	existing, err = f.client.ListCheckRuns(ctx, owner, repoName, head)
	if err != nil {
		t.Fatal(err)
	}
	f.gh.ResetCalls()
	if did, err := f.client.EnsureCheckRuns(ctx, owner, repoName, runs, existing); err != nil || did != Unchanged {
		t.Fatalf("EnsureCheckRuns again = %v, %v; want unchanged", did, err)
	}
	if calls := f.gh.Calls(); calls.Total != 0 {
		t.Errorf("runs that exist cost %d calls", calls.Total)
	}
	all, err := f.gh.CheckRuns(fullName)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, r := range all {
		names[r.Name]++
	}
	if names["gitvend/policy"] != 1 || names["gitvend/cost"] != 1 || len(all) != 2 {
		t.Errorf("check runs by name = %v, want one of each", names)
	}
}

// TestEnsureCheckRunsInProgressThenCompleted: a run created in progress
// when work starts is completed in place with its output, never doubled;
// ensuring either state again changes nothing.
func TestEnsureCheckRunsInProgressThenCompleted(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	head, err := f.client.HeadSHA(ctx, owner, repoName, "main")
	if err != nil {
		t.Fatal(err)
	}
	const details = "https://gitvend.example/requests/acme/infra/1"
	started := []CheckRunSpec{{Name: "gitvend/policy", HeadSHA: head, Status: "in_progress", DetailsURL: details, Title: "Checking", Summary: "Checking policies…"}}
	finished := []CheckRunSpec{{Name: "gitvend/policy", HeadSHA: head, Conclusion: "failure", DetailsURL: details, Title: "1 denied", Summary: "1 object denied",
		Annotations: []Annotation{{Path: "requests/dev/a/web.yaml", StartLine: 1, Level: "failure", Message: "denied"}}}}
	ensure := func(specs []CheckRunSpec, want Ensured) {
		t.Helper()
		existing, err := f.client.ListCheckRuns(ctx, owner, repoName, head)
		if err != nil {
			t.Fatal(err)
		}
		did, err := f.client.EnsureCheckRuns(ctx, owner, repoName, specs, existing)
		if err != nil || did != want {
			t.Fatalf("EnsureCheckRuns = %v, %v; want %v", did, err, want)
		}
	}
	ensure(started, Created)
	ensure(started, Unchanged)
	ensure(finished, Updated)
	ensure(finished, Unchanged)
	ensure(started, Unchanged) // a completed run is not taken back
	all, err := f.gh.CheckRuns(fullName)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("check runs: %+v, want one", all)
	}
	r := all[0]
	if r.Status != "completed" || r.Conclusion != "failure" || r.Summary != "1 object denied" || r.DetailsURL != details || len(r.Annotations) != 1 {
		t.Errorf("run: %+v, want completed as failure with its output, details URL and annotation", r)
	}
}
