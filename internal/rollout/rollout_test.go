package rollout_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/permalink"
	"github.com/gitvend/gitvend/internal/rollout"
)

const repo = "acme/infra"

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

// TestRolloutReportsAndTracksDrift applies the example repository to a
// real apiserver through the GitHub double: a commit status on the head,
// a drift issue when a managed field is changed by hand and closed when it
// is reverted (the target does not self-heal), and a refusal that fails
// the status when a commit places an object outside the target's
// namespaces, even though it reached the default branch.
// fixture is a rollout of the example repository to one target, running.
type fixture struct {
	env  *kubetest.Env
	gh   *githubtest.Server
	r    *rollout.Rollout
	opts rollout.Options // what r was built with, for another replica
}

// start runs a rollout of the example repository on the GitHub double to
// target dev (team-* namespaces, prune, no self-heal) on env, until the
// test ends. before, when given, acts on the double once the repository
// exists and before the rollout starts.
func start(t *testing.T, env *kubetest.Env, before ...func(gh *githubtest.Server)) *fixture {
	t.Helper()
	return startWith(t, env, nil, before...)
}

// startWith is start with the rollout's options changed by change first.
func startWith(t *testing.T, env *kubetest.Env, change func(*rollout.Options), before ...func(gh *githubtest.Server)) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := githubtest.Start(githubtest.Options{AppID: 7, AppPublicKey: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	if err := gh.CreateRepo(ctx, githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: exampleFiles(t)}); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.AddInstallation("acme", repo); err != nil {
		t.Fatal(err)
	}
	for _, f := range before {
		f(gh)
	}
	app, err := github.NewApp(github.AppConfig{APIURL: gh.URL() + "/", AppID: 7,
		PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})})
	if err != nil {
		t.Fatal(err)
	}
	target := cluster.Connection{Config: env.Config(), Target: cluster.Target{
		Name: "dev", Repository: repo, Environments: []string{"dev"}, Namespaces: []string{"team-*"}, ClusterScopedKinds: []string{"Namespace"},
		Prune: true, DriftInterval: time.Hour, InventoryNamespace: cluster.DefaultInventoryNamespace}}
	opts := rollout.Options{
		Clients:  app,
		Git:      gitrepo.Clones{Cache: gitrepo.New(t.TempDir(), nil), Remote: app},
		Branches: map[string]string{repo: "main"},
		Targets:  []cluster.Connection{target}, Interval: time.Hour, ScratchDir: t.TempDir(),
		Links: permalink.New("https://gitvend.example.com", []byte("secret")),
		Login: gh.BotLogin(),
	}
	if change != nil {
		change(&opts)
	}
	r, err := rollout.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return &fixture{env: env, gh: gh, r: r, opts: opts}
}

