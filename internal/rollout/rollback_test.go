package rollout_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// healthRepo is a desired-state repository with environments dev and
// prod, each a namespace and a ConfigMap; prod rolls back merges that do
// not become healthy.
func healthRepo() map[string]string {
	files := map[string]string{"gitvend.yaml": `apiVersion: gitvend.dev/v1alpha1
kind: Config
environments:
- name: dev
- name: prod
  rollbackOnFailure: true
`}
	for _, env := range []string{"dev", "prod"} {
		files["environments/"+env+"/kustomization.yaml"] = "resources:\n  - namespace.yaml\n"
		files["environments/"+env+"/namespace.yaml"] = fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: team-%[1]s
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team-%[1]s
data:
  mode: fast
`, env)
	}
	return files
}

// webIn is a Deployment of web in env's namespace, added to its root.
func webIn(env string) map[string]string {
	return map[string]string{
		"environments/" + env + "/kustomization.yaml": "resources:\n  - namespace.yaml\n  - web.yaml\n",
		"environments/" + env + "/web.yaml": fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-%s
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/web:nope
`, env),
	}
}

// healthFixture is the repository above on the GitHub double, targets
// dev and prod (one environment each, a one-second health timeout) on one
// apiserver, and the options of a rollout; rollouts are driven by Sync.
type healthFixture struct {
	env  *kubetest.Env
	gh   *githubtest.Server
	opts rollout.Options
	kube client.Client
}

func newHealthFixture(t *testing.T) *healthFixture {
	t.Helper()
	env := kubetest.ForTest(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := githubtest.Start(githubtest.Options{AppID: 7, AppPublicKey: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	if err := gh.CreateRepo(t.Context(), githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: healthRepo()}); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.AddInstallation("acme", repo); err != nil {
		t.Fatal(err)
	}
	app, err := github.NewApp(github.AppConfig{APIURL: gh.URL() + "/", AppID: 7,
		PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})})
	if err != nil {
		t.Fatal(err)
	}
	var targets []cluster.Connection
	for _, name := range []string{"dev", "prod"} {
		targets = append(targets, cluster.Connection{Config: env.Config(), Target: cluster.Target{
			Name: name, Repository: repo, Environments: []string{name}, Namespaces: []string{"team-" + name},
			ClusterScopedKinds: []string{"Namespace"}, Prune: true, DriftInterval: time.Hour,
			HealthTimeout: time.Second, InventoryNamespace: cluster.DefaultInventoryNamespace}})
	}
	kube, err := client.New(env.Config(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &healthFixture{env: env, gh: gh, kube: kube, opts: rollout.Options{
		Clients:  app,
		Git:      gitrepo.Clones{Cache: gitrepo.New(t.TempDir(), nil), Remote: app},
		Branches: map[string]string{repo: "main"},
		Targets:  targets, Interval: time.Hour, ScratchDir: t.TempDir(),
		Author: gitrepo.BotSignature("gitvend[bot]", gh.BotUserID()),
	}}
}

// rollout starts a process: a Rollout with nothing in memory.
func (f *healthFixture) rollout(t *testing.T) *rollout.Rollout {
	t.Helper()
	r, err := rollout.New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// merge merges a pull request of files from branch and returns the merge
// commit and the pull request's number.
func (f *healthFixture) merge(t *testing.T, branch string, files map[string]string) (string, int) {
	t.Helper()
	ctx := t.Context()
	if _, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: branch, Message: "Add web", Files: files}); err != nil {
		t.Fatal(err)
	}
	n, err := f.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: branch, Title: "Add web to " + branch})
	if err != nil {
		t.Fatal(err)
	}
	sha, err := f.gh.MergePullRequest(ctx, repo, n, "bob")
	if err != nil {
		t.Fatal(err)
	}
	return sha, n
}

