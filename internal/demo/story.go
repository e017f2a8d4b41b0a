package demo

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/gitvend/gitvend/internal/githubtest"
)

// Step timeout: each step of the story waits at most this long for gitvend.
const stepTimeout = 90 * time.Second

// Story plays gitvend's whole path as people would, against a World where
// gitvend serve runs, and prints what happens as a transcript. Every step
// acts once and then waits for the state gitvend should bring about, so the
// story also finishes when gitvend restarts in the middle of it.
type Story struct {
	W   *World
	Out io.Writer
	// Acted, when set, is called each time a person in the story has
	// acted (opened an issue, commented, merged, edited the cluster),
	// while gitvend's work on it is under way: tests crash gitvend there.
	Acted func()
	// Until, when set, names the last step played: request, fix, merge,
	// cluster, drift or destroy; the world is left as that step leaves it.
	Until string
	start time.Time
	// Found are the numbers the story met, for the closing words.
	Issue, PR int
}

const (
	badImage  = "ghcr.io/acme/orders:latest"
	goodImage = "ghcr.io/acme/orders:2.1.0"
	hotfix    = "ghcr.io/acme/orders:hotfix"
	driftName = "Drift on target " + Target
)

// Play runs the story to its end.
func (s *Story) Play(ctx context.Context) error {
	s.start = time.Now()
	steps := []struct {
		name string
		run  func(context.Context) error
	}{{"request", s.request}, {"fix", s.fix}, {"merge", s.merge}, {"cluster", s.cluster}, {"drift", s.drift}, {"destroy", s.destroy}}
	for _, step := range steps {
		if err := step.run(ctx); err != nil {
			return err
		}
		if step.name == s.Until {
			return nil
		}
	}
	if s.Until != "" {
		return fmt.Errorf("story: no step %q", s.Until)
	}
	return nil
}

func (s *Story) say(format string, args ...any) {
	fmt.Fprintf(s.Out, "[%5.1fs] %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, args...))
	if s.Acted != nil && strings.HasPrefix(format, "▶") {
		s.Acted()
	}
}

func (s *Story) detail(text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(s.Out, "          │ %s\n", line)
	}
}

