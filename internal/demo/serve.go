package demo

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Serve runs `gitvend serve` as a child process, as an operator would, so
// that it can be stopped, killed and started again.
type Serve struct {
	Bin     string // the gitvend binary
	Config  string // its configuration file
	Addr    string // host:port of its public listener (the webhook)
	OpsAddr string // host:port of its ops listener (metrics, status page)
	Log     string // file its output is appended to

	cmd  *exec.Cmd
	done chan struct{}
}

// NewServe prepares a server for world w with binary bin on two free
// loopback ports, and points the GitHub double's webhooks at the public one.
func NewServe(w *World, bin string) (*Serve, error) {
	s, err := newServe(w, bin, "gitvend", "work", "serve.log")
	if err != nil {
		return nil, err
	}
	w.GH.SetWebhookURL(s.URL() + "/webhook")
	return s, nil
}

// newServe prepares one server on two free loopback ports, with its
// configuration in name.yaml, its working directory workDir and its output
// in logName, all in the world's directory.
func newServe(w *World, bin, name, workDir, logName string) (*Serve, error) {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	cfg, err := w.writeConfig(name, workDir, addrs[0], addrs[1])
	if err != nil {
		return nil, err
	}
	return &Serve{Bin: bin, Config: cfg, Addr: addrs[0], OpsAddr: addrs[1], Log: filepath.Join(w.Dir, logName)}, nil
}

// URL is the base URL of the server's public listener.
func (s *Serve) URL() string { return "http://" + s.Addr }

// OpsURL is the base URL of the server's ops listener: /metrics and the
// status page.
func (s *Serve) OpsURL() string { return "http://" + s.OpsAddr }

// Start starts the process and waits until it answers /readyz.
func (s *Serve) Start(ctx context.Context) error {
	logf, err := os.OpenFile(s.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	s.cmd = exec.Command(s.Bin, "serve", "--config", s.Config)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.Dir = filepath.Dir(s.Config)
	if err := s.cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start gitvend serve: %w", err)
	}
	s.done = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		_ = logf.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("gitvend serve exited at start; see %s", s.Log)
		default:
		}
		resp, err := http.Get(s.URL() + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			_ = s.Kill()
			return fmt.Errorf("gitvend serve not ready after 60s; see %s", s.Log)
		}
		select {
		case <-ctx.Done():
			_ = s.Kill()
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop asks the process to shut down gracefully and waits for it.
func (s *Serve) Stop() error { return s.signal(syscall.SIGTERM, 40*time.Second) }

// Kill ends the process at once, as a crash would.
func (s *Serve) Kill() error { return s.signal(syscall.SIGKILL, 10*time.Second) }

func (s *Serve) signal(sig syscall.Signal, wait time.Duration) error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(wait):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("gitvend serve did not stop within %s after %s", wait, sig)
	}
}
