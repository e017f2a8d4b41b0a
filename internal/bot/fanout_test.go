package bot_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/request"
)

// The fan-out repository: three environments, a blueprint of its own
// (svc: a ConfigMap whose size is a parameter), and requests that follow
// it, but for one pinned to version 1.
const fanoutConfig = `apiVersion: gitvend.dev/v1alpha1
kind: Config
environments:
- name: dev
- name: staging
- name: prod
teams:
- name: platform
  namespaces: ["*"]
fanout:
  maxRequests: 10
`

// svcSpec is blueprint svc at a version, with a tier, a changelog line
// and a largest size.
func svcSpec(version int, changelog string, maxSize int) string {
	return fmt.Sprintf(`apiVersion: gitvend.dev/v1alpha1
kind: Blueprint
metadata:
  name: svc
spec:
  title: Service settings
  version: %d
  changelog: %s
  parameters:
  - name: size
    type: integer
    default: 3
    minimum: 1
    maximum: %d
    targets:
    - kind: ConfigMap
      path: data.size
      format: "{value}"
`, version, changelog, maxSize)
}

func svcConfigMap(tier string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  size: \"1\"\n  tier: " + tier + "\n"
}

const svcKustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- configmap.yaml\n"

// svcFiles are the files of blueprint svc in folder dir.
func svcFiles(dir string, version int, changelog string, maxSize int, tier string) map[string]string {
	return map[string]string{
		"blueprints/" + dir + "/blueprint.yaml":          svcSpec(version, changelog, maxSize),
		"blueprints/" + dir + "/base/kustomization.yaml": svcKustomization,
		"blueprints/" + dir + "/base/configmap.yaml":     svcConfigMap(tier),
	}
}

// Requests of the fan-out repository: 20 in dev, 15 in staging (one of
// them, big, asks for size 9) and 15 in prod (one of them, pinned, follows
// svc@1).
const (
	failingRequest = "requests/staging/apps/big.yaml"
	pinnedRequest  = "requests/prod/apps/pinned.yaml"
)

func fanoutRequests() []*request.Request {
	out := requestsOver(map[string]int{"dev": 20, "staging": 14, "prod": 14})
	out = append(out, request.New("big", request.Spec{Blueprint: "svc", Environment: "staging", Namespace: "apps", Owner: "platform",
		Parameters: map[string]any{"size": 9}}))
	return append(out, request.New("pinned", request.Spec{Blueprint: "svc@1", Environment: "prod", Namespace: "apps", Owner: "platform",
		Parameters: map[string]any{"size": 2}}))
}

// requestsOver makes n requests of svc in each environment.
func requestsOver(n map[string]int) []*request.Request {
	var out []*request.Request
	add := func(env, name, bp string, size int) {
		out = append(out, request.New(name, request.Spec{Blueprint: bp, Environment: env, Namespace: "apps", Owner: "platform",
			Parameters: map[string]any{"size": size}}))
	}
	for env, count := range n {
		for i := 1; i <= count; i++ {
			add(env, fmt.Sprintf("svc-%02d", i), "svc", 1+i%5)
		}
	}
	return out
}

// fanoutRepo renders the fan-out repository with blueprint svc at version
// 1 and returns its files.
func fanoutRepo(t testing.TB, cfg string, reqs []*request.Request) map[string]string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	files := svcFiles("svc", 1, "First version.", 10, "basic")
	files[config.RepoFile] = cfg
	for _, r := range reqs {
		data, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		files[r.Path()] = string(data)
	}
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repoCfg, err := config.LoadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := blueprint.Load(ctx, blueprint.RepoSources(dir)...)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := desired.Build(ctx, dir, repoCfg, cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Failed) > 0 {
		t.Fatalf("the repository does not render: %v", plan.Failed)
	}
	if _, err := desired.Write(ctx, dir, plan); err != nil {
		t.Fatal(err)
	}
	out, err := githubtest.ReadFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// changeBlueprint pushes version v of svc to the default branch (tier and
