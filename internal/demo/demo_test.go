package demo_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/demo"
	"github.com/gitvend/gitvend/internal/kubetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// gitvendBinary builds cmd/gitvend once per test binary.
func gitvendBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gitvend-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "gitvend")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/gitvend").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build gitvend: %v", buildErr)
	}
	return binPath
}

// world starts the demo's world, skipping when the kube binaries are not
// built (unless they are required).
func world(t *testing.T) *demo.World {
	t.Helper()
	if testing.Short() {
		t.Skip("the whole story with gitvend serve as a process")
	}
	if _, err := kubetest.BinDir(); err != nil {
		if required, _ := strconv.ParseBool(os.Getenv(kubetest.RequireEnv)); required {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	w, err := demo.NewWorld(context.Background(), t.TempDir(), "../../examples/desired-state")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w
}

func serve(t *testing.T, w *demo.World) *demo.Serve {
	t.Helper()
	s, err := demo.NewServe(w, gitvendBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			if log, err := os.ReadFile(s.Log); err == nil {
				t.Logf("server log:\n%s", tail(string(log), 60))
			}
		}
	})
	return s
}

func TestStory(t *testing.T) {
	w := world(t)
	serve(t, w)
	var out strings.Builder
	story := &demo.Story{W: w, Out: &out}
	err := story.Play(context.Background())
	t.Logf("transcript:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Audit(w.GH); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"check gitvend/policy: failure", "check gitvend/policy: success", "commit status gitvend/apply/dev",
		"What this request made", "Drift on target dev", "spec.template.spec.containers[name=app].image", "/provision adopt", "Git now holds the hotfix", "check gitvend/plan: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
}

// TestStoryWithRestarts kills gitvend serve (SIGKILL, as a crash would)
// over and over while the story plays, starting it again each time: the
// story still finishes and nothing is done twice.
func TestStoryWithRestarts(t *testing.T) {
	w := world(t)
	s := serve(t, w)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var kills int
	done := make(chan struct{})
	// Kills come at varied moments, some soon after a start (before the
	// Lease is won), some while jobs and applies run.
	after := []time.Duration{800 * time.Millisecond, 5 * time.Second, 1200 * time.Millisecond, 6 * time.Second, 2 * time.Second, 5 * time.Second}
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(after[i%len(after)]):
			}
			if err := s.Kill(); err != nil {
				t.Error(err)
				return
			}
			kills++
			if err := s.Start(ctx); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
		}
	}()
	var out strings.Builder
	err := (&demo.Story{W: w, Out: &out}).Play(ctx)
	cancel()
	<-done
	t.Logf("%d kills; transcript:\n%s", kills, out.String())
	if err != nil {
		t.Fatal(err)
	}
	if kills < 2 {
		t.Errorf("only %d kills happened during the story", kills)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := demo.Audit(w.GH); err != nil {
		t.Fatal(err)
	}
}

// TestStoryWithTwoReplicas runs two gitvend serve processes against the
// same world behind a proxy that alternates the webhook deliveries between
// them, as a Service does between two pods, and kills one of them (SIGKILL)
// a random moment after each thing a person does, while gitvend works on
// it, starting it again soon after. Deliveries that reach the dead one
// fail; GitHub does not redeliver them by itself, so the leader's resync
// and the rollout's interval make up for them. The story
// still finishes, and nothing is done twice: the jobs of a request never ran
// on both replicas at once.
func TestStoryWithTwoReplicas(t *testing.T) {
	w := world(t)
	replicas, err := demo.NewReplicas(w, gitvendBinary(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range replicas {
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := r.Stop(); err != nil {
				t.Error(err)
			}
			if t.Failed() {
				if log, err := os.ReadFile(r.Log); err == nil {
					t.Logf("%s:\n%s", filepath.Base(r.Log), tail(string(log), 40))
				}
			}
		})
	}
	proxy, err := demo.NewProxy(replicas...)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	w.GH.SetWebhookURL(proxy.URL() + "/webhook")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	var out strings.Builder
	var kills [2]int
	// Each time a person acts, one replica is killed a moment later, while
	// gitvend works on what was done: the first victim is drawn at random,
	// then the two take turns, so both are killed however short the story.
	// Actions while the last victim is still coming back count as one.
	acted := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := rng.IntN(len(replicas)); ; i = (i + 1) % len(replicas) {
			select {
			case <-ctx.Done():
				return
			case <-acted:
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(rng.IntN(400)) * time.Millisecond):
			}
			if err := replicas[i].Kill(); err != nil {
				t.Error(err)
				return
			}
			kills[i]++
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(rng.IntN(500)) * time.Millisecond):
			}
			if err := replicas[i].Start(ctx); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
		}
	}()
	story := &demo.Story{W: w, Out: &out, Acted: func() {
		select {
		case acted <- struct{}{}:
		default:
		}
	}}
	err = story.Play(ctx)
	cancel()
	<-done
	served, failed := proxy.Counts()
	t.Logf("kills %v; deliveries answered %v, failed %v; transcript:\n%s", kills, served, failed, out.String())
	if err != nil {
		t.Fatal(err)
	}
	if kills[0]+kills[1] < 2 {
		t.Errorf("only %d kills happened during the story", kills[0]+kills[1])
	}
	if served[0] == 0 || served[1] == 0 {
		t.Errorf("deliveries answered per replica %v: the proxy did not share them", served)
	}
	for _, r := range replicas {
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := demo.Audit(w.GH); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
