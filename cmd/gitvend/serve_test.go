package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/githubtest"
)

func TestLockOf(t *testing.T) {
	for key, want := range map[string]struct {
		repo string
		lock bool
	}{
		"acme/infra":        {"acme/infra", true}, // resync
		"acme/infra#12":     {"acme/infra", true},
		"acme/infra@checks": {"acme/infra", true},
		"acme/infra@push":   {"acme/infra", false},
		"Acme/in.fra#3":     {"Acme/in.fra", true},
	} {
		repo, lock := lockOf(key)
		if repo != want.repo || lock != want.lock {
			t.Errorf("lockOf(%q) = %q, %v; want %q, %v", key, repo, lock, want.repo, want.lock)
		}
	}
}

// TestServeBindError takes one of serve's ports first: serve, otherwise
// able to start (a GitHub App on the double), exits at once, non-zero,
// naming the address in use and the setting it came from.
func TestServeBindError(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const appID = 77
	gh, err := githubtest.Start(githubtest.Options{AppID: appID, AppPublicKey: &key.PublicKey, WebhookSecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	t.Setenv("GITVEND_GITHUB_PRIVATE_KEY", string(pemKey))
	t.Setenv("GITVEND_GITHUB_WEBHOOK_SECRET", "s3cret")

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() })

	for _, tc := range []struct{ name, field, listen, opsListen string }{
		{"public listener", "listen", taken.Addr().String(), freeAddr(t)},
		{"ops listener", "opsListen", freeAddr(t), taken.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "gitvend.yaml")
			err := os.WriteFile(cfg, []byte(fmt.Sprintf(`apiVersion: gitvend.dev/v1alpha1
kind: ServerConfig
listen: %q
opsListen: %q
workDir: %s
log:
  level: error
github:
  apiURL: %s/
  appID: %d
repositories:
- name: acme/infra
`, tc.listen, tc.opsListen, filepath.Join(dir, "work"), gh.URL(), appID)), 0o600)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			start := time.Now()
			runErr := run(ctx, []string{"serve", "--config", cfg}, streams{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
			took := time.Since(start)
			code := exitCode(runErr, &stderr)
			if ctx.Err() != nil || took > 10*time.Second {
				t.Fatalf("serve returned after %v, only once its context ended: it waited instead of failing", took)
			}
			if code == 0 {
				t.Fatalf("serve exited 0 with its port taken\n%s", stderr.String())
			}
			want := tc.field + ": listen tcp " + taken.Addr().String() + ": bind: address already in use"
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr does not name the bind error %q:\n%s", want, stderr.String())
			}
		})
	}
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