// wait polls cond until it reports done, the step times out or ctx ends.
func (s *Story) wait(ctx context.Context, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	for {
		done, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// request: a developer asks for a web service from the issue form, with an
// image tag the policy refuses.
func (s *Story) request(ctx context.Context) error {
	body := "### Request name\n\norders\n\n### Environment\n\ndev\n\n### Namespace\n\nteam-payments\n\n### Owner\n\npayments\n\n" +
		"### Image\n\n" + badImage + "\n\n### Min replicas\n\n_No response_\n"
	n, err := s.W.GH.OpenIssue(ctx, Repo, githubtest.IssueSpec{User: Alice, Title: "[gitvend] web-service: orders", Body: body, Labels: []string{"gitvend"}})
	if err != nil {
		return err
	}
	s.Issue = n
	s.say("▶ %s opens issue #%d from the web-service form: service orders in dev/team-payments, image %s", Alice, n, badImage)
	pr, err := s.awaitPR(ctx, "the pull request with both checks", func(githubtest.PullRequest, map[string]githubtest.CheckRun) bool { return true })
	if err != nil {
		return err
	}
	s.PR = pr.Number
	s.say("  gitvend reacted 👀, pushed branch %s and opened PR #%d %q", pr.Head, pr.Number, pr.Title)
	return s.showChecks(pr.HeadSHA)
}

// fix: the developer changes the image with a command on the pull request.
func (s *Story) fix(ctx context.Context) error {
	before, _, err := s.pullOf(s.Issue)
	if err != nil {
		return err
	}
	cmd := "/provision set image=" + goodImage
	if _, err := s.W.GH.Comment(ctx, Repo, s.PR, Alice, "Right, no latest tags.\n"+cmd); err != nil {
		return err
	}
	s.say("▶ %s comments on PR #%d: %s", Alice, s.PR, cmd)
	pr, err := s.awaitPR(ctx, "the updated pull request to pass", func(p githubtest.PullRequest, runs map[string]githubtest.CheckRun) bool {
		return p.HeadSHA != before.HeadSHA && runs["gitvend/policy"].Conclusion == "success"
	})
	if err != nil {
		return err
	}
	s.say("  gitvend re-rendered onto the same PR #%d (new head %.7s); it is the only PR of issue #%d", pr.Number, pr.HeadSHA, s.Issue)
	return s.showChecks(pr.HeadSHA)
}

// merge: a reviewer merges; gitvend applies and reports.
func (s *Story) merge(ctx context.Context) error {
	if _, err := s.mergeAndAwait(ctx, s.PR, "reviews and merges"); err != nil {
		return err
	}
	if err := s.wait(ctx, "the request issue to be closed", func() (bool, error) {
		is, err := s.W.GH.Issue(Repo, s.Issue)
		return err == nil && is.State == "closed" && s.botSays(is, "What this request made"), err
	}); err != nil {
		return err
	}
	is, _ := s.W.GH.Issue(Repo, s.Issue)
	s.say("  gitvend commented on PR #%d with the change set and closed issue #%d:", s.PR, s.Issue)
	s.detail(s.lastBotComment(is, "What this request made"))
	return nil
}

// cluster shows the objects in the real API server.
func (s *Story) cluster(ctx context.Context) error {
	out, err := s.W.Kube.Kubectl(ctx, "get", "deployment,service,hpa,pdb", "-n", "team-payments", "-l", "gitvend.dev/request=orders").CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl get: %v: %s", err, out)
	}
	s.say("▶ kubectl get deployment,service,hpa,pdb -n team-payments -l gitvend.dev/request=orders")
	s.detail(string(out))
	return nil
}

// drift: someone changes the cluster by hand; gitvend opens a drift issue,
// heals the target and closes the issue.
func (s *Story) drift(ctx context.Context) error {
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, hotfix)
	if out, err := s.W.Kube.Kubectl(ctx, "patch", "deployment", "orders", "-n", "team-payments", "--type=strategic", "-p", patch).CombinedOutput(); err != nil {
		return fmt.Errorf("kubectl patch: %v: %s", err, out)
	}
	changed := time.Now()
	s.say("▶ someone runs kubectl patch deployment orders -n team-payments: image %s", hotfix)
	var drift githubtest.Issue
	if err := s.wait(ctx, "the drift issue", func() (bool, error) {
		is, ok, err := s.issueTitled(driftName)
		drift = is
		return ok, err
	}); err != nil {
		return err
	}
	s.say("  gitvend opened issue #%d %q %.1fs after the change:", drift.Number, drift.Title, time.Since(changed).Seconds())
	s.detail(drift.Body)
	// The hand change is a hotfix worth keeping: alice adopts it, and the
	// live value goes back to Git through a pull request of its own.
	if _, err := s.W.GH.Comment(ctx, Repo, drift.Number, Alice, "The hotfix stays.\n/provision adopt"); err != nil {
		return err
	}
	s.say("▶ %s comments on issue #%d: /provision adopt", Alice, drift.Number)
	var adopt githubtest.PullRequest
	if err := s.wait(ctx, "the adopt pull request with its checks", func() (bool, error) {
		prs, err := s.W.GH.PullRequests(Repo)
		if err != nil {
			return false, err
		}
		for _, p := range prs {
			if strings.HasPrefix(p.Head, "gitvend/adopt-") && p.State == "open" {
				runs, err := s.runs(p.HeadSHA)
				adopt = p
				return err == nil && checked(runs), err
			}
		}
		return false, nil
	}); err != nil {
		return err
	}
	s.say("  gitvend opened PR #%d %q, which writes the live values back to Git:", adopt.Number, adopt.Title)
	s.detail(adopt.Body)
	if err := s.showChecks(adopt.HeadSHA); err != nil {
		return err
	}
	if _, err := s.mergeAndAwait(ctx, adopt.Number, "merges"); err != nil {
		return err
	}
	if err := s.wait(ctx, "the drift issue to close", func() (bool, error) {
		is, ok, err := s.issueTitled(driftName)
		drift = is
		return ok && is.State == "closed", err
	}); err != nil {
		return err
	}
	out, err := s.W.Kube.Kubectl(ctx, "get", "deployment", "orders", "-n", "team-payments", "-o", "jsonpath={.spec.template.spec.containers[0].image}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl get: %v: %s", err, out)
	}
	s.say("  Git now holds the hotfix: the image is %s, and issue #%d is closed:", out, drift.Number)
	if n := len(drift.Comments); n > 0 {
		s.detail(drift.Comments[n-1].Body)
	}
	return nil
}

