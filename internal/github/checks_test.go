package github

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/githubtest"
)

func annotations(n int) []Annotation {
	out := make([]Annotation, n)
	for i := range out {
		out[i] = Annotation{Path: "requests/dev/a.yaml", StartLine: i + 1, Level: "warning", Message: fmt.Sprintf("finding %d", i+1)}
	}
	return out
}

func TestCheckRunAnnotationsInBatches(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	head, err := f.client.HeadSHA(ctx, owner, repoName, "main")
	if err != nil {
		t.Fatal(err)
	}
	f.gh.ResetCalls()
	run, err := f.client.CreateCheckRun(ctx, owner, repoName, CheckRunSpec{
		Name: "gitvend/policy", HeadSHA: head, Conclusion: "failure",
		Title: "3 denied", Summary: "Policy failed", Text: "details", Annotations: annotations(120),
	})
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "completed" || run.Conclusion != "failure" || run.AnnotationsCount != 120 {
		t.Errorf("run = %+v", run)
	}
	calls := f.gh.Calls()
	if got := [2]int{calls.ByRoute["POST /repos/{owner}/{repo}/check-runs"], calls.ByRoute["PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}"]}; got != [2]int{1, 2} {
		t.Errorf("create and update calls = %v, want [1 2] (50 + 50 + 20)", got)
	}
	runs, err := f.gh.CheckRuns(fullName)
	if err != nil || len(runs) != 1 {
		t.Fatalf("check runs = %d, %v", len(runs), err)
	}
	got := runs[0]
	if len(got.Annotations) != 120 || got.Annotations[119].Message != "finding 120" || got.Annotations[0].EndLine != 1 {
		t.Errorf("annotations: %d, last %+v", len(got.Annotations), got.Annotations[len(got.Annotations)-1])
	}
	if got.Title != "3 denied" || got.Summary != "Policy failed" || got.Text != "details" {
		t.Errorf("output = %q %q %q", got.Title, got.Summary, got.Text)
	}

	// An update appends; without annotations it only changes the state.
	if _, err := f.client.UpdateCheckRun(ctx, owner, repoName, run.ID, CheckRunSpec{
		Name: "gitvend/policy", Conclusion: "success", Summary: "fixed", Annotations: annotations(60),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.UpdateCheckRun(ctx, owner, repoName, run.ID, CheckRunSpec{Name: "gitvend/policy", Conclusion: "neutral"}); err != nil {
		t.Fatal(err)
	}
	runs, _ = f.gh.CheckRuns(fullName)
	if n := len(runs[0].Annotations); n != 180 || runs[0].Conclusion != "neutral" {
		t.Errorf("after updates: %d annotations, conclusion %s; want 180, neutral", n, runs[0].Conclusion)
	}

	list, err := f.client.ListCheckRuns(ctx, owner, repoName, head)
	if err != nil || len(list) != 1 || list[0].ID != run.ID {
		t.Fatalf("ListCheckRuns = %+v, %v", list, err)
	}
}

func TestCheckRunAnnotationsUnderFaults(t *testing.T) {
	f := newFixture(t, fixtureOptions{policy: RetryPolicy{MaxAttempts: 10}})
	ctx := context.Background()
	head, err := f.client.HeadSHA(ctx, owner, repoName, "main")
	if err != nil {
		t.Fatal(err)
	}
	f.gh.SetFaults(githubtest.Faults{ErrorRate: 0.4, Seed: 5})
	run, err := f.client.CreateCheckRun(ctx, owner, repoName, CheckRunSpec{
		Name: "gitvend/cost", HeadSHA: head, Conclusion: "success", Summary: "$12", Annotations: annotations(230),
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.gh.Calls().Faulted == 0 {
		t.Fatal("no fault was injected; the test proves nothing")
	}
	f.gh.SetFaults(githubtest.Faults{})
	runs, err := f.gh.CheckRuns(fullName)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.ID == run.ID && len(r.Annotations) != 230 {
			t.Errorf("run %d has %d annotations, want 230 (none twice)", r.ID, len(r.Annotations))
		}
	}
}

func TestCheckRunValidation(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	sha := strings.Repeat("a", 40)
	tests := []struct {
		name string
		spec CheckRunSpec
		want []string
	}{
		{"no name", CheckRunSpec{HeadSHA: sha}, []string{"name"}},
		{"short sha", CheckRunSpec{Name: "x", HeadSHA: "abc"}, []string{"head sha"}},
		{"bad status", CheckRunSpec{Name: "x", HeadSHA: sha, Status: "done"}, []string{"status"}},
		{"completed without conclusion", CheckRunSpec{Name: "x", HeadSHA: sha, Status: "completed"}, []string{"conclusion: required"}},
		{"bad conclusion", CheckRunSpec{Name: "x", HeadSHA: sha, Conclusion: "great"}, []string{"conclusion"}},
		{"output without summary", CheckRunSpec{Name: "x", HeadSHA: sha, Title: "t"}, []string{"summary"}},
		{"bad annotation", CheckRunSpec{Name: "x", HeadSHA: sha, Summary: "s", Annotations: []Annotation{{Path: "/abs", StartLine: 0, Level: "error"}}},
			[]string{"annotations[0].path", "annotations[0]: lines", "annotations[0].level", "annotations[0].message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.client.CreateCheckRun(ctx, owner, repoName, tt.spec)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := f.client.UpdateCheckRun(ctx, owner, repoName, 1, CheckRunSpec{Conclusion: "success"}); err == nil || !strings.Contains(err.Error(), "name") {
		t.Errorf("UpdateCheckRun without name = %v", err)
	}
	if n := f.gh.Calls().Total; n != 0 {
		t.Errorf("bad input made %d calls, want 0", n)
	}
}

func TestBatches(t *testing.T) {
	tests := []struct {
		n    int
		want []int
	}{{0, []int{0}}, {1, []int{1}}, {50, []int{50}}, {51, []int{50, 1}}, {150, []int{50, 50, 50}}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			var got []int
			for _, b := range batches(annotations(tt.n)) {
				got = append(got, len(b))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("batch sizes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChecksAndStatusesKeepToTheApp: a same-named check run of another App
// is not the App's (it is not listed, and EnsureCheckRuns posts the App's
// own), and a status of gitvend's context set by a person is not the App's.
func TestChecksAndStatusesKeepToTheApp(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	head, err := f.client.HeadSHA(ctx, owner, repoName, "main")
	if err != nil {
		t.Fatal(err)
	}
	other := githubtest.App{ID: testAppID + 1, Slug: "lookalike"}
	if _, err := f.gh.CreateCheckRunAs(ctx, fullName, other, githubtest.CheckRunSpec{Name: "gitvend/policy", HeadSHA: head, Conclusion: "success", Summary: "all fine"}); err != nil {
		t.Fatal(err)
	}
	existing, err := f.client.ListCheckRuns(ctx, owner, repoName, head)
	if err != nil {
		t.Fatal(err)
	}
	if len(existing) != 0 {
		t.Errorf("ListCheckRuns = %+v, want none of the App's", existing)
	}
	// Even when handed another App's run, EnsureCheckRuns posts its own.
	foreign := []CheckRun{{ID: 1, AppID: other.ID, Name: "gitvend/policy", HeadSHA: head, Status: "completed", Conclusion: "success"}}
	spec := []CheckRunSpec{{Name: "gitvend/policy", HeadSHA: head, Conclusion: "failure", Title: "1 denied", Summary: "denied"}}
	if did, err := f.client.EnsureCheckRuns(ctx, owner, repoName, spec, foreign); err != nil || did != Created {
		t.Fatalf("EnsureCheckRuns = %v, %v; want created", did, err)
	}
	own, err := f.client.ListCheckRuns(ctx, owner, repoName, head)
	if err != nil {
		t.Fatal(err)
	}
	if len(own) != 1 || own[0].AppID != testAppID || own[0].Conclusion != "failure" {
		t.Errorf("the App's runs = %+v", own)
	}

	if err := f.gh.SetPermission(fullName, "carol", "write"); err != nil {
		t.Fatal(err)
	}
	if err := f.gh.PostStatus(ctx, fullName, githubtest.StatusSpec{User: "carol", SHA: head, State: "success", Context: "gitvend/apply/prod"}); err != nil {
		t.Fatal(err)
	}
	if state, err := f.client.StatusState(ctx, owner, repoName, head, "gitvend/apply/prod"); err != nil || state != "" {
		t.Errorf("StatusState with only a person's status = %q, %v; want none", state, err)
	}
	if err := f.client.SetStatus(ctx, owner, repoName, head, "gitvend/apply/prod", "failure", "apply failed", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.gh.PostStatus(ctx, fullName, githubtest.StatusSpec{User: "carol", SHA: head, State: "success", Context: "gitvend/apply/prod"}); err != nil {
		t.Fatal(err)
	}
	if state, err := f.client.StatusState(ctx, owner, repoName, head, "gitvend/apply/prod"); err != nil || state != "failure" {
		t.Errorf("StatusState under a newer person's status = %q, %v; want the App's failure", state, err)
	}
}
