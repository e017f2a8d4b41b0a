package githubtest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// TestCheckRunLifecycle: a run goes queued → in progress → completed as on
// GitHub: completing needs a conclusion, completed_at is set then and
// started_at kept, a completed run does not go back, and details_url is
// stored and returned (REST and webhooks), like a status's target_url.
func TestCheckRunLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	ctx := f.ctx
	branches, err := f.gh.Branches(ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	sha := branches["main"]
	const details = "https://gitvend.example/requests/acme/infra/1"
	run, _, err := f.client.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{
		Name: "gitvend/policy", HeadSHA: sha, Status: github.String("in_progress"), DetailsURL: github.String(details),
		Output: &github.CheckRunOutput{Title: github.String("Checking"), Summary: github.String("Checking policies…")}})
	if err != nil {
		t.Fatal(err)
	}
	if run.GetStatus() != "in_progress" || run.GetConclusion() != "" || run.CompletedAt != nil || run.GetDetailsURL() != details {
		t.Fatalf("created run: status %q conclusion %q completed %v details %q", run.GetStatus(), run.GetConclusion(), run.CompletedAt, run.GetDetailsURL())
	}
	started := run.GetStartedAt().Time

	update := func(o github.UpdateCheckRunOptions) (*github.CheckRun, error) {
		o.Name = "gitvend/policy"
		r, _, err := f.client.Checks.UpdateCheckRun(ctx, "acme", "infra", run.GetID(), o)
		return r, err
	}
	for name, o := range map[string]github.UpdateCheckRunOptions{
		"completed without conclusion":    {Status: github.String("completed")},
		"completed_at without conclusion": {CompletedAt: &github.Timestamp{Time: time.Now()}},
	} {
		_, err := update(o)
		if diff := cmp.Diff(refusal{422, "Validation Failed", "CheckRun", "conclusion", "missing_field", ""}, refusalOf(t, err),
			cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Detail" }, cmp.Ignore())); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	done, err := update(github.UpdateCheckRunOptions{Conclusion: github.String("failure"),
		Output: &github.CheckRunOutput{Title: github.String("2 denied"), Summary: github.String("2 objects denied")}})
	if err != nil {
		t.Fatal(err)
	}
	if done.GetStatus() != "completed" || done.GetConclusion() != "failure" || done.CompletedAt == nil ||
		!done.GetStartedAt().Time.Equal(started) || done.GetDetailsURL() != details || done.GetOutput().GetSummary() != "2 objects denied" {
		t.Errorf("completed run: status %q conclusion %q completed %v started %v (was %v) details %q summary %q",
			done.GetStatus(), done.GetConclusion(), done.CompletedAt, done.GetStartedAt(), started, done.GetDetailsURL(), done.GetOutput().GetSummary())
	}
	for _, back := range []string{"in_progress", "queued"} {
		_, err := update(github.UpdateCheckRunOptions{Status: github.String(back)})
		if got := refusalOf(t, err); got.Status != 422 || got.Field != "status" {
			t.Errorf("completed → %s: %+v, want 422 on status", back, got)
		}
	}
	runs, err := f.gh.CheckRuns(testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != "completed" || runs[0].Conclusion != "failure" {
		t.Errorf("runs after refused updates: %+v, want the one completed run", runs)
	}

	f.idle(t)
	var hookDetails []string
	for _, d := range f.gh.Deliveries() {
		if d.Event != "check_run" {
			continue
		}
		var p struct {
			CheckRun struct {
				DetailsURL string `json:"details_url"`
				Status     string `json:"status"`
			} `json:"check_run"`
		}
		if err := json.Unmarshal(d.Payload, &p); err != nil {
			t.Fatal(err)
		}
		hookDetails = append(hookDetails, d.Action+" "+p.CheckRun.Status+" "+p.CheckRun.DetailsURL)
	}
	if diff := cmp.Diff([]string{"created in_progress " + details, "completed completed " + details}, hookDetails); diff != "" {
		t.Errorf("check_run webhooks (-want +got):\n%s", diff)
	}

	const target = "https://gitvend.example/targets/prod"
	if _, _, err := f.client.Repositories.CreateStatus(ctx, "acme", "infra", sha, &github.RepoStatus{State: github.String("pending"),
		Context: github.String("gitvend/apply/prod"), TargetURL: github.String(target)}); err != nil {
		t.Fatal(err)
	}
	list, _, err := f.client.Repositories.ListStatuses(ctx, "acme", "infra", sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].GetTargetURL() != target {
		t.Errorf("statuses: %+v, want one with target_url %s", list, target)
	}
}
