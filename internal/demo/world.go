package demo

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
)

// The demo's fixed names.
const (
	AppID   = 4242
	Repo    = "acme/infra"
	Target  = "dev"
	secret  = "demo-webhook-secret"
	Alice   = "alice" // a developer of team payments
	Carol   = "carol" // a platform engineer who reviews and merges
	Mallory = "mallory"
)

// World is everything around gitvend in the demo: the GitHub double with a
// desired-state repository, its people and the App installed, and a real
// Kubernetes API server.
type World struct {
	GH   *githubtest.Server
	Kube *kubetest.Env
	// Dir holds the App's key, the webhook secret, the kubeconfig and the
	// server configuration.
	Dir string
}

// NewWorld starts the GitHub double and the API server and fills the
// repository with the desired state in exampleDir.
func NewWorld(ctx context.Context, dir, exampleDir string) (*World, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(dir, "app.pem"), keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "webhook-secret"), []byte(secret), 0o600); err != nil {
		return nil, err
	}
	gh, err := githubtest.Start(githubtest.Options{AppID: AppID, AppPublicKey: &key.PublicKey, WebhookSecret: secret})
	if err != nil {
		return nil, err
	}
	w := &World{GH: gh, Dir: dir}
	files, err := readTree(exampleDir)
	if err != nil {
		w.Close()
		return nil, err
	}
	if err := gh.CreateRepo(ctx, githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: files, Description: "Desired state of acme's clusters"}); err != nil {
		w.Close()
		return nil, err
	}
	if _, err := gh.AddInstallation("acme", Repo); err != nil {
		w.Close()
		return nil, err
	}
	for user, perm := range map[string]string{Alice: "write", Carol: "maintain", Mallory: "read"} {
		if err := gh.SetPermission(Repo, user, perm); err != nil {
			w.Close()
			return nil, err
		}
	}
	gh.SetTeamMembers("acme", "payments", Alice)
	gh.SetTeamMembers("acme", "platform", Carol)
	if w.Kube, err = kubetest.Start(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Kube.Kubectl(ctx, "create", "namespace", "gitvend-system").Run(); err != nil {
		w.Close()
		return nil, fmt.Errorf("create namespace gitvend-system: %w", err)
	}
	return w, nil
}

// Close stops everything the world started.
func (w *World) Close() {
	if w.Kube != nil {
		_ = w.Kube.Stop()
	}
	w.GH.Close()
}

// WriteConfig writes the server configuration of gitvend serve listening
// on listen and opsListen, and returns its path.
func (w *World) WriteConfig(listen, opsListen string) (string, error) {
	return w.writeConfig("gitvend", "work", listen, opsListen)
}

// writeConfig writes the configuration file name.yaml of one replica,
// with its own listeners and working directory.
func (w *World) writeConfig(name, workDir, listen, opsListen string) (string, error) {
	cfg := fmt.Sprintf(`# gitvend serve, as the demo runs it: the GitHub double and a real API server on loopback.
apiVersion: gitvend.dev/v1alpha1
kind: ServerConfig
listen: %q
opsListen: %q
workDir: %s
log:
  level: info
  format: json
github:
  apiURL: %s/
  appID: %d
  privateKeyFile: app.pem
  webhookSecretFile: webhook-secret
repositories:
- name: %s
queue:
  workers: 4
resync:
  interval: 30s
leaderElection:
  enabled: true
  kubeconfig: %s
  leaseDuration: 3s
  renewDeadline: 2s
  retryPeriod: 500ms
targets:
- name: %s
  repository: %s
  kubeconfig: %s
  environments: [dev]
  namespaces: ["team-*"]
  clusterScopedKinds: [Namespace]
  prune: true
  # A change by hand is reported, not undone: the story keeps one with
  # /provision adopt.
  selfHeal: false
  driftInterval: 20s
  # The demo's API server runs no controllers, so Deployments never report
  # ready: do not wait for them.
  healthTimeout: 0s
`, listen, opsListen, workDir, w.GH.URL(), AppID, Repo, w.Kube.KubeconfigPath(), Target, Repo, w.Kube.KubeconfigPath())
	path := filepath.Join(w.Dir, name+".yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

// readTree reads the desired-state repository in dir.
func readTree(dir string) (map[string]string, error) {
	files, err := githubtest.ReadFiles(dir)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(files["gitvend.yaml"], "environments") {
		return nil, fmt.Errorf("%s is not a desired-state repository (no gitvend.yaml with environments)", dir)
	}
	return files, nil
}