// largest size changed), keeping version 1 side by side for the pinned
// request, as a person merging a blueprint change would.
func changeBlueprint(t testing.TB, h *harness, v int, tier string) string {
	t.Helper()
	files := svcFiles("svc", v, fmt.Sprintf("Tier %s; size at most 7.", tier), 7, tier)
	for p, data := range svcFiles("svc@1", 1, "First version.", 10, "basic") {
		files[p] = data
	}
	sha, err := h.gh.Push(context.Background(), repo, githubtest.PushSpec{User: "alice", Branch: "main", Message: "svc: tier " + tier, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// fanoutPRs are the open fan-out pull requests by head branch.
func fanoutPRs(h *harness) map[string]githubtest.PullRequest {
	out := map[string]githubtest.PullRequest{}
	for _, pr := range h.pulls() {
		if strings.HasPrefix(pr.Head, bot.FanoutBranchPrefix) && pr.State == "open" {
			if _, dup := out[pr.Head]; dup {
				h.t.Errorf("two open pull requests from %s", pr.Head)
			}
			out[pr.Head] = pr
		}
	}
	return out
}

// dashboards are the fan-out dashboard issues.
func dashboards(h *harness) []githubtest.Issue {
	h.t.Helper()
	all, err := h.gh.Issues(repo)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []githubtest.Issue
	for _, is := range all {
		if !is.IsPullRequest && is.Title == bot.FanoutTitle {
			out = append(out, is)
		}
	}
	return out
}

// requestsIn lists the request paths a fan-out pull request's body shows.
func requestsIn(body string) []string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if p, ok := strings.CutPrefix(line, "<details><summary><code>"); ok {
			p, _, _ = strings.Cut(p, "</code>")
			out = append(out, p)
		}
	}
	return out
}

func TestFanOut(t *testing.T) {
	ctx := context.Background()
	reqs := fanoutRequests()
	h := newHarnessOf(t, fanoutRepo(t, fanoutConfig, reqs))
	if err := h.bot.EnsureLabels(ctx, repo); err != nil {
		t.Fatal(err)
	}

	// Nothing changed: nothing to propose, no dashboard.
	res, err := h.bot.FanOut(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pending) != 0 || len(res.Failing) != 0 || res.Pinned != 1 || len(dashboards(h)) != 0 {
		t.Fatalf("before any change: %+v, %d dashboards", res, len(dashboards(h)))
	}

	// The blueprint changes: the push webhook fans out.
	changeBlueprint(t, h, 2, "standard")
	h.settle()
	prs := fanoutPRs(h)
	wantHeads := []string{"gitvend/fanout-dev-1", "gitvend/fanout-dev-2", "gitvend/fanout-prod-1", "gitvend/fanout-prod-2",
		"gitvend/fanout-staging-1", "gitvend/fanout-staging-2"}
	if heads := slices.Sorted(maps.Keys(prs)); !slices.Equal(heads, wantHeads) {
		t.Fatalf("fan-out pull requests from %v, want %v", heads, wantHeads)
	}
	seen := map[string]string{}
	for head, pr := range prs {
		env := strings.TrimSuffix(strings.TrimPrefix(head, bot.FanoutBranchPrefix), head[len(head)-2:])
		in := requestsIn(pr.Body)
		if len(in) == 0 || len(in) > 10 {
			t.Errorf("%s holds %d requests, want 1 to 10", head, len(in))
		}
		for _, p := range in {
			if !strings.HasPrefix(p, "requests/"+env+"/") {
				t.Errorf("%s (environment %s) holds %s: environments are never mixed", head, env, p)
			}
			if other, dup := seen[p]; dup {
				t.Errorf("%s is in %s and %s", p, other, head)
			}
			seen[p] = head
		}
		if !strings.Contains(pr.Body, "-  tier: basic\n+  tier: standard\n") || !strings.Contains(pr.Body, "**svc** version 2: Tier standard; size at most 7.") {
			t.Errorf("%s: the body shows no diff or changelog:\n%s", head, pr.Body)
		}
		runs := h.checkRuns(pr.HeadSHA)
		if runs[bot.CheckPolicy].Status != "completed" || runs[bot.CheckCost].Status != "completed" {
			t.Errorf("%s: check runs %+v; want policy and cost completed", head, runs)
		}
		// The branch holds the new render of exactly its requests.
		files := h.files(pr.HeadSHA)
		for _, p := range in {
			dir := strings.TrimSuffix(p, ".yaml") + "/"
			n := 0
			for f, data := range files {
				if strings.HasPrefix(f, dir+"configmap-") {
					n++
					if !strings.Contains(data, "tier: standard") {
						t.Errorf("%s: %s renders %s as\n%s", head, p, f, data)
					}
				}
			}
			if n != 1 {
				t.Errorf("%s: %s has %d ConfigMaps, want 1", head, p, n)
			}
		}
	}
	if len(seen) != 48 {
		t.Errorf("%d requests in fan-out pull requests, want 48 (50 less the failing and the pinned one)", len(seen))
	}
	for _, p := range []string{failingRequest, pinnedRequest} {
		if head, ok := seen[p]; ok {
			t.Errorf("%s is in %s", p, head)
		}
	}
	ds := dashboards(h)
	if len(ds) != 1 {
		t.Fatalf("%d dashboards, want 1", len(ds))
	}
	dash := ds[0].Body
	for _, want := range []string{
		"| `requests/staging/apps/big.yaml` | staging | `parameters.size: must be an integer from 1 to 7, got 9` |",
		"1 request pinned to a blueprint version",
		fmt.Sprintf("| `requests/dev/apps/svc-01.yaml` | dev | #%d |", prs["gitvend/fanout-dev-1"].Number),
		"### Merged\n\nNone yet.",
	} {
		if !strings.Contains(dash, want) {
			t.Errorf("the dashboard lacks %q:\n%s", want, dash)
		}
	}

	// Again, by redelivery, resync and a restarted gitvend: nothing new.
	heads := map[string]string{}
	for head, pr := range prs {
		heads[head] = pr.HeadSHA
	}
	before := len(h.pulls())
	for _, d := range h.gh.Deliveries() {
		if d.Event == "push" {
			if err := h.gh.Redeliver(d.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.settle()
	if err := h.bot.Resync(ctx, repo); err != nil {
		t.Fatal(err)
	}
	if _, err := h.restarted().FanOut(ctx, repo); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if n := len(h.pulls()); n != before {
		t.Errorf("reruns opened %d pull requests", n-before)
	}
	for head, pr := range fanoutPRs(h) {
		if heads[head] != pr.HeadSHA {
			t.Errorf("a rerun moved %s from %.12s to %.12s", head, heads[head], pr.HeadSHA)
		}
	}
	if ds := dashboards(h); len(ds) != 1 || ds[0].Body != dash {
		t.Errorf("reruns left %d dashboards or changed it", len(ds))
	}

	// A second change updates the open pull requests in place.
	changeBlueprint(t, h, 3, "premium")
	h.settle()
	again := fanoutPRs(h)
	if n := len(h.pulls()); n != before {
		t.Errorf("the second change opened %d pull requests", n-before)
	}
	for head, pr := range again {
		if pr.Number != prs[head].Number || pr.HeadSHA == heads[head] {
			t.Errorf("%s: #%d at %.12s, was #%d at %.12s; want the same pull request, a new head", head, pr.Number, pr.HeadSHA, prs[head].Number, heads[head])
		}
		if !strings.Contains(pr.Body, "+  tier: premium\n") {
			t.Errorf("%s: the body does not show the second change", head)
		}
		if runs := h.checkRuns(pr.HeadSHA); runs[bot.CheckPolicy].Status != "completed" {
			t.Errorf("%s: the new head is not checked: %+v", head, runs)
		}
	}

	// A merged fan-out pull request shows as merged; the others stay.
	merged := again["gitvend/fanout-prod-1"]
	if _, err := h.gh.MergePullRequest(ctx, repo, merged.Number, "alice"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	after := fanoutPRs(h)
	if _, ok := after["gitvend/fanout-prod-1"]; ok {
		t.Errorf("the merged group got another pull request")
	}
	if pr := after["gitvend/fanout-prod-2"]; pr.Number != again["gitvend/fanout-prod-2"].Number {
		t.Errorf("prod group 2 is #%d, was #%d; a merge must not reshuffle the other groups", pr.Number, again["gitvend/fanout-prod-2"].Number)
	}
	ds = dashboards(h)
	if len(ds) != 1 {
		t.Fatalf("%d dashboards, want 1", len(ds))
	}
	_, mergedPart, _ := strings.Cut(ds[0].Body, "### Merged")
	for _, p := range requestsIn(merged.Body) {
		if !strings.Contains(mergedPart, fmt.Sprintf("| `%s` | prod | #%d |", p, merged.Number)) {
			t.Errorf("the dashboard does not list %s as merged in #%d:\n%s", p, merged.Number, ds[0].Body)
		}
		if strings.Contains(strings.Split(ds[0].Body, "### Failing")[0], "`"+p+"`") {
			t.Errorf("%s is still pending on the dashboard", p)
		}
	}

	// The change is taken back: the groups left with nothing to propose
	// are closed, and the requests merged at tier premium are proposed
	// back to basic.
	files := svcFiles("svc", 4, "Back to tier basic.", 10, "basic")
	for p, data := range svcFiles("svc@1", 1, "First version.", 10, "basic") {
		files[p] = data
	}
	if _, err := h.gh.Push(ctx, repo, githubtest.PushSpec{User: "alice", Branch: "main", Message: "svc: back to basic", Files: files}); err != nil {
		t.Fatal(err)
	}
	h.settle()
	back := fanoutPRs(h)
	if len(back) != 1 || back["gitvend/fanout-prod-1"].Number == merged.Number {
		t.Fatalf("after the revert: open fan-out pull requests %v; want one new one for prod group 1", slices.Sorted(maps.Keys(back)))
	}
	if got, want := requestsIn(back["gitvend/fanout-prod-1"].Body), requestsIn(merged.Body); !slices.Equal(got, want) {
		t.Errorf("proposed back %v, want %v", got, want)
	}
	for head, pr := range after {
		if head == "gitvend/fanout-prod-1" {
			continue
		}
		now, err := h.gh.PullRequest(repo, pr.Number)
		if err != nil {
			t.Fatal(err)
		}
		if now.State != "closed" || now.Merged {
			t.Errorf("%s (#%d) is %s, merged %v; want closed unmerged", head, pr.Number, now.State, now.Merged)
		}
	}
	if ds := dashboards(h); len(ds) != 1 || !strings.Contains(ds[0].Body, "### Failing\n\nNone.") {
		t.Errorf("the dashboard after the revert:\n%s", ds[0].Body)
	}
}

// TestPinThroughIssues pins a request from the form and by command, is
// told the versions available for one that does not exist, and refuses a
// pin from someone who may not request.
func TestPinThroughIssues(t *testing.T) {
	h := newHarness(t)
	f := form("pinned")
	f["Blueprint version"] = "1"
	n := h.openForm("alice", "web-service", f)
	h.settle()
	pr := h.onePR(n)
	rec := h.files(pr.HeadSHA)["requests/dev/team-payments/pinned.yaml"]
	if !strings.Contains(rec, "blueprint: web-service@1\n") {
		t.Fatalf("the record of a pinned form:\n%s", rec)
	}

	// A version that does not exist: a field error naming those there are.
	h.comment(n, "alice", "/provision set blueprint=web-service@7")
	h.settle()
	status := strings.Join(h.botComments(n), "\n")
	if !strings.Contains(status, "blueprint web-service has no version 7; versions available: web-service@1 (current)") {
		t.Errorf("an unknown version is not explained:\n%s", status)
	}
	if got := h.onePR(n); got.HeadSHA != pr.HeadSHA {
		t.Errorf("an unknown version moved the pull request")
	}

	// Someone who may not request pins nothing: one refusal, no change.
	h.comment(n, "bob", "/provision set blueprint=web-service")
	h.settle()
	refusals := 0
	for _, c := range h.botComments(n) {
		if strings.Contains(c, "Sorry @bob") {
			refusals++
		}
	}
	if refusals != 1 {
		t.Errorf("bob's pin got %d refusals, want 1", refusals)
	}
	if got := h.onePR(n); got.HeadSHA != pr.HeadSHA {
		t.Errorf("bob's pin moved the pull request")
	}

	// Following the blueprint again.
	h.comment(n, "alice", "/provision set blueprint=web-service")
	h.settle()
	if rec := h.files(h.onePR(n).HeadSHA)["requests/dev/team-payments/pinned.yaml"]; !strings.Contains(rec, "blueprint: web-service\n") {
		t.Errorf("unpinned record:\n%s", rec)
	}
}