// destroy: the team no longer needs the service; a command on the closed
// request issue proposes its removal, and the merge prunes it.
func (s *Story) destroy(ctx context.Context) error {
	if _, err := s.W.GH.Comment(ctx, Repo, s.Issue, Alice, "We moved orders into payments-api.\n/provision destroy"); err != nil {
		return err
	}
	s.say("▶ %s comments on the closed issue #%d: /provision destroy", Alice, s.Issue)
	pr, err := s.awaitPR(ctx, "the removal pull request with both checks", func(p githubtest.PullRequest, _ map[string]githubtest.CheckRun) bool {
		return p.Number != s.PR && p.State == "open"
	})
	if err != nil {
		return err
	}
	s.say("  gitvend opened PR #%d %q", pr.Number, pr.Title)
	if err := s.showChecks(pr.HeadSHA); err != nil {
		return err
	}
	if _, err := s.mergeAndAwait(ctx, pr.Number, "merges"); err != nil {
		return err
	}
	return s.cluster(ctx)
}

// awaitPR waits for the pull request of issue that want accepts to have
// its checks posted: policy, cost and the plan.
func (s *Story) awaitPR(ctx context.Context, what string, want func(githubtest.PullRequest, map[string]githubtest.CheckRun) bool) (githubtest.PullRequest, error) {
	var pr githubtest.PullRequest
	err := s.wait(ctx, what, func() (bool, error) {
		p, ok, err := s.pullOf(s.Issue)
		if err != nil || !ok {
			return false, err
		}
		runs, err := s.runs(p.HeadSHA)
		if err != nil || !checked(runs) {
			return false, err
		}
		pr = p
		return want(p, runs), nil
	})
	return pr, err
}

// checked tells whether runs, the completed runs of a commit, hold all of
// gitvend's: policy, cost and the plan (the world has a target to plan on).
func checked(runs map[string]githubtest.CheckRun) bool {
	for _, name := range []string{"gitvend/policy", "gitvend/cost", "gitvend/plan"} {
		if _, ok := runs[name]; !ok {
			return false
		}
	}
	return true
}

// mergeAndAwait merges pull request n as the reviewer and waits for the
// apply status on the merge commit.
func (s *Story) mergeAndAwait(ctx context.Context, n int, how string) (string, error) {
	sha, err := s.W.GH.MergePullRequest(ctx, Repo, n, Carol)
	if err != nil {
		return "", err
	}
	s.say("▶ %s %s PR #%d (merge commit %.7s)", Carol, how, n, sha)
	var status githubtest.Status
	if err := s.wait(ctx, "the apply status on the merge commit", func() (bool, error) {
		st, ok, err := s.status(sha)
		status = st
		return ok && st.State == "success", err
	}); err != nil {
		return "", err
	}
	s.say("  commit status %s on %.7s: %s — %s", status.Context, sha, status.State, status.Description)
	return sha, nil
}

// showChecks prints the check runs of sha: policy, cost and, when
// posted, the plan.
func (s *Story) showChecks(sha string) error {
	runs, err := s.runs(sha)
	if err != nil {
		return err
	}
	for _, name := range []string{"gitvend/policy", "gitvend/cost"} {
		r := runs[name]
		s.say("  check %s: %s — %s", name, r.Conclusion, r.Title)
		for _, a := range r.Annotations {
			s.detail(fmt.Sprintf("%s:%d %s: %s", a.Path, a.StartLine, a.Title, a.Message))
		}
	}
	// The plan: what the merge would do on each target, before anyone merges.
	if r, ok := runs["gitvend/plan"]; ok {
		s.say("  check gitvend/plan: %s — %s", r.Conclusion, r.Title)
	}
	return nil
}