// pod creates a pod of web in namespace with the status a kubelet
// reports: the apiserver of the tests runs no kubelet.
func (f *healthFixture) pod(t *testing.T, namespace string, st corev1.PodStatus) {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: namespace, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/acme/web:nope"}}}}
	if err := f.kube.Create(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	pod.Status = st
	if err := f.kube.Status().Update(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
}

// status is gitvend's last commit status of target on sha.
func (f *healthFixture) status(t *testing.T, sha, target string) githubtest.Status {
	t.Helper()
	all, err := f.gh.Statuses(repo)
	if err != nil {
		t.Fatal(err)
	}
	var last githubtest.Status
	for _, st := range all {
		if st.SHA == sha && st.Context == rollout.StatusPrefix+target {
			last = st
		}
	}
	return last
}

// pulls lists the pull requests whose head is branch.
func (f *healthFixture) pulls(t *testing.T, branch string) []githubtest.PullRequest {
	t.Helper()
	all, err := f.gh.PullRequests(repo)
	if err != nil {
		t.Fatal(err)
	}
	var out []githubtest.PullRequest
	for _, p := range all {
		if p.Head == branch {
			out = append(out, p)
		}
	}
	return out
}

// applyComment is gitvend's comment on pull request n.
func (f *healthFixture) applyComment(t *testing.T, n int) string {
	t.Helper()
	is, err := f.gh.Issue(repo, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range is.Comments {
		if strings.Contains(c.Body, github.Marker("apply")) {
			return c.Body
		}
	}
	return ""
}

// TestUnhealthyMergeFailsAndIsRolledBackOnce: a merge whose Deployment
// crash-loops on dev fails dev's apply status and says why on the pull
// request, and opens no revert (dev does not ask for one); a merge whose
// Deployment cannot pull its image on prod, which sets rollbackOnFailure,
// opens one pull request reverting the merge on gitvend/revert-<sha>,
// never touching main, and neither a resync nor a new process opens a
// second, nor one after a person closed it.
func TestUnhealthyMergeFailsAndIsRolledBackOnce(t *testing.T) {
	f := newHealthFixture(t)
	ctx := context.WithoutCancel(t.Context())
	r := f.rollout(t)
	if err := r.Sync(ctx, repo); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	base := f.headOf(t, "main")
	for _, target := range []string{"dev", "prod"} {
		if st := f.status(t, base, target); st.State != "success" {
			t.Fatalf("%s on the first commit: %+v", target, st)
		}
	}
	f.pod(t, "team-dev", corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "app", RestartCount: 4, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "API_TOKEN=hunter2"}}}}})
	f.pod(t, "team-prod", corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "pull access denied"}}}}})

	// dev: a crash loop, reported, not rolled back.
	devSHA, devPR := f.merge(t, "web-dev", webIn("dev"))
	start := time.Now()
	if err := r.Sync(ctx, repo); err != nil {
		t.Fatalf("sync of the dev merge: %v", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("a sync with one-second health timeouts took %s", took)
	}
	st := f.status(t, devSHA, "dev")
	if st.State != "failure" || !strings.HasPrefix(st.Description, "not healthy: Deployment/team-dev/web crash loop: container app keeps crashing") ||
		len([]rune(st.Description)) > github.MaxStatusDescription {
		t.Errorf("dev's status on the dev merge: %s %q; want failure, the crash loop first, within 140 characters", st.State, st.Description)
	}
	comment := f.applyComment(t, devPR)
	for _, want := range []string{"Not healthy within the health timeout", "`Deployment/team-dev/web`", "**crash loop**", "last exit code 1 (Error)"} {
		if !strings.Contains(comment, want) {
			t.Errorf("the dev merge's comment does not say %q:\n%s", want, comment)
		}
	}
	if strings.Contains(comment, "hunter2") || strings.Contains(comment, "revert") {
		t.Errorf("the dev merge's comment shows a container's message or a revert:\n%s", comment)
	}
	if got := f.pulls(t, rollout.RevertBranch(devSHA)); len(got) != 0 {
		t.Errorf("a revert of the dev merge was opened though dev does not ask for one: %+v", got)
	}

	// prod: an image pull error, rolled back by a pull request.
	prodSHA, prodPR := f.merge(t, "web-prod", webIn("prod"))
	if err := r.Sync(ctx, repo); err != nil {
		t.Fatalf("sync of the prod merge: %v", err)
	}
	if st := f.status(t, prodSHA, "prod"); st.State != "failure" || !strings.Contains(st.Description, "image pull error: container app cannot pull image ghcr.io/acme/web:nope") {
		t.Errorf("prod's status on the prod merge: %s %q", st.State, st.Description)
	}
	if st := f.status(t, prodSHA, "dev"); st.State != "failure" {
		t.Errorf("dev's status on the prod merge: %s %q; want failure still", st.State, st.Description)
	}
	reverts := f.pulls(t, rollout.RevertBranch(prodSHA))
	if len(reverts) != 1 {
		t.Fatalf("%d revert pull requests of the prod merge, want 1", len(reverts))
	}
	revert := reverts[0]
	if revert.State != "open" || revert.Merged || revert.Base != "main" || revert.User != "gitvend[bot]" ||
		!strings.Contains(revert.Title, "Add web to web-prod") || !strings.Contains(revert.Body, fmt.Sprintf("#%d", prodPR)) ||
		!strings.Contains(revert.Body, "**image pull error**") || !strings.Contains(revert.Body, "`prod`") {
		t.Errorf("revert pull request: %+v", revert)
	}
	if strings.Contains(revert.Body, "team-dev") {
		t.Errorf("the revert names dev's object, which the prod merge did not change:\n%s", revert.Body)
	}
	if head := f.headOf(t, "main"); head != prodSHA {
		t.Errorf("main moved to %s; gitvend must never push the desired-state branch", head)
	}
	files, err := f.gh.Files(ctx, repo, rollout.RevertBranch(prodSHA))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["environments/prod/web.yaml"]; ok || files["environments/prod/kustomization.yaml"] != healthRepo()["environments/prod/kustomization.yaml"] ||
		files["environments/dev/web.yaml"] == "" {
		t.Errorf("the revert branch does not undo just the prod merge: %v", keys(files))
	}
	if c := f.applyComment(t, prodPR); !strings.Contains(c, fmt.Sprintf("#%d reverts this one", revert.Number)) || !strings.Contains(c, "**image pull error**") {
		t.Errorf("the prod merge's comment does not point at the revert:\n%s", c)
	}

	// A resync and a new process find the revert and open no other.
	if err := r.Sync(ctx, repo); err != nil {
		t.Fatalf("resync: %v", err)
	}
	restarted := f.rollout(t)
	if err := restarted.Sync(ctx, repo); err != nil {
		t.Fatalf("sync after a restart: %v", err)
	}
	if st := f.status(t, prodSHA, "prod"); st.State != "failure" {
		t.Errorf("prod after the restart: %s %q", st.State, st.Description)
	}
	if got := f.pulls(t, rollout.RevertBranch(prodSHA)); len(got) != 1 {
		t.Errorf("%d revert pull requests after a resync and a restart, want 1", len(got))
	}
	// A person who closes the revert keeps the change: it is not proposed
	// again.
	if err := f.gh.CloseIssue(ctx, repo, revert.Number, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := f.rollout(t).Sync(ctx, repo); err != nil {
		t.Fatalf("sync after the revert was closed: %v", err)
	}
	if got := f.pulls(t, rollout.RevertBranch(prodSHA)); len(got) != 1 || got[0].State != "closed" {
		t.Errorf("revert pull requests after one was closed: %+v, want the closed one only", got)
	}
	if all, _ := f.gh.PullRequests(repo); len(all) != 3 {
		t.Errorf("%d pull requests, want the two merged and one revert", len(all))
	}
}

func (f *healthFixture) headOf(t *testing.T, branch string) string {
	t.Helper()
	b, err := f.gh.Branches(t.Context(), repo)
	if err != nil {
		t.Fatal(err)
	}
	return b[branch]
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
