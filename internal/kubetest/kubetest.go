package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

const (
	// DefaultStartTimeout bounds how long etcd and kube-apiserver may each
	// take to report healthy when the context passed to Start has no
	// earlier deadline. It is generous because the machine may be busy
	// compiling.
	DefaultStartTimeout = 60 * time.Second

	// stopTimeout bounds how long a process may take to exit after SIGTERM
	// before it is killed.
	stopTimeout = 30 * time.Second
)

// Env is a running control plane: one etcd and one kube-apiserver on
// loopback, with an admin client certificate. Its methods are safe for
// concurrent use.
type Env struct {
	binDir     string
	dir        string
	kubeconfig string
	cfg        *rest.Config
	te         *envtest.Environment
	reaper     *reaper

	mu      sync.Mutex
	apiUp   bool
	stopped bool
}

// Start starts etcd and kube-apiserver from BinDir and waits until the API
// server is healthy and serves the default namespace. It returns a
// *MissingBinaryError when the binaries are not built. The context bounds the
// start only; the control plane runs until Stop.
func Start(ctx context.Context) (*Env, error) {
	binDir, err := BinDir()
	if err != nil {
		return nil, err
	}
	return start(ctx, binDir)
}

func start(ctx context.Context, binDir string) (_ *Env, retErr error) {
	if err := CheckBinaries(binDir); err != nil {
		return nil, err
	}
	timeout, err := startTimeout(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gitvend-kube-")
	if err != nil {
		return nil, fmt.Errorf("create control plane directory: %w", err)
	}
	defer func() {
		if retErr != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	certDir := filepath.Join(dir, "apiserver")
	dataDir := filepath.Join(dir, "etcd")
	for _, d := range []string{certDir, dataDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, fmt.Errorf("create control plane directory: %w", err)
		}
	}

	rp, err := startReaper(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if retErr != nil {
			rp.stop()
		}
	}()

	// The certificate and data directories are fixed rather than left to
	// envtest, so that a restarted API server keeps its serving certificate,
	// port and client CA, and clients made before the restart keep working.
	te := &envtest.Environment{
		BinaryAssetsDirectory: binDir,
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{
				Path:    filepath.Join(binDir, "kube-apiserver"),
				CertDir: certDir,
			},
			Etcd: &envtest.Etcd{
				Path:    filepath.Join(binDir, "etcd"),
				DataDir: dataDir,
			},
			KubectlPath: filepath.Join(binDir, "kubectl"),
		},
		ControlPlaneStartTimeout: timeout,
		ControlPlaneStopTimeout:  stopTimeout,
	}
	cfg, err := te.Start()
	if err != nil {
		_ = te.Stop()
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, te.KubeConfig, 0o600); err != nil {
		_ = te.Stop()
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	return &Env{
		binDir:     binDir,
		dir:        dir,
		kubeconfig: kubeconfig,
		cfg:        cfg,
		te:         te,
		reaper:     rp,
		apiUp:      true,
	}, nil
}

// startTimeout returns DefaultStartTimeout, shortened to the context's
// deadline when that comes sooner.
func startTimeout(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("start control plane: %w", err)
	}
	timeout := DefaultStartTimeout
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			return 0, fmt.Errorf("start control plane: %w", context.DeadlineExceeded)
		}
		timeout = min(timeout, left)
	}
	return timeout, nil
}

// Config returns a copy of the admin client configuration (group
// system:masters, no client-side rate limit to speak of).
func (e *Env) Config() *rest.Config {
	return rest.CopyConfig(e.cfg)
}

// KubeconfigPath returns the path of a kubeconfig file for the admin user,
// usable by kubectl and by clients. It is removed by Stop.
func (e *Env) KubeconfigPath() string {
	return e.kubeconfig
}

// KubectlPath returns the path of the kubectl binary built with the control
// plane.
func (e *Env) KubectlPath() string {
	return filepath.Join(e.binDir, "kubectl")
}

// Kubectl returns a command that runs kubectl with the given arguments
// against this control plane.
func (e *Env) Kubectl(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, e.KubectlPath(), append([]string{"--kubeconfig=" + e.kubeconfig}, args...)...)
}

// StopAPIServer stops kube-apiserver and leaves etcd running, so that
// clients see connection errors until StartAPIServer. Stopping a stopped
// API server does nothing.
func (e *Env) StopAPIServer() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return errors.New("stop kube-apiserver: control plane stopped")
	}
	if !e.apiUp {
		return nil
	}
	// Open watches can hold up a graceful stop; after StopTimeout envtest
	// kills the process, which is as down as a crashed API server.
	e.te.ControlPlane.APIServer.StopTimeout = apiStopTimeout
	if err := e.te.ControlPlane.APIServer.Stop(); err != nil && !strings.Contains(err.Error(), "timeout waiting for process") {
		return fmt.Errorf("stop kube-apiserver: %w", err)
	}
	e.apiUp = false
	return nil
}

// apiStopTimeout bounds a graceful stop of the API server in tests.
const apiStopTimeout = 5 * time.Second

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the
// same address with the same certificates and the data kept in etcd, and
// waits until it is healthy. Starting a running API server does nothing.
func (e *Env) StartAPIServer(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return errors.New("start kube-apiserver: control plane stopped")
	}
	if e.apiUp {
		return nil
	}
	timeout, err := startTimeout(ctx)
	if err != nil {
		return err
	}
	api := e.te.ControlPlane.APIServer
	api.StartTimeout = timeout
	if err := api.Start(); err != nil {
		_ = api.Stop()
		return fmt.Errorf("start kube-apiserver: %w", err)
	}
	e.apiUp = true
	return nil
}

// Stop stops kube-apiserver and etcd and removes their data, certificates
// and the kubeconfig file. Stopping a stopped control plane does nothing.
func (e *Env) Stop() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil
	}
	e.stopped = true
	e.apiUp = false
	err := e.te.Stop()
	e.reaper.stop()
	if rmErr := os.RemoveAll(e.dir); rmErr != nil && err == nil {
		err = rmErr
	}
	if err != nil {
		return fmt.Errorf("stop control plane: %w", err)
	}
	return nil
}
