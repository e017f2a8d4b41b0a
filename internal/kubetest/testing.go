package kubetest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// RequireEnv names the environment variable that, set to a true value
// (1, true), makes tests fail instead of skip when the control plane
// binaries are not built; CI sets it.
const RequireEnv = "GITVEND_KUBE_REQUIRED"

// ForTest starts a control plane for one test and stops it when the test
// and its subtests finish. It skips the test when the binaries are not
// built, unless $GITVEND_KUBE_REQUIRED is set, and fails it when the control
// plane does not start.
func ForTest(t testing.TB) *Env {
	t.Helper()
	binDir := binDirOrSkip(t)
	env, err := start(t.Context(), binDir)
	if err != nil {
		t.Fatalf("start control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop control plane: %v", err)
		}
	})
	return env
}

// binDirOrSkip returns the binary directory, skipping (or, when required,
// failing) the test when the binaries are missing.
func binDirOrSkip(t testing.TB) string {
	t.Helper()
	dir, err := BinDir()
	if err != nil {
		t.Fatalf("find control plane binaries: %v", err)
	}
	if err := CheckBinaries(dir); err != nil {
		if required, _ := strconv.ParseBool(os.Getenv(RequireEnv)); required {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return dir
}

// Shared hands one control plane to every test of a test binary that asks
// for it, started on first use so that binaries whose selected tests do not
// need it never pay for it. Declare one in a _test.go file and stop it from
// TestMain after m.Run:
//
//	var kube kubetest.Shared
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		if err := kube.Stop(); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//		}
//		os.Exit(code)
//	}
//
// Tests sharing a control plane should work in namespaces of their own (see
// Env.Namespace) and leave the API server running; a test that stops it
// wants its own from ForTest. The zero value is ready to use.
type Shared struct {
	mu  sync.Mutex
	env *Env
	err error
}

// Env returns the shared control plane, starting it on the first call. It
// skips the test when the binaries are not built, as ForTest does, and fails
// it when the control plane did not start.
func (s *Shared) Env(t testing.TB) *Env {
	t.Helper()
	binDir := binDirOrSkip(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil && s.err == nil {
		// Not the test's context: the control plane outlives the test.
		s.env, s.err = start(context.Background(), binDir)
	}
	if s.err != nil {
		t.Fatalf("start shared control plane: %v", s.err)
	}
	return s.env
}

// Main runs the tests of m and stops the shared control plane after them,
// then exits with their result (1 when the stop fails): a TestMain of one
// line, `func TestMain(m *testing.M) { kube.Main(m) }`.
func (s *Shared) Main(m *testing.M) {
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// Stop stops the shared control plane if it was started. A later Env call
// starts a new one.
func (s *Shared) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	env := s.env
	s.env, s.err = nil, nil
	if env == nil {
		return nil
	}
	return env.Stop()
}

// Namespace creates a namespace named after the test with a random suffix
// and returns its name. Without kube-controller-manager a deleted namespace
// never goes away, so it is left in place for the control plane's lifetime.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	c, err := client.New(e.Config(), client.Options{})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: namespacePrefix(t.Name())}}
	if err := c.Create(t.Context(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

// namespacePrefix turns a test name into a DNS-1123 label prefix of at most
// 40 characters ending in "-", leaving room for the generated suffix.
func namespacePrefix(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 39 {
			break
		}
	}
	p := strings.TrimRight(b.String(), "-")
	if p == "" {
		p = "test"
	}
	return p + "-"
}