// pullOf is the open pull request of a request issue, or else its latest
// merged one.
func (s *Story) pullOf(issue int) (githubtest.PullRequest, bool, error) {
	prs, err := s.W.GH.PullRequests(Repo)
	if err != nil {
		return githubtest.PullRequest{}, false, err
	}
	var found githubtest.PullRequest
	ok := false
	for _, p := range prs {
		if p.Head == fmt.Sprintf("gitvend/request-%d", issue) && (p.State == "open" || p.Merged) {
			found, ok = p, true
			if p.State == "open" {
				return p, true, nil
			}
		}
	}
	return found, ok, nil
}

func (s *Story) runs(sha string) (map[string]githubtest.CheckRun, error) {
	all, err := s.W.GH.CheckRuns(Repo)
	if err != nil {
		return nil, err
	}
	out := map[string]githubtest.CheckRun{}
	for _, r := range all {
		if r.HeadSHA == sha && r.Status == "completed" {
			out[r.Name] = r
		}
	}
	return out, nil
}

func (s *Story) status(sha string) (githubtest.Status, bool, error) {
	all, err := s.W.GH.Statuses(Repo)
	if err != nil {
		return githubtest.Status{}, false, err
	}
	var found githubtest.Status
	ok := false
	for _, st := range all {
		if st.SHA == sha && st.Context == "gitvend/apply/"+Target && st.ID >= found.ID {
			found, ok = st, true
		}
	}
	return found, ok, nil
}

func (s *Story) issueTitled(title string) (githubtest.Issue, bool, error) {
	all, err := s.W.GH.Issues(Repo)
	if err != nil {
		return githubtest.Issue{}, false, err
	}
	for _, is := range all {
		if is.Title == title {
			return is, true, nil
		}
	}
	return githubtest.Issue{}, false, nil
}

func (s *Story) botSays(is githubtest.Issue, text string) bool {
	return s.lastBotComment(is, text) != ""
}

func (s *Story) lastBotComment(is githubtest.Issue, text string) string {
	for i := len(is.Comments) - 1; i >= 0; i-- {
		c := is.Comments[i]
		if c.User == s.W.GH.BotLogin() && strings.Contains(c.Body, text) {
			return c.Body
		}
	}
	return ""
}

// Audit checks what a story must never leave behind, however often gitvend
// restarted: a second pull request for a request, a repeated comment of the
// bot (two with the same marker), a second check run of one name on one
// commit, or a second drift issue of a target.
func Audit(gh *githubtest.Server) error {
	var problems []string
	prs, err := gh.PullRequests(Repo)
	if err != nil {
		return err
	}
	heads := map[string]int{}
	for _, p := range prs {
		if p.State == "open" {
			heads[p.Head]++
		}
	}
	for h, n := range heads {
		if n > 1 {
			problems = append(problems, fmt.Sprintf("%d open pull requests from %s", n, h))
		}
	}
	issues, err := gh.Issues(Repo)
	if err != nil {
		return err
	}
	titles := map[string]int{}
	for _, is := range issues {
		titles[is.Title]++
		// A sticky comment is known by its marker, any other by its text.
		said := map[string]int{}
		for _, c := range is.Comments {
			if c.User != gh.BotLogin() {
				continue
			}
			key := c.Body
			if i := strings.Index(c.Body, "<!-- gitvend:"); i >= 0 {
				key = c.Body[i:]
			}
			said[key]++
		}
		for key, n := range said {
			if n > 1 {
				problems = append(problems, fmt.Sprintf("#%d: %d bot comments alike: %.60q", is.Number, n, key))
			}
		}
	}
	if titles[driftName] > 1 {
		problems = append(problems, fmt.Sprintf("%d issues titled %q", titles[driftName], driftName))
	}
	runs, err := gh.CheckRuns(Repo)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, r := range runs {
		seen[r.HeadSHA+" "+r.Name]++
	}
	for k, n := range seen {
		if n > 1 {
			problems = append(problems, fmt.Sprintf("%d check runs %s", n, k))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("duplicates: %s", strings.Join(problems, "; "))
	}
	return nil
}