// head is the default branch's head commit.
func (f *fixture) head(t *testing.T) string {
	t.Helper()
	branches, err := f.gh.Branches(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	return branches["main"]
}

func TestRolloutReportsAndTracksDrift(t *testing.T) {
	env := kubetest.ForTest(t)
	f := start(t, env)
	gh, r, ctx := f.gh, f.r, context.Background()
	head := f.head(t)
	waitFor(t, "status success on the head", func() bool { return statusOf(t, gh, head) == "success" })
	// The apply said it had started before it said how it ended, each
	// status linked to the target's view.
	all, err := gh.Statuses(repo)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, st := range all {
		if st.SHA == head && st.Context == rollout.StatusPrefix+"dev" {
			states = append(states, st.State)
			if !strings.HasPrefix(st.TargetURL, "https://gitvend.example.com/v/") {
				t.Errorf("status %s links to %q, want the target's view", st.State, st.TargetURL)
			}
		}
	}
	if strings.Join(states, ",") != "pending,success" {
		t.Errorf("statuses of the apply: %v, want pending then success", states)
	}
	// The target's view: the replica that applied shows the objects it
	// changed; another one (a standby, or one just started) reads the
	// apply's status from GitHub and says where the rest is.
	if v, ok, err := r.TargetView(ctx, "dev"); err != nil || !ok || v.Revision != head || v.State != "success" || len(v.Objects) == 0 || v.Elsewhere {
		t.Errorf("the applying replica's view of dev: %+v, %v, %v", v, ok, err)
	}
	standby, err := rollout.New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := standby.TargetView(ctx, "dev"); err != nil || !ok || v.Revision != head || v.State != "success" || !v.Elsewhere || v.Description == "" {
		t.Errorf("a standby's view of dev: %+v, %v, %v", v, ok, err)
	}
	if _, ok, err := standby.TargetView(ctx, "prod"); ok || err != nil {
		t.Errorf("a view of a target that is not configured: %v, %v", ok, err)
	}

	// A change by hand is drift: one issue, closed when reverted. The
	// issue leaves the cluster: it names the fields that changed, never
	// their values (ConfigMap data and env values alike).
	kubectl(t, env, "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge", "-p", `{"data":{"index.shards":"9"}}`)
	kubectl(t, env, "set", "env", "statefulset/ledger-db", "-n", "team-payments", "POSTGRES_DB=stolen-db-name")
	var drift githubtest.Issue
	waitFor(t, "a drift issue naming both changes", func() bool {
		drift = issueTitled(t, gh, "Drift on target dev")
		return drift.State == "open" && strings.Contains(drift.Body, "StatefulSet team-payments/ledger-db") &&
			strings.Contains(drift.Body, "ConfigMap team-search/search-settings")
	})
	for _, want := range []string{"`data[index.shards]`", "`spec.template.spec.containers[name=postgres].env[name=POSTGRES_DB].value`", "**changed**"} {
		if !strings.Contains(drift.Body, want) {
			t.Errorf("drift issue body does not show %s:\n%s", want, drift.Body)
		}
	}
	for _, value := range []string{`"9"`, `"3"`, "stolen-db-name", `"app"`} {
		if strings.Contains(drift.Body, value) {
			t.Errorf("drift issue body shows the value %s:\n%s", value, drift.Body)
		}
	}
	kubectl(t, env, "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge", "-p", `{"data":{"index.shards":"3"}}`)
	kubectl(t, env, "set", "env", "statefulset/ledger-db", "-n", "team-payments", "POSTGRES_DB=app")
	waitFor(t, "the drift issue to close", func() bool { return issueTitled(t, gh, "Drift on target dev").State == "closed" })

	// An object outside the target's namespaces is refused at apply time.
	root := exampleFiles(t)["environments/dev/kustomization.yaml"]
	sha, err := gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "Sneak a ConfigMap into kube-system",
		Files: map[string]string{
			"environments/dev/evil.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: evil\n  namespace: kube-system\n",
			"environments/dev/kustomization.yaml": strings.Replace(root, "  - search-config.yaml\n", "  - search-config.yaml\n  - evil.yaml\n", 1),
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.Pushed(ctx, repo, "main", sha)
	waitFor(t, "a failed status on the commit", func() bool { return statusOf(t, gh, sha) == "failure" })
	if err := env.Kubectl(ctx, "get", "configmap", "evil", "-n", "kube-system").Run(); err == nil {
		t.Error("the refused ConfigMap exists")
	}
	if got := issuesTitled(t, gh, "Drift on target dev"); got != 1 {
		t.Errorf("%d drift issues, want 1", got)
	}
}

func statusOf(t *testing.T, gh *githubtest.Server, sha string) string {
	all, err := gh.Statuses(repo)
	if err != nil {
		t.Fatal(err)
	}
	state := ""
	for _, st := range all {
		if st.SHA == sha && st.Context == rollout.StatusPrefix+"dev" {
			state = st.State
		}
	}
	return state
}

func issueTitled(t *testing.T, gh *githubtest.Server, title string) githubtest.Issue {
	all, err := gh.Issues(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range all {
		if is.Title == title {
			return is
		}
	}
	return githubtest.Issue{}
}

func issuesTitled(t *testing.T, gh *githubtest.Server, title string) int {
	all, err := gh.Issues(repo)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, is := range all {
		if is.Title == title {
			n++
		}
	}
	return n
}

func kubectl(t *testing.T, env *kubetest.Env, args ...string) {
	t.Helper()
	if out, err := env.Kubectl(context.Background(), args...).CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exampleFiles reads the example desired-state repository.
func exampleFiles(t *testing.T) map[string]string {
	t.Helper()
	files, err := githubtest.ReadFiles(filepath.Join("..", "..", "examples", "desired-state"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestRolloutConvergesAfterTheAPIServerReturns: with the apiserver down, a
// push gives a failed (or error) status; once it is back, the retried
// reconcile converges and the same commit gets success.
func TestRolloutConvergesAfterTheAPIServerReturns(t *testing.T) {
	env := kubetest.ForTest(t)
	f := start(t, env)
	ctx := context.Background()
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, f.head(t)) == "success" })
	if err := env.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	sha, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "More shards",
		Files: map[string]string{"environments/dev/search-config.yaml": strings.Replace(exampleFiles(t)["environments/dev/search-config.yaml"], `"3"`, `"4"`, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	f.r.Pushed(ctx, repo, "main", sha)
	waitFor(t, "a failed status while the apiserver is down", func() bool {
		st := statusOf(t, f.gh, sha)
		return st == "failure" || st == "error"
	})
	if err := env.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "success once the apiserver is back", func() bool { return statusOf(t, f.gh, sha) == "success" })
	out, err := env.Kubectl(ctx, "get", "configmap", "search-settings", "-n", "team-search", "-o", "jsonpath={.data.index\\.shards}").CombinedOutput()
	if err != nil || string(out) != "4" {
		t.Fatalf("index.shards after convergence: %q %v", out, err)
	}
}

// TestMergeMessageNamingNoPullRequest: the report follows the apply before
// its success status; a commit pushed with a merge message naming a pull
// request that does not exist is still applied and marked applied, with
// nothing to report, rather than waiting for a report that cannot be made.
func TestMergeMessageNamingNoPullRequest(t *testing.T) {
	env := kubetest.ForTest(t)
	f := start(t, env)
	ctx := context.Background()
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, f.head(t)) == "success" })
	sha, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "Merge pull request #999 from acme/nowhere\n\nMore shards",
		Files: map[string]string{"environments/dev/search-config.yaml": strings.Replace(exampleFiles(t)["environments/dev/search-config.yaml"], `"3"`, `"4"`, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	f.r.Pushed(ctx, repo, "main", sha)
	waitFor(t, "success without a pull request to tell", func() bool { return statusOf(t, f.gh, sha) == "success" })
	out, err := env.Kubectl(ctx, "get", "configmap", "search-settings", "-n", "team-search", "-o", "jsonpath={.data.index\\.shards}").CombinedOutput()
	if err != nil || string(out) != "4" {
		t.Fatalf("index.shards: %q %v", out, err)
	}
}

// TestSyncKeepsCheckoutsMovedToEachHead: a sync after a push applies the
// new head from a checkout an earlier sync read, moved to it, and at most
// two checkouts (the head and the commit applied before it) stay in the
// scratch folder between syncs.
func TestSyncKeepsCheckoutsMovedToEachHead(t *testing.T) {
	env := kubetest.ForTest(t)
	var scratch string
	f := startWith(t, env, func(o *rollout.Options) { scratch = o.ScratchDir })
	ctx := context.Background()
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, f.head(t)) == "success" })
	for _, shards := range []string{"4", "5"} {
		sha, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "More shards",
			Files: map[string]string{"environments/dev/search-config.yaml": strings.Replace(exampleFiles(t)["environments/dev/search-config.yaml"], `"3"`, `"`+shards+`"`, 1)}})
		if err != nil {
			t.Fatal(err)
		}
		f.r.Pushed(ctx, repo, "main", sha)
		waitFor(t, "success on "+sha, func() bool { return statusOf(t, f.gh, sha) == "success" })
		out, err := env.Kubectl(ctx, "get", "configmap", "search-settings", "-n", "team-search", "-o", "jsonpath={.data.index\\.shards}").CombinedOutput()
		if err != nil || string(out) != shards {
			t.Fatalf("index.shards: %q %v, want %s", out, err, shards)
		}
		kept, err := filepath.Glob(filepath.Join(scratch, "gitvend-rollout-*"))
		if err != nil || len(kept) == 0 || len(kept) > 2 {
			t.Fatalf("checkouts in the scratch folder: %q %v, want one or two", kept, err)
		}
		holds := false
		for _, dir := range kept {
			data, err := os.ReadFile(filepath.Join(dir, "environments", "dev", "search-config.yaml"))
			holds = holds || err == nil && strings.Contains(string(data), `"`+shards+`"`)
		}
		if !holds {
			t.Errorf("no kept checkout holds the head's %s shards", shards)
		}
	}
}
