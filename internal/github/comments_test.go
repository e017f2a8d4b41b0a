package github

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/githubtest"
)

func TestUpsertComment(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	n := f.openIssue(t, "sticky")
	tag := Marker("summary")

	// Someone quoting the marker does not make the comment the App's.
	if _, err := f.gh.Comment(ctx, fullName, n, "alice", "look: "+tag); err != nil {
		t.Fatal(err)
	}
	id1, err := f.client.UpsertComment(ctx, owner, repoName, n, "summary", "first")
	if err != nil {
		t.Fatal(err)
	}
	// The first repeat reads the list that now has the comment; the second
	// is answered 304 from the cache.
	for i := range 2 {
		if i == 1 {
			f.gh.ResetCalls()
		}
		id2, err := f.client.UpsertComment(ctx, owner, repoName, n, "summary", "first")
		if err != nil {
			t.Fatal(err)
		}
		if id2 != id1 {
			t.Errorf("unchanged upsert returned id %d, want %d", id2, id1)
		}
	}
	calls := f.gh.Calls()
	if writes := calls.ByRoute["POST /repos/{owner}/{repo}/issues/{issue_number}/comments"] +
		calls.ByRoute["PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"]; writes != 0 {
		t.Errorf("unchanged upsert wrote %d times, want 0", writes)
	}
	if calls.RateLimitUsed != 0 {
		t.Errorf("unchanged upsert used %d of the rate limit, want 0 (conditional list)", calls.RateLimitUsed)
	}

	id3, err := f.client.UpsertComment(ctx, owner, repoName, n, "summary", "second\n")
	if err != nil {
		t.Fatal(err)
	}
	if id3 != id1 {
		t.Errorf("changed upsert returned id %d, want the same comment %d", id3, id1)
	}
	if _, err := f.client.UpsertComment(ctx, owner, repoName, n, "other", "another sticky"); err != nil {
		t.Fatal(err)
	}
	want := []string{"look: " + tag, "second\n\n" + tag, "another sticky\n\n" + Marker("other")}
	if diff := cmp.Diff(want, f.comments(t, n)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
}

func TestUpsertCommentRemovesDuplicates(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	n := f.openIssue(t, "crashed twice")
	body := "old\n\n" + Marker("answer")
	var ids []int64
	for range 3 {
		id, err := f.client.CreateComment(ctx, owner, repoName, n, body+" ")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	id, err := f.client.UpsertComment(ctx, owner, repoName, n, "answer", "new")
	if err != nil {
		t.Fatal(err)
	}
	if id != ids[0] {
		t.Errorf("upsert kept comment %d, want the oldest %d", id, ids[0])
	}
	if diff := cmp.Diff([]string{"new\n\n" + Marker("answer")}, f.comments(t, n)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
}

func TestEnsureCommentOnAListedThread(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	n := f.openIssue(t, "one job, several sticky comments")
	// Someone else's comment with the marker, and two of the App's left by
	// crashes: the oldest of the App's is kept, the other deleted.
	if _, err := f.gh.Comment(ctx, fullName, n, "alice", "quoting "+Marker("status")); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for range 2 {
		id, err := f.client.CreateComment(ctx, owner, repoName, n, "stale\n\n"+Marker("status"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	thread, err := f.client.ListThread(ctx, owner, repoName, n)
	if err != nil {
		t.Fatal(err)
	}
	f.gh.ResetCalls()
	id, err := f.client.EnsureComment(ctx, owner, repoName, thread, "status", "fresh")
	if err != nil {
		t.Fatal(err)
	}
	if id != ids[0] {
		t.Errorf("kept comment %d, want the oldest %d", id, ids[0])
	}
	if _, err := f.client.EnsureComment(ctx, owner, repoName, thread, "reply-1", "an answer"); err != nil {
		t.Fatal(err)
	}
	// The same again: the thread remembers what was written.
	for _, c := range [][2]string{{"status", "fresh"}, {"reply-1", "an answer"}} {
		if _, err := f.client.EnsureComment(ctx, owner, repoName, thread, c[0], c[1]); err != nil {
			t.Fatal(err)
		}
	}
	calls := f.gh.Calls()
	if lists := calls.ByRoute["GET /repos/{owner}/{repo}/issues/{issue_number}/comments"]; lists != 0 {
		t.Errorf("the listed thread was listed again %d times", lists)
	}
	wantCalls := map[string]int{
		"DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}": 1,
		"PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}":  1,
		"POST /repos/{owner}/{repo}/issues/{issue_number}/comments": 1,
	}
	for route, want := range wantCalls {
		if got := calls.ByRoute[route]; got != want {
			t.Errorf("%s: %d calls, want %d", route, got, want)
		}
	}
	want := []string{"quoting " + Marker("status"), "fresh\n\n" + Marker("status"), "an answer\n\n" + Marker("reply-1")}
	if diff := cmp.Diff(want, f.comments(t, n)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
	var inThread []string
	for _, c := range thread.Comments {
		inThread = append(inThread, c.Body)
	}
	if diff := cmp.Diff(want, inThread); diff != "" {
		t.Errorf("thread after the writes (-want +got):\n%s", diff)
	}
}

func TestEnsureCommentOnANewThread(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	n := f.openIssue(t, "just opened")
	f.gh.ResetCalls()
	thread := &Thread{Number: n}
	if _, err := f.client.EnsureComment(ctx, owner, repoName, thread, "summary", "checks"); err != nil {
		t.Fatal(err)
	}
	calls := f.gh.Calls()
	if lists, posts := calls.ByRoute["GET /repos/{owner}/{repo}/issues/{issue_number}/comments"], calls.ByRoute["POST /repos/{owner}/{repo}/issues/{issue_number}/comments"]; lists != 0 || posts != 1 {
		t.Errorf("a comment on a thread known empty: %d lists, %d posts; want 0 and 1: %v", lists, posts, calls.ByRoute)
	}
	if diff := cmp.Diff([]string{"checks\n\n" + Marker("summary")}, f.comments(t, n)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
}

func TestCommentsUnderFaults(t *testing.T) {
	f := newFixture(t, fixtureOptions{policy: RetryPolicy{MaxAttempts: 8}})
	ctx := context.Background()
	n := f.openIssue(t, "flaky")
	f.gh.SetFaults(githubtest.Faults{ErrorRate: 0.3, RateLimitRate: 0.1, Seed: 11})
	for i := range 8 {
		body := strings.Repeat("x", i+1)
		if _, err := f.client.CreateComment(ctx, owner, repoName, n, body); err != nil {
			t.Fatal(err)
		}
		if _, err := f.client.UpsertComment(ctx, owner, repoName, n, "status", body); err != nil {
			t.Fatal(err)
		}
	}
	f.gh.SetFaults(githubtest.Faults{})
	// The sticky comment was created after the first comment and edited since.
	want := []string{"x", strings.Repeat("x", 8) + "\n\n" + Marker("status")}
	for i := 2; i <= 8; i++ {
		want = append(want, strings.Repeat("x", i))
	}
	if diff := cmp.Diff(want, f.comments(t, n)); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
	if f.gh.Calls().Faulted == 0 {
		t.Fatal("no fault was injected; the test proves nothing")
	}
	if got := f.counter(t, "gitvend_github_api_retries_total"); got == 0 {
		t.Error("retries metric stayed at 0")
	}
}

func TestListAndEditComments(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	n := f.openIssue(t, "many comments")
	for i := range 105 {
		if _, err := f.gh.Comment(ctx, fullName, n, "alice", strings.Repeat("c", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := f.client.ListComments(ctx, owner, repoName, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 105 || all[104].Body != strings.Repeat("c", 105) || all[0].User != "alice" {
		t.Fatalf("ListComments: %d comments, last %q", len(all), all[len(all)-1].Body)
	}
	id, err := f.client.CreateComment(ctx, owner, repoName, n, "mine")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.client.EditComment(ctx, owner, repoName, id, "edited"); err != nil {
		t.Fatal(err)
	}
	got := f.comments(t, n)
	if got[len(got)-1] != "edited" {
		t.Errorf("last comment = %q, want edited", got[len(got)-1])
	}
}

func TestReactions(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	n := f.openIssue(t, "react")
	cid, err := f.gh.Comment(ctx, fullName, n, "alice", "/provision help")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.client.ReactToIssue(ctx, owner, repoName, n, "eyes"); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.client.ReactToComment(ctx, owner, repoName, cid, "+1"); err != nil {
		t.Fatal(err)
	}
	is, err := f.gh.Issue(fullName, n)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]githubtest.Reaction{{User: f.gh.BotLogin(), Content: "eyes"}}, is.Reactions); diff != "" {
		t.Errorf("issue reactions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]githubtest.Reaction{{User: f.gh.BotLogin(), Content: "+1"}}, is.Comments[0].Reactions); diff != "" {
		t.Errorf("comment reactions (-want +got):\n%s", diff)
	}
}

func TestCommentInputErrors(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	tests := []struct {
		name, wantErr string
		call          func() error
	}{
		{"bad marker", "marker", func() error {
			_, err := f.client.UpsertComment(ctx, owner, repoName, 1, "a -->", "x")
			return err
		}},
		{"empty body", "body", func() error { _, err := f.client.CreateComment(ctx, owner, repoName, 1, " "); return err }},
		{"long body", "65536", func() error {
			_, err := f.client.CreateComment(ctx, owner, repoName, 1, strings.Repeat("é", 65537))
			return err
		}},
		{"zero number", "number", func() error { _, err := f.client.ListComments(ctx, owner, repoName, 0); return err }},
		{"bad repo", "repo", func() error { _, err := f.client.ListComments(ctx, owner, "a/b", 1); return err }},
		{"bad reaction", "reaction", func() error { return f.client.ReactToIssue(ctx, owner, repoName, 1, "tada") }},
		{"bad comment id", "comment id", func() error { return f.client.ReactToComment(ctx, owner, repoName, -1, "eyes") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
	if n := f.gh.Calls().Total; n != 0 {
		t.Errorf("bad input made %d calls, want 0", n)
	}
}
