package rollout

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// TestShardedReportsKeepEveryTarget: with the targets sharded, two
// replicas each report the one target they applied of the same merge.
// The merged pull request then says what happened on both targets, each
// in its own comment, and a repeated report edits its own comment
// instead of replacing the other replica's. Unsharded, the one comment
// names every target applied together.
func TestShardedReportsKeepEveryTarget(t *testing.T) {
	ctx := t.Context()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := githubtest.Start(githubtest.Options{AppID: 7, AppPublicKey: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gh.Close)
	const repo = "acme/infra"
	if err := gh.CreateRepo(ctx, githubtest.RepoSpec{Owner: "acme", Name: "infra", Files: map[string]string{"README.md": "infra\n"}}); err != nil {
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
	client, err := app.ForRepo(ctx, "acme", "infra")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Push(ctx, repo, githubtest.PushSpec{User: "carol", Branch: "change", Files: map[string]string{"a.yaml": "a: 1\n"}}); err != nil {
		t.Fatal(err)
	}
	n, err := gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: "change", Title: "Change"})
	if err != nil {
		t.Fatal(err)
	}
	sha, err := gh.MergePullRequest(ctx, repo, n, "bob")
	if err != nil {
		t.Fatal(err)
	}
	applied := func(target string) Applied {
		id := manifest.ID{APIVersion: "v1", Kind: "ConfigMap", Namespace: "team-a", Name: "settings-" + target}
		return Applied{Target: target, Result: &reconcile.Result{Objects: []reconcile.ObjectResult{{ID: id, Action: reconcile.Created}}}}
	}
	comments := func() map[string]string {
		is, err := gh.Issue(repo, n)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range is.Comments {
			for _, m := range []string{"apply", "apply/dev", "apply/prod"} {
				if strings.Contains(c.Body, github.Marker(m)) {
					if _, twice := out[m]; twice {
						t.Errorf("two comments with marker %s", m)
					}
					out[m] = c.Body
				}
			}
		}
		return out
	}
	dir := t.TempDir() // no request records: only the pull request is told
	replica := func(sharded bool) *Rollout {
		r, err := New(Options{Clients: app, Git: gitrepo.Clones{Cache: gitrepo.New(t.TempDir(), nil), Remote: app}, Sharded: sharded})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	replicaA, replicaB := replica(true), replica(true)
	if err := replicaA.report(ctx, client, "acme", "infra", n, sha, dir, []Applied{applied("dev")}, 0); err != nil {
		t.Fatal(err)
	}
	if err := replicaB.report(ctx, client, "acme", "infra", n, sha, dir, []Applied{applied("prod")}, 0); err != nil {
		t.Fatal(err)
	}
	if err := replicaA.report(ctx, client, "acme", "infra", n, sha, dir, []Applied{applied("dev")}, 0); err != nil {
		t.Fatal(err)
	}
	got := comments()
	if len(got) != 2 || !strings.Contains(got["apply/dev"], "`dev`") || !strings.Contains(got["apply/prod"], "`prod`") {
		t.Fatalf("comments on the merged pull request by marker: %v", got)
	}

	if err := replica(false).report(ctx, client, "acme", "infra", n, sha, dir, []Applied{applied("dev"), applied("prod")}, 0); err != nil {
		t.Fatal(err)
	}
	if one := comments()["apply"]; !strings.Contains(one, "`dev`") || !strings.Contains(one, "`prod`") {
		t.Errorf("the unsharded comment: %q", one)
	}
}
