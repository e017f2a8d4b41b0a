package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/githubtest"
)

// TestTypoKeepsTheRequest reproduces a typo on a request issue: the
// unknown verb "sett" used to read as a new request for a blueprint called
// sett, replacing the form's request, and the corrected command written
// after it then failed as well, since comments are replayed in order. Now
// the typo changes nothing and is answered with what was meant, and the
// correction applies to the form's request.
func TestTypoKeepsTheRequest(t *testing.T) {
	h := newHarness(t)
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	pr := h.onePR(n)
	const record = "requests/dev/team-payments/orders.yaml"

	h.comment(n, "alice", "/provision sett minReplicas=3")
	h.settle()
	if got := h.onePR(n); got.HeadSHA != pr.HeadSHA {
		t.Errorf("a typo changed the request's pull request:\n%s", h.files(got.Head)[record])
	}
	replies := strings.Join(h.botComments(n), "\n---\n")
	for _, want := range []string{
		"line 1, `/provision sett minReplicas=3`: `sett` is neither a command nor a blueprint of this repository; did you mean `/provision set`?",
		"proposes **orders**", // the status still shows the request
	} {
		if !strings.Contains(replies, want) {
			t.Errorf("bot comments lack %q:\n%s", want, replies)
		}
	}

	h.comment(n, "alice", "/provision set minReplica=3")
	h.settle()
	if replies := strings.Join(h.botComments(n), "\n---\n"); !strings.Contains(replies, "`minReplica` is not a parameter of web-service; did you mean `minReplicas`?") {
		t.Errorf("no suggestion for a parameter:\n%s", replies)
	}

	h.comment(n, "alice", "/provision set minReplicas=3")
	h.settle()
	got := h.onePR(n)
	if got.Number != pr.Number || !strings.Contains(h.files(got.Head)[record], "minReplicas: 3") {
		t.Errorf("the correction after the typos did not apply (PR #%d, was #%d):\n%s", got.Number, pr.Number, h.files(got.Head)[record])
	}
	if status := h.botComments(n); !strings.Contains(status[0], "proposes **orders**") {
		t.Errorf("status after the correction: %s", status[0])
	}
}

// TestHelpPerPlace asks for help where commands are read: each answer
// lists only the commands that apply there, and text people wrote is
// quoted in code spans, never rendered.
func TestHelpPerPlace(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	n := h.openForm("alice", "web-service", paymentsForm)
	plain, err := h.gh.OpenIssue(ctx, repo, githubtest.IssueSpec{User: "alice", Title: "I need something", Body: "not sure what"})
	if err != nil {
		t.Fatal(err)
	}
	drift, err := h.gh.OpenIssue(ctx, repo, githubtest.IssueSpec{User: h.gh.BotLogin(), Title: "Drift on target dev", Body: "live objects differ"})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()
	pr := h.onePR(n).Number
	for _, at := range []int{n, pr, plain, drift} {
		h.comment(at, "alice", "/provision help")
	}
	h.comment(plain, "alice", `/provision web-servce name=x note="@carol <img src=x>"`)
	h.settle()

	for _, tt := range []struct {
		name       string
		number     int
		has, lacks []string
	}{
		{"request issue", n, []string{"`/provision set key=value …`", "`/provision destroy`"}, []string{"asks for a new thing"}},
		{"pull request", pr, []string{"`/provision set key=value …`", "They change the request this pull request proposes"}, []string{"<blueprint>"}},
		{"plain issue", plain, []string{"`/provision <blueprint> key=value …` asks for a new thing",
			"line 1, `/provision web-servce name=x note=\"@carol <img src=x>\"`: `web-servce` is neither a command nor a blueprint of this repository; did you mean the blueprint `web-service`?"},
			[]string{"`/provision set", "`/provision destroy`"}},
		{"issue gitvend opened", drift, []string{"No `/provision` command applies to an issue gitvend opened"}, []string{"`/provision set"}},
	} {
		got := strings.Join(h.botComments(tt.number), "\n---\n")
		for _, s := range tt.has {
			if !strings.Contains(got, s) {
				t.Errorf("%s: bot comments lack %q:\n%s", tt.name, s, got)
			}
		}
		for _, s := range tt.lacks {
			if strings.Contains(got, s) {
				t.Errorf("%s: bot comments have %q:\n%s", tt.name, s, got)
			}
		}
	}
	for _, is := range []int{plain, drift} {
		if prs := h.pulls(); len(prs) != 1 {
			t.Errorf("help on #%d made pull requests: %+v", is, prs)
		}
	}
}

// TestReviewBodyCommands submits reviews on a request's pull request: a
// reviewer's review body with /provision set changes the request like a
// comment; a stranger's costs nothing (no API call), changes nothing and
// gets one refusal, as a stranger's comment does.
func TestReviewBodyCommands(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	pr := h.onePR(n)
	const record = "requests/dev/team-payments/orders.yaml"

	if _, err := h.gh.SubmitReview(ctx, repo, pr.Number, "alice", "COMMENT", "Looks fine, but\n/provision set minReplicas=3"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	got := h.onePR(n)
	if got.HeadSHA == pr.HeadSHA || !strings.Contains(h.files(got.Head)[record], "minReplicas: 3") {
		t.Fatalf("the reviewer's command did not apply:\n%s", h.files(got.Head)[record])
	}

	h.gh.ResetCalls()
	if _, err := h.gh.SubmitReview(ctx, repo, pr.Number, "mallory", "REQUEST_CHANGES", "/provision set minReplicas=9"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if after := h.onePR(n); after.HeadSHA != got.HeadSHA {
		t.Errorf("a stranger's review changed the request:\n%s", h.files(after.Head)[record])
	}
	calls := h.gh.Calls()
	for route, count := range calls.ByRoute {
		if !strings.HasPrefix(route, "POST /repos/{owner}/{repo}/issues/{issue_number}/comments") &&
			!strings.HasPrefix(route, "GET /repos/{owner}/{repo}/issues/{issue_number}/comments") &&
			!strings.HasPrefix(route, "GET /repos/{owner}/{repo}/installation") &&
			!strings.HasPrefix(route, "POST /app/installations") {
			t.Errorf("a stranger's review cost %d %s", count, route)
		}
	}
	refusals := 0
	for _, c := range h.botComments(pr.Number) {
		if strings.Contains(c, "@mallory") {
			refusals++
		}
	}
	if refusals != 1 {
		t.Errorf("%d refusals of the stranger on #%d, want 1", refusals, pr.Number)
	}
}
