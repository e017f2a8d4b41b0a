package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/permalink"
	"github.com/gitvend/gitvend/internal/server"
)

// badDeployments are n Deployments that several policies deny: an image
// from no allowed registry, no resources, root.
func badDeployments(n int) map[string]string {
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("extra/bad-%04d.yaml", i)] = fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad-%04d
  namespace: team-search
spec:
  replicas: 50
  selector:
    matchLabels: {app: bad-%04d}
  template:
    metadata:
      labels: {app: bad-%04d}
    spec:
      containers:
      - name: app
        image: evil.example.com/miner:latest
`, i, i, i)
	}
	return files
}

var notShown = regexp.MustCompile(`…and (\d+)( more)? (\w+) not shown here`)

// assertWithinLimits checks a posted text against GitHub's limit: in
// characters, and in bytes as well for a check run's output; and that no
// row was cut.
func assertWithinLimits(t *testing.T, what, text string, chars int, bytes bool) {
	t.Helper()
	if n := utf8.RuneCountInString(text); n > chars {
		t.Errorf("%s: %d characters, GitHub allows %d", what, n, chars)
	}
	if bytes && len(text) > chars {
		t.Errorf("%s: %d bytes, GitHub allows %d", what, len(text), chars)
	}
	if !utf8.ValidString(text) {
		t.Errorf("%s: cut mid-character", what)
	}
	if o, c := strings.Count(text, "<details>"), strings.Count(text, "</details>"); o != c {
		t.Errorf("%s: %d <details> but %d </details>", what, o, c)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "|") && !strings.HasSuffix(line, "|") {
			t.Errorf("%s: row cut: %q", what, line)
		}
	}
}

// notShownCount adds up the "…and N more … not shown" lines of text.
func notShownCount(text string) (int, bool) {
	n, found := 0, false
	for _, m := range notShown.FindAllStringSubmatch(text, -1) {
		k, _ := strconv.Atoi(m[1])
		n += k
		found = true
	}
	return n, found
}

// TestThousandDeniedObjects: a pull request adding 1,000 Deployments that
// policies deny gets every text within GitHub's limits, cut at row
// boundaries with a right count of what is not shown; before, 120 such
// Deployments made a summary comment of 351,655 characters that GitHub
// refused.
func TestThousandDeniedObjects(t *testing.T) {
	links := permalink.New("https://gitvend.example.com", []byte(secret))
	h := newHarness(t, func(o *bot.Options) { o.Links = links })
	ctx := context.Background()
	sha, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "many", Message: "Many", Files: badDeployments(1000)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: "many", Title: "Add 1000 deployments"})
	if err != nil {
		t.Fatal(err)
	}
	h.settle()

	runs := h.checkRuns(sha)
	policyRun, costRun := runs[bot.CheckPolicy], runs[bot.CheckCost]
	assertStartedInProgress(t, h, sha)
	if policyRun.Conclusion != "failure" {
		t.Fatalf("policy run: %+v", policyRun.Conclusion)
	}
	for _, r := range []githubtest.CheckRun{policyRun, costRun} {
		assertWithinLimits(t, r.Name+" summary", r.Summary, github.MaxCheckOutput, true)
		assertWithinLimits(t, r.Name+" text", r.Text, github.MaxCheckOutput, true)
	}
	denials := 0
	for _, a := range policyRun.Annotations {
		if a.Level == "failure" {
			denials++
		}
	}
	if denials < 1000 {
		t.Errorf("%d denials annotated, want every one (≥ 1000)", denials)
	}
	// The policy run's table lists every finding it can and counts the rest.
	shown := strings.Count(policyRun.Summary+policyRun.Text, "| ❌ deny |") + strings.Count(policyRun.Summary+policyRun.Text, "| ⚠️ warn |")
	rest, ok := notShownCount(policyRun.Summary + policyRun.Text)
	if !ok || shown+rest != len(policyRun.Annotations) {
		t.Errorf("policy run shows %d findings and says %d more, of %d", shown, rest, len(policyRun.Annotations))
	}
	comments := h.botComments(n)
	if len(comments) != 1 {
		t.Fatalf("%d bot comments on the PR, want the one summary", len(comments))
	}
	assertWithinLimits(t, "summary comment", comments[0], github.MaxBody, false)
	if _, ok := notShownCount(comments[0]); !ok {
		t.Errorf("summary comment does not say what it leaves out")
	}
	pr, err := h.gh.PullRequest(repo, n)
	if err != nil {
		t.Fatal(err)
	}
	assertWithinLimits(t, "PR body", pr.Body, github.MaxBody, false)
	assertWithinLimits(t, "PR title", pr.Title, github.MaxTitle, false)

	// What a reviewer sees: one summary, stamped with the head commit;
	// each run its own part under its own verdict, linked to the view.
	if !strings.Contains(comments[0], "Checked [`"+sha[:7]+"`](") || !strings.Contains(comments[0], "/commit/"+sha+")") {
		t.Errorf("summary comment not stamped with the head commit %.7s:\n%.500s", sha, comments[0])
	}
	if !strings.Contains(comments[0], "1000 objects added, 0 changed, 0 removed; ") {
		t.Errorf("summary does not count what the pull request changes:\n%.500s", comments[0])
	}
	if !strings.HasPrefix(policyRun.Summary, "### ❌ Policy failed") || strings.Contains(policyRun.Summary, "#### Cost") {
		t.Errorf("policy run summary:\n%.300s", policyRun.Summary)
	}
	if strings.HasPrefix(costRun.Summary, "### ❌") || !strings.Contains(costRun.Summary, "#### Cost") || strings.Contains(costRun.Summary, "#### Policy") {
		t.Errorf("cost run summary (no budget is exceeded):\n%.300s", costRun.Summary)
	}
	if !strings.Contains(policyRun.Summary, "<details><summary>") {
		t.Error("long findings not collapsed in the policy run")
	}
	view := links.PullRequest(repo, n)
	if policyRun.DetailsURL != view || costRun.DetailsURL != view {
		t.Errorf("details urls %q, %q; want %q", policyRun.DetailsURL, costRun.DetailsURL, view)
	}
	if !strings.Contains(comments[0], "[gitvend's page of this pull request]("+view+")") {
		t.Error("summary comment does not link to the whole list")
	}
	// The view lists every finding, read from GitHub: another replica,
	// one that never checked this pull request, answers the link alike.
	o := h.opts
	o.Registerer = prometheus.NewRegistry()
	other, err := bot.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Options{Secret: []byte(secret), Views: server.Views{Links: links, PullRequest: other.PullRequestView}})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", strings.TrimPrefix(view, "https://gitvend.example.com"), nil))
	if got := strings.Count(rec.Body.String(), "<tr><td>deny</td>") + strings.Count(rec.Body.String(), "<tr><td>warn</td>"); rec.Code != 200 || got != len(policyRun.Annotations) {
		t.Errorf("view: %d, %d findings of %d", rec.Code, got, len(policyRun.Annotations))
	}
}

// assertStartedInProgress checks that gitvend's runs on sha were created in
// progress, before the check, and completed later, as the check_run
// webhooks GitHub sends tell.
func assertStartedInProgress(t *testing.T, h *harness, sha string) {
	t.Helper()
	created := map[string]string{}
	completed := map[string]bool{}
	for _, d := range h.gh.Deliveries() {
		if d.Event != "check_run" {
			continue
		}
		var p struct {
			CheckRun struct {
				Name    string
				HeadSHA string `json:"head_sha"`
				Status  string
				App     struct{ ID int64 }
			} `json:"check_run"`
		}
		if err := json.Unmarshal(d.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.CheckRun.HeadSHA != sha || p.CheckRun.App.ID != appID {
			continue
		}
		switch d.Action {
		case "created":
			created[p.CheckRun.Name] = p.CheckRun.Status
		case "completed":
			completed[p.CheckRun.Name] = true
		}
	}
	for _, name := range []string{bot.CheckPolicy, bot.CheckCost} {
		if created[name] != "in_progress" || !completed[name] {
			t.Errorf("run %s: created %q, completed later %v; want created in_progress, then completed", name, created[name], completed[name])
		}
	}
}
