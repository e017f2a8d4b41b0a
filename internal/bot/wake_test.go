package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// recordingWaker records the wakes asked of it.
type recordingWaker struct {
	mu    sync.Mutex
	wakes []string
}

func (r *recordingWaker) Wake(_ context.Context, repo, environment, namespace string, until time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wakes = append(r.wakes, repo+" "+environment+" "+namespace+" "+until.UTC().Format(time.RFC3339))
	return nil
}

func (r *recordingWaker) asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.wakes...)
}

// TestWakeOnlyByThoseWhoMayRequest: /provision wake on a request issue
// wakes the request's namespace for the time asked, counted from the
// comment, when its writer may request that (alice, team payments); a
// writer outside the owning team (carol) and a reader (bob) are refused
// once each and wake nothing; without for= and with no sleep schedule for
// the namespace, the reply says its workloads never sleep.
func TestWakeOnlyByThoseWhoMayRequest(t *testing.T) {
	waker := &recordingWaker{}
	h := newHarness(t, func(o *bot.Options) { o.Waker = waker })
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	pr := h.onePR(n)

	h.comment(n, "carol", "/provision wake for=2h")
	h.comment(n, "bob", "/provision wake for=2h")
	h.settle()
	if got := waker.asked(); len(got) != 0 {
		t.Fatalf("wakes asked by people who may not request: %v", got)
	}
	comments := strings.Join(h.botComments(n), "\n---\n")
	for _, want := range []string{"Sorry @carol, only members of team payments may make requests it owns.", "Sorry @bob"} {
		if strings.Count(comments, want) != 1 {
			t.Errorf("want one refusal %q in:\n%s", want, comments)
		}
	}

	h.comment(n, "alice", "/provision wake for=2h")
	h.settle()
	got := waker.asked()
	if len(got) != 1 || !strings.HasPrefix(got[0], "acme/infra dev team-payments ") {
		t.Fatalf("wakes asked: %v, want one of team-payments in dev", got)
	}
	until, err := time.Parse(time.RFC3339, strings.Fields(got[0])[3])
	if err != nil || time.Until(until) < 119*time.Minute || time.Until(until) > 121*time.Minute {
		t.Errorf("woken until %v, want two hours from the comment", until)
	}
	if comments := strings.Join(h.botComments(n), "\n---\n"); !strings.Contains(comments, "@alice: the workloads of namespace `team-payments` in dev are awake until") {
		t.Errorf("no answer to alice's wake:\n%s", comments)
	}
	if got := h.onePR(n); got.HeadSHA != pr.HeadSHA {
		t.Error("a wake changed the request's pull request")
	}

	h.comment(n, "alice", "/provision wake")
	h.settle()
	if comments := strings.Join(h.botComments(n), "\n---\n"); !strings.Contains(comments, "no sleep schedule of gitvend.yaml covers namespace `team-payments` in dev: its workloads never sleep") {
		t.Errorf("no answer to a wake without a schedule:\n%s", comments)
	}
	// Reading the issue again asks for the same wake, never a longer one.
	for _, w := range waker.asked() {
		if w != got[0] {
			t.Errorf("wakes asked: %v, want only %s", waker.asked(), got[0])
			break
		}
	}
}

// TestWakeReachesTheCluster: wired to the rollout as in production, an
// allowed person's /provision wake leaves the override on the namespace of
// a real apiserver, where a restarted gitvend finds it; a refused one
// leaves nothing there.
func TestWakeReachesTheCluster(t *testing.T) {
	env := kubetest.ForTest(t)
	ctx := context.Background()
	if out, err := env.Kubectl(ctx, "create", "namespace", "team-payments").CombinedOutput(); err != nil {
		t.Fatalf("create namespace: %v: %s", err, out)
	}
	h := newHarness(t, func(o *bot.Options) {
		r, err := rollout.New(rollout.Options{Clients: o.Clients, Git: o.Git, Branches: map[string]string{repo: "main"},
			Targets: []cluster.Connection{{Config: env.Config(), Target: cluster.Target{
				Name: "dev", Repository: repo, Environments: []string{"dev"}, Namespaces: []string{"team-*"},
				DriftInterval: time.Hour, InventoryNamespace: cluster.DefaultInventoryNamespace}}},
			ScratchDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		o.Waker = r
	})
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	override := func() string {
		out, err := env.Kubectl(ctx, "get", "namespace", "team-payments", "-o", `jsonpath={.metadata.annotations.gitvend\.dev/awake-until}`).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl: %v: %s", err, out)
		}
		return string(out)
	}
	h.comment(n, "carol", "/provision wake for=3h")
	h.settle()
	if got := override(); got != "" {
		t.Fatalf("carol's refused wake left an override: %q", got)
	}
	h.comment(n, "alice", "/provision wake for=3h")
	h.settle()
	until, err := time.Parse(time.RFC3339, override())
	if err != nil {
		t.Fatalf("no override after alice's wake: %v", err)
	}
	if d := time.Until(until); d < 179*time.Minute || d > 181*time.Minute {
		t.Errorf("awake until %v, want three hours from the comment", until)
	}
}
