package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const kubeconfig = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster: {server: "https://dev.example.com:6443"}
- name: prod
  cluster: {server: "https://prod.example.com:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: dev
  context: {cluster: dev, user: u}
- name: prod
  context: {cluster: prod, user: u}
`

func TestConnect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, context, wantHost string
	}{
		{"current context", "", "https://dev.example.com:6443"},
		{"named context", "prod", "https://prod.example.com:6443"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := valid()
			tgt.Kubeconfig, tgt.Context = path, tc.context
			c, err := Connect(tgt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tgt, c.Target); diff != "" {
				t.Errorf("target (-want +got):\n%s", diff)
			}
			if c.Config.Host != tc.wantHost || c.Config.BearerToken != "t" {
				t.Errorf("config reaches %s with token %q, want %s", c.Config.Host, c.Config.BearerToken, tc.wantHost)
			}
		})
	}
}

func TestConnectErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	for _, tc := range []struct {
		name, kubeconfig, context string
		want                      []string // substrings of the error
	}{
		{"missing file", filepath.Join(t.TempDir(), "absent"), "", []string{"targets prod: kubeconfig ", "absent"}},
		{"unknown context", path, "staging", []string{"targets prod: kubeconfig ", "staging"}},
		{"outside a cluster", "", "", []string{"targets prod: in-cluster configuration (set kubeconfig to reach a cluster from outside)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := valid()
			tgt.Kubeconfig, tgt.Context = tc.kubeconfig, tc.context
			_, err := Connect(tgt)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
