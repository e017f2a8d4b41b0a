package rollout_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/rollout"
)

type noClients struct{}

func (noClients) ForRepo(context.Context, string, string) (*github.Client, error) {
	return nil, errors.New("no GitHub in this test")
}

type noGit struct{}

func (noGit) Open(context.Context, string, string) (*gitrepo.Repo, error) {
	return nil, errors.New("no clones in this test")
}

// TestPlanOfAnUnreachableTargetIsBounded: a cluster that accepts
// connections and never answers is reported unreachable within the plan
// timeout, and a target whose environments the change leaves alone is
// not planned at all.
func TestPlanOfAnUnreachableTargetIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	target := func(name string, envs ...string) cluster.Connection {
		return cluster.Connection{Config: &rest.Config{Host: "https://" + ln.Addr().String()}, Target: cluster.Target{
			Name: name, Repository: repo, Environments: envs, Namespaces: []string{"team-*"},
			DriftInterval: time.Hour, InventoryNamespace: cluster.DefaultInventoryNamespace}}
	}
	r, err := rollout.New(rollout.Options{Clients: noClients{}, Git: noGit{}, Branches: map[string]string{repo: "main"},
		Targets: []cluster.Connection{target("hung", "dev"), target("other", "prod")}, PlanTimeout: time.Second, ScratchDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	head := t.TempDir()
	copyExample(t, head)
	// The base builds dev without the hand-written settings: dev changes,
	// prod does not.
	base := t.TempDir()
	copyExample(t, base)
	writeExample(t, base, "environments/dev/search-config.yaml", strings.Replace(readExample(t, "environments/dev/search-config.yaml"), `"3"`, `"4"`, 1))

	start := time.Now()
	plans := r.Plan(context.Background(), repo, reconcile.Checkout{Dir: base}, reconcile.Checkout{Dir: head})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("planning a hung cluster took %s", d)
	}
	if len(plans) != 1 || plans[0].Target != "hung" {
		t.Fatalf("plans %+v, want one, of target hung", plans)
	}
	if got := plans[0].Unreachable; !strings.Contains(got, "no answer within 1s") && !strings.Contains(got, "deadline") {
		t.Errorf("unreachable = %q, want it to say the cluster did not answer in time", got)
	}
}

// copyExample writes the example desired-state repository into dir.
func copyExample(t *testing.T, dir string) {
	t.Helper()
	for name, body := range exampleFiles(t) {
		writeExample(t, dir, name, body)
	}
}

func writeExample(t *testing.T, dir, name, body string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readExample(t *testing.T, name string) string {
	t.Helper()
	return exampleFiles(t)[name]
}
