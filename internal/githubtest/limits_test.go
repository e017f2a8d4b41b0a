package githubtest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// refusal is what a 422 told: the message and the first error entry.
type refusal struct {
	Status   int
	Message  string
	Resource string
	Field    string
	Code     string
	Detail   string
}

func refusalOf(t *testing.T, err error) refusal {
	t.Helper()
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("want a GitHub error response, got %v", err)
	}
	r := refusal{Status: er.Response.StatusCode, Message: er.Message}
	if len(er.Errors) > 0 {
		e := er.Errors[0]
		r.Resource, r.Field, r.Code, r.Detail = e.Resource, e.Field, e.Code, e.Message
	}
	return r
}

// TestTextLimits: every text field is refused one character over GitHub's
// limit with GitHub's 422, accepted at the limit, and counted in
// characters (bodies, titles, descriptions) or also in bytes (check run
// output), so a text of multi-byte characters is judged like on GitHub.
func TestTextLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	ctx := f.ctx
	sha, err := f.gh.Push(ctx, testRepo, PushSpec{User: "alice", Branch: "feature", Files: map[string]string{"a.txt": "a\n"}})
	if err != nil {
		t.Fatal(err)
	}
	issue, err := f.gh.OpenIssue(ctx, testRepo, IssueSpec{User: "alice", Title: "limits"})
	if err != nil {
		t.Fatal(err)
	}
	cm, _, err := f.client.Issues.CreateComment(ctx, "acme", "infra", issue, &github.IssueComment{Body: github.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	pr, _, err := f.client.PullRequests.Create(ctx, "acme", "infra", &github.NewPullRequest{Title: github.String("pr"), Head: github.String("feature"), Base: github.String("main")})
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := f.client.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{Name: "limits", HeadSHA: sha})
	if err != nil {
		t.Fatal(err)
	}
	output := func(summary, text string) *github.CheckRunOutput {
		o := &github.CheckRunOutput{Title: github.String("t"), Summary: github.String(summary)}
		if text != "" {
			o.Text = github.String(text)
		}
		return o
	}
	annotations := func(n int) *github.CheckRunOutput {
		o := output("s", "")
		for i := range n {
			o.Annotations = append(o.Annotations, &github.CheckRunAnnotation{Path: github.String("a.txt"), StartLine: github.Int(1), EndLine: github.Int(1),
				AnnotationLevel: github.String("notice"), Message: github.String(fmt.Sprint("note ", i))})
		}
		return o
	}

	type post func(text string) error
	fields := []struct {
		name  string
		limit int
		send  post
		over  refusal
	}{
		{"issue title on create", 256, func(s string) error {
			_, _, err := f.client.Issues.Create(ctx, "acme", "infra", &github.IssueRequest{Title: &s})
			return err
		}, refusal{422, "Validation Failed", "Issue", "title", "custom", "title is too long (maximum is 256 characters)"}},
		{"issue body on create", 65536, func(s string) error {
			_, _, err := f.client.Issues.Create(ctx, "acme", "infra", &github.IssueRequest{Title: github.String("t"), Body: &s})
			return err
		}, refusal{422, "Validation Failed", "Issue", "body", "custom", "body is too long (maximum is 65536 characters)"}},
		{"issue title on edit", 256, func(s string) error {
			_, _, err := f.client.Issues.Edit(ctx, "acme", "infra", issue, &github.IssueRequest{Title: &s})
			return err
		}, refusal{422, "Validation Failed", "Issue", "title", "custom", "title is too long (maximum is 256 characters)"}},
		{"issue body on edit", 65536, func(s string) error {
			_, _, err := f.client.Issues.Edit(ctx, "acme", "infra", issue, &github.IssueRequest{Body: &s})
			return err
		}, refusal{422, "Validation Failed", "Issue", "body", "custom", "body is too long (maximum is 65536 characters)"}},
		{"comment body on create", 65536, func(s string) error {
			_, _, err := f.client.Issues.CreateComment(ctx, "acme", "infra", issue, &github.IssueComment{Body: &s})
			return err
		}, refusal{422, "Validation Failed", "IssueComment", "body", "custom", "body is too long (maximum is 65536 characters)"}},
		{"comment body on edit", 65536, func(s string) error {
			_, _, err := f.client.Issues.EditComment(ctx, "acme", "infra", cm.GetID(), &github.IssueComment{Body: &s})
			return err
		}, refusal{422, "Validation Failed", "IssueComment", "body", "custom", "body is too long (maximum is 65536 characters)"}},
		{"pull request title on edit", 256, func(s string) error {
			_, _, err := f.client.PullRequests.Edit(ctx, "acme", "infra", pr.GetNumber(), &github.PullRequest{Title: &s})
			return err
		}, refusal{422, "Validation Failed", "Issue", "title", "custom", "title is too long (maximum is 256 characters)"}},
		{"pull request body on edit", 65536, func(s string) error {
			_, _, err := f.client.PullRequests.Edit(ctx, "acme", "infra", pr.GetNumber(), &github.PullRequest{Body: &s})
			return err
		}, refusal{422, "Validation Failed", "Issue", "body", "custom", "body is too long (maximum is 65536 characters)"}},
		{"status description", 140, func(s string) error {
			_, _, err := f.client.Repositories.CreateStatus(ctx, "acme", "infra", sha, &github.RepoStatus{State: github.String("success"), Context: github.String("c"), Description: &s})
			return err
		}, refusal{422, "Validation Failed", "Status", "description", "custom", "description is too long (maximum is 140 characters)"}},
	}
	for _, fl := range fields {
		t.Run(fl.name, func(t *testing.T) {
			if err := fl.send(strings.Repeat("a", fl.limit)); err != nil {
				t.Fatalf("exactly %d characters refused: %v", fl.limit, err)
			}
			// Multi-byte characters count once each: "é" is two bytes.
			if err := fl.send(strings.Repeat("é", fl.limit)); err != nil {
				t.Fatalf("%d two-byte characters refused: %v", fl.limit, err)
			}
			err := fl.send(strings.Repeat("é", fl.limit+1))
			if err == nil {
				t.Fatalf("%d characters accepted", fl.limit+1)
			}
			if diff := cmp.Diff(fl.over, refusalOf(t, err)); diff != "" {
				t.Errorf("refusal (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("pull request on create", func(t *testing.T) {
		for _, tc := range []struct {
			title, body string
			want        refusal
		}{
			{strings.Repeat("ü", 257), "", refusal{422, "Validation Failed", "Issue", "title", "custom", "title is too long (maximum is 256 characters)"}},
			{"t", strings.Repeat("ü", 65537), refusal{422, "Validation Failed", "Issue", "body", "custom", "body is too long (maximum is 65536 characters)"}},
		} {
			_, _, err := f.client.PullRequests.Create(ctx, "acme", "infra", &github.NewPullRequest{Title: &tc.title, Body: &tc.body, Head: github.String("feature"), Base: github.String("main")})
			if err == nil {
				t.Fatal("an over-long pull request was opened")
			}
			if diff := cmp.Diff(tc.want, refusalOf(t, err)); diff != "" {
				t.Errorf("refusal (-want +got):\n%s", diff)
			}
		}
	})

	t.Run("check run output", func(t *testing.T) {
		update := func(o *github.CheckRunOutput) error {
			_, _, err := f.client.Checks.UpdateCheckRun(ctx, "acme", "infra", run.GetID(), github.UpdateCheckRunOptions{Name: "limits", Output: o})
			return err
		}
		create := func(o *github.CheckRunOutput) error {
			_, _, err := f.client.Checks.CreateCheckRun(ctx, "acme", "infra", github.CreateCheckRunOptions{Name: "limits", HeadSHA: sha, Output: o})
			return err
		}
		max := strings.Repeat("a", 65535)
		for name, send := range map[string]func(*github.CheckRunOutput) error{"create": create, "update": update} {
			if err := send(output(max, max)); err != nil {
				t.Errorf("%s: 65535 bytes of summary and text refused: %v", name, err)
			}
			if err := send(annotations(50)); err != nil {
				t.Errorf("%s: 50 annotations refused: %v", name, err)
			}
		}
		tests := []struct {
			name string
			out  *github.CheckRunOutput
			want refusal
		}{
			{"summary one character over", output(max+"a", ""), refusal{Status: 422, Message: "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied."}},
			{"text one character over", output("s", max+"a"), refusal{Status: 422, Message: "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied."}},
			// 32768 two-byte characters are 65536 bytes: few enough
			// characters, too many bytes.
			{"summary in multi-byte characters", output(strings.Repeat("é", 32768), ""), refusal{422, "Validation Failed", "CheckRun", "summary", "custom", "summary exceeds a maximum bytesize of 65535"}},
			{"text in multi-byte characters", output("s", strings.Repeat("é", 32768)), refusal{422, "Validation Failed", "CheckRun", "text", "custom", "text exceeds a maximum bytesize of 65535"}},
			{"51 annotations", annotations(51), refusal{Status: 422, Message: "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."}},
		}
		for _, tc := range tests {
			for name, send := range map[string]func(*github.CheckRunOutput) error{"create": create, "update": update} {
				err := send(tc.out)
				if err == nil {
					t.Errorf("%s %s: accepted", name, tc.name)
					continue
				}
				if diff := cmp.Diff(tc.want, refusalOf(t, err)); diff != "" {
					t.Errorf("%s %s: refusal (-want +got):\n%s", name, tc.name, diff)
				}
			}
		}
		got, _, err := f.client.Checks.GetCheckRun(ctx, "acme", "infra", run.GetID())
		if err != nil {
			t.Fatal(err)
		}
		if n := got.GetOutput().GetAnnotationsCount(); n != 50 {
			t.Errorf("annotations after refusals: %d, want the 50 accepted", n)
		}
	})
}

// TestPeopleMeetTheSameLimits: what a person writes in the web interface is
// bound by the same limits, so no test can hand gitvend a comment or an
// issue body GitHub would never have accepted.
func TestPeopleMeetTheSameLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	ctx := f.ctx
	long := strings.Repeat("é", maxBody+1)
	if _, err := f.gh.OpenIssue(ctx, testRepo, IssueSpec{User: "alice", Title: strings.Repeat("t", maxTitle+1)}); err == nil || !strings.Contains(err.Error(), "422") {
		t.Errorf("issue title over the limit: %v", err)
	}
	if _, err := f.gh.OpenIssue(ctx, testRepo, IssueSpec{User: "alice", Title: "t", Body: long}); err == nil || !strings.Contains(err.Error(), "422") {
		t.Errorf("issue body over the limit: %v", err)
	}
	n, err := f.gh.OpenIssue(ctx, testRepo, IssueSpec{User: "alice", Title: "t", Body: long[:len(long)-2]})
	if err != nil {
		t.Fatalf("issue body at the limit: %v", err)
	}
	if err := f.gh.EditIssueBody(ctx, testRepo, n, "alice", long); err == nil || !strings.Contains(err.Error(), "422") {
		t.Errorf("issue body edited over the limit: %v", err)
	}
	if _, err := f.gh.Comment(ctx, testRepo, n, "alice", long); err == nil || !strings.Contains(err.Error(), "422") {
		t.Errorf("comment over the limit: %v", err)
	}
	id, err := f.gh.Comment(ctx, testRepo, n, "alice", "short")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.gh.EditComment(ctx, testRepo, id, "alice", long); err == nil || !strings.Contains(err.Error(), "422") {
		t.Errorf("comment edited over the limit: %v", err)
	}
}
