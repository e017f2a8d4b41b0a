package github

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitvend/gitvend/internal/githubtest"
)

func TestIssues(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	req := f.openIssue(t, "namespace please", "gitvend")
	f.openIssue(t, "unrelated")

	created, err := f.client.CreateIssue(ctx, owner, repoName, NewIssue{Title: "Drift on prod", Body: "diff", Labels: []string{"gitvend", "drift"}})
	if err != nil {
		t.Fatal(err)
	}
	if created.User != f.gh.BotLogin() || created.State != "open" {
		t.Errorf("created issue = %+v", created)
	}
	open, err := f.client.ListOpenIssues(ctx, owner, repoName, "gitvend")
	if err != nil {
		t.Fatal(err)
	}
	numbers := func(list []Issue) []int {
		var out []int
		for _, is := range list {
			out = append(out, is.Number)
		}
		return out
	}
	if diff := cmp.Diff([]int{created.Number, req}, numbers(open)); diff != "" {
		t.Errorf("open gitvend issues (-want +got):\n%s", diff)
	}

	title := "Drift on prod (2)"
	got, err := f.client.EditIssue(ctx, owner, repoName, created.Number, IssueEdit{Title: &title})
	if err != nil || got.Title != title || got.Body != "diff" {
		t.Fatalf("EditIssue = %+v, %v", got, err)
	}
	found, err := f.client.FindIssueByTitle(ctx, owner, repoName, title, "drift")
	if err != nil || found.Number != created.Number {
		t.Fatalf("FindIssueByTitle = %+v, %v", found, err)
	}
	if _, err := f.client.FindIssueByTitle(ctx, owner, repoName, "Drift on prod"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindIssueByTitle(old title) = %v, want ErrNotFound", err)
	}

	// Closing twice posts the comment once; a closed issue is still found.
	for range 2 {
		if err := f.client.CloseIssue(ctx, owner, repoName, created.Number, "Resolved."); err != nil {
			t.Fatal(err)
		}
	}
	is, err := f.gh.Issue(fullName, created.Number)
	if err != nil {
		t.Fatal(err)
	}
	if is.State != "closed" || is.StateReason != "completed" {
		t.Errorf("issue state = %s (%s), want closed (completed)", is.State, is.StateReason)
	}
	if diff := cmp.Diff([]string{"Resolved."}, f.comments(t, created.Number)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
	found, err = f.client.FindIssueByTitle(ctx, owner, repoName, title)
	if err != nil || found.State != "closed" {
		t.Errorf("FindIssueByTitle(closed) = %+v, %v", found, err)
	}

	if err := f.client.AddLabels(ctx, owner, repoName, req, "gitvend", "accepted"); err != nil {
		t.Fatal(err)
	}
	got, err = f.client.GetIssue(ctx, owner, repoName, req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"gitvend", "accepted"}, got.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if _, err := f.client.GetIssue(ctx, owner, repoName, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetIssue(999) = %v, want ErrNotFound", err)
	}
	bad := "shut"
	if _, err := f.client.EditIssue(ctx, owner, repoName, req, IssueEdit{State: &bad}); err == nil {
		t.Error("EditIssue accepted state shut")
	}
}

func TestCreateIssueUnderFaults(t *testing.T) {
	f := newFixture(t, fixtureOptions{policy: RetryPolicy{MaxAttempts: 10}})
	ctx := context.Background()
	f.gh.SetFaults(githubtest.Faults{ErrorRate: 0.5, Seed: 3})
	for _, title := range []string{"Drift on a", "Drift on b", "Drift on c"} {
		if _, err := f.client.CreateIssue(ctx, owner, repoName, NewIssue{Title: title, Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if f.gh.Calls().Faulted == 0 {
		t.Fatal("no fault was injected; the test proves nothing")
	}
	f.gh.SetFaults(githubtest.Faults{})
	all, err := f.gh.Issues(fullName)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, is := range all {
		titles = append(titles, is.Title)
	}
	if diff := cmp.Diff([]string{"Drift on a", "Drift on b", "Drift on c"}, titles); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}
}

func TestPullRequests(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	branch := "gitvend/request-1"
	if _, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{
		User: f.gh.BotLogin(), Branch: branch,
		Files: map[string]string{"requests/dev/a/web.yaml": "kind: Request\n"}, Delete: []string{"gitvend.yaml"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.FindPRByHead(ctx, owner, repoName, branch); !errors.Is(err, ErrNotFound) {
		t.Fatalf("FindPRByHead before = %v, want ErrNotFound", err)
	}
	spec := NewPR{Title: "Provision web", Body: "Closes #1", Head: branch, Base: "main"}
	pr, err := f.client.CreatePR(ctx, owner, repoName, spec)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.client.CreatePR(ctx, owner, repoName, spec)
	if err != nil {
		t.Fatal(err)
	}
	if again.Number != pr.Number {
		t.Errorf("second CreatePR opened #%d, want the existing #%d", again.Number, pr.Number)
	}
	found, err := f.client.FindPRByHead(ctx, owner, repoName, branch)
	if err != nil || found.Number != pr.Number || found.HeadSHA == "" || found.Base != "main" {
		t.Fatalf("FindPRByHead = %+v, %v", found, err)
	}
	body := "Closes #1\n\nrendered"
	edited, err := f.client.EditPR(ctx, owner, repoName, pr.Number, PREdit{Body: &body})
	if err != nil || edited.Body != body || edited.Title != "Provision web" {
		t.Fatalf("EditPR = %+v, %v", edited, err)
	}
	got, err := f.client.GetPR(ctx, owner, repoName, pr.Number)
	if err != nil || got.Body != body {
		t.Fatalf("GetPR = %+v, %v", got, err)
	}
	open, err := f.client.ListOpenPRs(ctx, owner, repoName)
	if err != nil || len(open) != 1 || open[0].Number != pr.Number {
		t.Fatalf("ListOpenPRs = %+v, %v", open, err)
	}
	files, err := f.client.ListPRFiles(ctx, owner, repoName, pr.Number)
	if err != nil {
		t.Fatal(err)
	}
	want := []PRFile{
		{Filename: "gitvend.yaml", Status: "removed", Deletions: 1},
		{Filename: "requests/dev/a/web.yaml", Status: "added", Additions: 1},
	}
	if diff := cmp.Diff(want, files, cmpopts.IgnoreFields(PRFile{}, "SHA")); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	prs, err := f.gh.PullRequests(fullName)
	if err != nil || len(prs) != 1 {
		t.Errorf("pull requests = %d, %v; want exactly 1", len(prs), err)
	}
	if _, err := f.client.CreatePR(ctx, owner, repoName, NewPR{Title: "x", Head: "refs/heads/x", Base: "main"}); err == nil {
		t.Error("CreatePR accepted a ref as head")
	}
}

func TestPermissionAndTeams(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	for _, role := range []string{"admin", "maintain", "write", "triage", "read", "none"} {
		if err := f.gh.SetPermission(fullName, "user-"+role, role); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ user, want string }{
		{"user-admin", "admin"}, {"user-maintain", "maintain"}, {"user-write", "write"},
		{"user-triage", "triage"}, {"user-read", "read"}, {"user-none", "none"}, {"ghost", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			got, err := f.client.Permission(ctx, owner, repoName, tt.user)
			if err != nil || got != tt.want {
				t.Errorf("Permission(%s) = %q, %v; want %q", tt.user, got, err, tt.want)
			}
		})
	}
	f.gh.SetTeamMembers(owner, "payments", "alice")
	for _, tt := range []struct {
		user string
		want bool
	}{{"alice", true}, {"bob", false}} {
		got, err := f.client.IsTeamMember(ctx, owner, "payments", tt.user)
		if err != nil || got != tt.want {
			t.Errorf("IsTeamMember(%s) = %v, %v; want %v", tt.user, got, err, tt.want)
		}
	}
	if _, err := f.client.IsTeamMember(ctx, owner, "", "alice"); err == nil {
		t.Error("IsTeamMember accepted an empty team")
	}
}

func TestRefsAndStatuses(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	def, err := f.client.DefaultBranch(ctx, owner, repoName)
	if err != nil || def != "main" {
		t.Fatalf("DefaultBranch = %q, %v", def, err)
	}
	branches, err := f.gh.Branches(ctx, fullName)
	if err != nil {
		t.Fatal(err)
	}
	head, err := f.client.HeadSHA(ctx, owner, repoName, "main")
	if err != nil || head != branches["main"] {
		t.Fatalf("HeadSHA = %q, %v; want %q", head, err, branches["main"])
	}
	if _, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "alice", Branch: "topic", Files: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.GetRef(ctx, owner, repoName, "refs/heads/topic"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.client.DeleteRef(ctx, owner, repoName, "heads/topic"); err != nil {
			t.Fatalf("DeleteRef: %v", err)
		}
	}
	if _, err := f.client.HeadSHA(ctx, owner, repoName, "topic"); !errors.Is(err, ErrNotFound) {
		t.Errorf("HeadSHA(deleted) = %v, want ErrNotFound", err)
	}
	if _, err := f.client.GetRef(ctx, owner, repoName, "topic"); err == nil {
		t.Error("GetRef accepted a ref without heads/ or tags/")
	}

	long := ""
	for range 30 {
		long += "ok ok "
	}
	if err := f.client.SetStatus(ctx, owner, repoName, head, "gitvend/apply/dev", "success", long, "https://ci.example/1"); err != nil {
		t.Fatal(err)
	}
	sts, err := f.gh.Statuses(fullName)
	if err != nil || len(sts) != 1 {
		t.Fatalf("statuses = %+v, %v", sts, err)
	}
	if st := sts[0]; st.State != "success" || st.Context != "gitvend/apply/dev" || len([]rune(st.Description)) != 140 || st.TargetURL != "https://ci.example/1" {
		t.Errorf("status = %+v", st)
	}
	if err := f.client.SetStatus(ctx, owner, repoName, head, "x", "green", "", ""); err == nil {
		t.Error("SetStatus accepted state green")
	}
}
