package github

import (
	"context"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/retry"
)

// TestTextLimitsAgreeWithGitHub: the client refuses, before sending and
// with a terminal error naming the field and the limit, exactly what the
// double (like GitHub) would refuse, and sends what GitHub accepts: bodies
// counted in characters, check run output in bytes.
func TestTextLimitsAgreeWithGitHub(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	issue := f.openIssue(t, "limits")
	sha, err := f.gh.Push(ctx, fullName, githubtest.PushSpec{User: "alice", Branch: "limits", Files: map[string]string{"a.txt": "a\n"}})
	if err != nil {
		t.Fatal(err)
	}

	// At the limit, in two-byte characters: sent and accepted.
	atLimit := strings.Repeat("é", MaxBody)
	id, err := f.client.CreateComment(ctx, owner, repoName, issue, atLimit)
	if err != nil {
		t.Fatalf("a comment of %d characters: %v", MaxBody, err)
	}
	if err := f.client.EditComment(ctx, owner, repoName, id, atLimit+"x"); err == nil || !retry.IsTerminal(err) ||
		!strings.Contains(err.Error(), "body: 65537 characters; GitHub allows at most 65536") {
		t.Errorf("edit one character over: %v, want a terminal error naming body and 65536", err)
	}

	full := strings.Repeat("a", MaxCheckOutput)
	if _, err := f.client.CreateCheckRun(ctx, owner, repoName, CheckRunSpec{Name: "at-limit", HeadSHA: sha, Summary: full, Text: full}); err != nil {
		t.Fatalf("a check run with %d bytes of summary and text: %v", MaxCheckOutput, err)
	}
	before := f.gh.Calls().Total
	for _, tc := range []struct {
		name string
		spec CheckRunSpec
		want string
	}{
		// Fewer characters than the limit, more bytes: GitHub refuses it.
		{"summary in bytes", CheckRunSpec{Name: "x", HeadSHA: sha, Summary: strings.Repeat("é", 32768)}, "summary: 65536 bytes; GitHub allows at most 65535"},
		{"text", CheckRunSpec{Name: "x", HeadSHA: sha, Summary: "s", Text: full + "a"}, "text: 65536 bytes; GitHub allows at most 65535"},
	} {
		_, err := f.client.CreateCheckRun(ctx, owner, repoName, tc.spec)
		if err == nil || !retry.IsTerminal(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a terminal error saying %q", tc.name, err, tc.want)
		}
	}
	long, title := strings.Repeat("é", MaxBody+1), strings.Repeat("t", MaxTitle+1)
	for name, call := range map[string]func() error{
		"issue title": func() error {
			_, err := f.client.CreateIssue(ctx, owner, repoName, NewIssue{Title: title})
			return err
		},
		"issue body": func() error {
			_, err := f.client.EditIssue(ctx, owner, repoName, issue, IssueEdit{Body: &long})
			return err
		},
		"pull request title": func() error {
			_, err := f.client.CreatePR(ctx, owner, repoName, NewPR{Title: title, Head: "limits", Base: "main"})
			return err
		},
		"pull request body": func() error {
			_, err := f.client.EditPR(ctx, owner, repoName, 1, PREdit{Body: &long})
			return err
		},
	} {
		err := call()
		want := "title: 257 characters; GitHub allows at most 256"
		if strings.HasSuffix(name, "body") {
			want = "body: 65537 characters; GitHub allows at most 65536"
		}
		if err == nil || !retry.IsTerminal(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a terminal error saying %q", name, err, want)
		}
	}
	if n := f.gh.Calls().Total - before; n != 0 {
		t.Errorf("refused text made %d calls, want 0", n)
	}
}
