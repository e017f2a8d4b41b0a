package rollout_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// sleepConfig puts the team namespaces of dev to sleep in Berlin from 19:00
// to 08:00 on working days and from Friday evening to Monday morning.
const sleepConfig = `
sleep:
- environments: [dev]
  namespaces: ["team-*"]
  sleep: "0 19 * * MON-FRI"
  wake: "0 8 * * MON-FRI"
  timezone: Europe/Berlin
`

// clock is a settable clock for Options.Now.
type clock struct{ t atomic.Pointer[time.Time] }

func (c *clock) set(t time.Time) { c.t.Store(&t) }
func (c *clock) now() time.Time  { return *c.t.Load() }

// sleepFixture is the example repository with sleepConfig on the GitHub
// double, and the options of a rollout of it to target dev on its clock.
type sleepFixture struct {
	env  *kubetest.Env
	gh   *githubtest.Server
	opts rollout.Options
}

func newSleepFixture(t *testing.T, env *kubetest.Env, c *clock) *sleepFixture {
	t.Helper()
	return newClockFixture(t, env, c, func(files map[string]string) { files["gitvend.yaml"] += sleepConfig })
}

// newClockFixture is the example repository, changed by edit, on the
// GitHub double, and the options of a rollout of it to target dev on
// clock c.
func newClockFixture(t *testing.T, env *kubetest.Env, c *clock, edit func(files map[string]string)) *sleepFixture {
	t.Helper()
	ctx := context.Background()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := githubtest.Start(githubtest.Options{AppID: 7, AppPublicKey: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	files := exampleFiles(t)
	edit(files)
	// search-pr-42's replicas are left to people: Git does not set them.
	const dep = "requests/dev/team-search/search-pr-42/deployment-search-pr-42.yaml"
	if !strings.Contains(files[dep], "  replicas: 1\n") {
		t.Fatalf("%s sets no replicas", dep)
	}
	files[dep] = strings.Replace(files[dep], "  replicas: 1\n", "", 1)
	if err := gh.CreateRepo(ctx, githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: files}); err != nil {
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
	target := cluster.Connection{Config: env.Config(), Target: cluster.Target{
		Name: "dev", Repository: repo, Environments: []string{"dev"}, Namespaces: []string{"team-*"}, ClusterScopedKinds: []string{"Namespace"},
		Prune: true, DriftInterval: time.Hour, InventoryNamespace: cluster.DefaultInventoryNamespace}}
	return &sleepFixture{env: env, gh: gh, opts: rollout.Options{
		Clients:  app,
		Git:      gitrepo.Clones{Cache: gitrepo.New(t.TempDir(), nil), Remote: app},
		Branches: map[string]string{repo: "main"},
		Targets:  []cluster.Connection{target}, Interval: time.Hour, ScratchDir: t.TempDir(),
		Now: c.now,
	}}
}

// run starts a rollout (a process of gitvend, as it were) and returns it
// with the function that stops it.
func (f *sleepFixture) run(t *testing.T) (*rollout.Rollout, func()) {
	t.Helper()
	r, err := rollout.New(f.opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return r, stop
}

// get reads a field of a live object with kubectl's jsonpath.
func (f *sleepFixture) get(t *testing.T, kind, ns, name, jsonpath string) string {
	t.Helper()
	out, err := f.env.Kubectl(context.Background(), "get", kind, name, "-n", ns, "-o", "jsonpath="+jsonpath).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get %s %s/%s: %v: %s", kind, ns, name, err, out)
	}
	return string(out)
}

// state is what sleep touches on the example's workloads, one line each.
func (f *sleepFixture) state(t *testing.T) string {
	t.Helper()
	ann := `{.metadata.annotations.gitvend\.dev/asleep}`
	return strings.Join([]string{
		"search-pr-42 " + f.get(t, "deployment", "team-search", "search-pr-42", "{.spec.replicas} "+ann),
		"ledger-db " + f.get(t, "statefulset", "team-payments", "ledger-db", "{.spec.replicas} "+ann),
		"nightly-reindex " + f.get(t, "cronjob", "team-search", "nightly-reindex", "{.spec.suspend} "+ann),
		"payments-api " + f.get(t, "deployment", "team-payments", "payments-api", "{.spec.replicas} "+ann),
		"hpa " + f.get(t, "hpa", "team-payments", "payments-api", "{.spec.minReplicas}-{.spec.maxReplicas} "+ann),
	}, "\n")
}

// TestSleepWindows follows the example's dev workloads through a week of
// sleep schedules on a real apiserver, with the rollout's clock set by
// hand: a window that started while gitvend was down is applied at start
// (Deployments and StatefulSets at zero, CronJobs suspended, an HPA's
// workload left to its HPA, held at one replica), nothing of it is drift,
// an apply of a new commit during the window wakes nothing, the window's
// end restores every value exactly (a replica count chosen by hand too),
// and a wake override keeps one namespace awake until it runs out, found
// again by a restarted process.
func TestSleepWindows(t *testing.T) {
	env := kubetest.ForTest(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, berlin) }
	c := &clock{}
	c.set(at(2, 12, 0)) // Wednesday noon
	f := newSleepFixture(t, env, c)
	ctx := context.Background()

	// Wednesday noon: applied awake; someone scales a Deployment whose
	// replicas Git leaves alone by hand.
	_, stop := f.run(t)
	head := statusHead(t, f.gh)
	waitFor(t, "the first apply", func() bool { return statusOf(t, f.gh, head) == "success" })
	kubectl(t, env, "scale", "deployment/search-pr-42", "-n", "team-search", "--replicas=3")
	awake := strings.Join([]string{
		"search-pr-42 3 ",
		"ledger-db 1 ",
		"nightly-reindex false ",
		"payments-api 1 ",
		"hpa 2-4 ",
	}, "\n")
	if got := f.state(t); got != awake {
		t.Fatalf("awake at noon:\n%s\nwant\n%s", got, awake)
	}
	stop()

	// Wednesday 20:00, gitvend restarts: the window started at 19:00
	// while it was down, and is applied at start.
	c.set(at(2, 20, 0))
	r, stop := f.run(t)
	asleep := strings.Join([]string{
		`search-pr-42 0 {"replicas":3}`,
		`ledger-db 0 {"replicas":1}`,
		`nightly-reindex true {"suspend":false}`,
		"payments-api 1 ",
		`hpa 1-1 {"maxReplicas":4,"minReplicas":2}`,
	}, "\n")
	waitFor(t, "asleep after the restart", func() bool { return f.state(t) == asleep })

	// A new commit during the window is applied without waking anything;
	// a Deployment it adds is created asleep, with Git's replicas recorded.
	root := exampleFiles(t)["environments/dev/kustomization.yaml"]
	sha, err := f.gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "main", Message: "More shards, and a worker",
		Files: map[string]string{
			"environments/dev/search-config.yaml": strings.Replace(exampleFiles(t)["environments/dev/search-config.yaml"], `"3"`, `"4"`, 1),
			"environments/dev/worker.yaml":        worker,
			"environments/dev/kustomization.yaml": strings.Replace(root, "  - search-config.yaml\n", "  - search-config.yaml\n  - worker.yaml\n", 1),
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.Pushed(ctx, repo, "main", sha)
	waitFor(t, "the commit applied", func() bool { return statusOf(t, f.gh, sha) == "success" })
	if got := f.state(t); got != asleep {
		t.Errorf("asleep after an apply:\n%s\nwant\n%s", got, asleep)
	}
	ann := `{.spec.replicas} {.metadata.annotations.gitvend\.dev/asleep}`
	if got := f.get(t, "deployment", "team-search", "worker", ann); got != `0 {"replicas":2}` {
		t.Errorf("a Deployment created asleep: %q", got)
	}
	// Sleep is no drift: the monitor, which watches these objects, has
	// seen every change and opened nothing.
	time.Sleep(2 * time.Second)
	if n := issuesTitled(t, f.gh, "Drift on target dev"); n != 0 {
		t.Errorf("%d drift issues while asleep: %s", n, issueTitled(t, f.gh, "Drift on target dev").Body)
	}

	// Thursday 08:01: the window ends and every value comes back.
	c.set(at(3, 8, 1))
	r.Kick(repo)
	waitFor(t, "awake in the morning", func() bool { return f.state(t) == awake })
	if got := f.get(t, "deployment", "team-search", "worker", ann); got != "2 " {
		t.Errorf("a Deployment created asleep, woken: %q, want Git's 2 replicas", got)
	}

	// Thursday 19:30: asleep again; /provision wake keeps team-search
	// awake until 21:30, team-payments sleeps on.
	c.set(at(3, 19, 30))
	r.Kick(repo)
	waitFor(t, "asleep in the evening", func() bool { return f.state(t) == asleep })
	if err := r.Wake(ctx, repo, "dev", "team-search", at(3, 21, 30)); err != nil {
		t.Fatal(err)
	}
	woken := strings.Join([]string{
		"search-pr-42 3 ",
		"ledger-db " + `0 {"replicas":1}`,
		"nightly-reindex false ",
		"payments-api 1 ",
		`hpa 1-1 {"maxReplicas":4,"minReplicas":2}`,
	}, "\n")
	waitFor(t, "team-search woken", func() bool { return f.state(t) == woken })
	if got := f.get(t, "namespace", "", "team-search", `{.metadata.annotations.gitvend\.dev/awake-until}`); got != "2026-12-03T20:30:00Z" {
		t.Errorf("the override on the namespace: %q", got)
	}
	// A restart finds the override in the cluster.
	stop()
	c.set(at(3, 20, 0))
	r, _ = f.run(t)
	r.Kick(repo)
	time.Sleep(time.Second)
	waitFor(t, "team-search awake after a restart", func() bool { return f.state(t) == woken })
	// At 21:31 the override has run out.
	c.set(at(3, 21, 31))
	r.Kick(repo)
	waitFor(t, "team-search asleep once the override ran out", func() bool { return f.state(t) == asleep })
	time.Sleep(time.Second)
	if n := issuesTitled(t, f.gh, "Drift on target dev"); n != 0 {
		t.Errorf("%d drift issues: %s", n, issueTitled(t, f.gh, "Drift on target dev").Body)
	}
}

// worker is a Deployment of two replicas added while dev sleeps.
const worker = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: team-search
spec:
  replicas: 2
  selector:
    matchLabels: {app: worker}
  template:
    metadata:
      labels: {app: worker}
    spec:
      containers:
      - name: worker
        image: ghcr.io/acme/worker:1.0.0
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {memory: 64Mi}
`

func statusHead(t *testing.T, gh *githubtest.Server) string {
	t.Helper()
	branches, err := gh.Branches(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	return branches["main"]
}
