package gitrepo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkExportHead compares the two ways a check gets a pull request's
// head on disk in a repository of n requests (five files each, as a web
// service renders; larger repositories take minutes to commit here): a fresh export and its removal afterwards, as every
// check and plan did, and moving a kept checkout from the previous head,
// which differs in one request and the environment's root.
func BenchmarkExportHead(b *testing.B) {
	for _, n := range []int{1000} {
		f := newFixture(b)
		ctx := context.Background()
		r := f.open(b)
		head, _ := r.Head(ctx, "main")
		files := map[string][]byte{}
		for i := range n {
			dir := fmt.Sprintf("requests/dev/team-%d/svc-%d", i/50, i)
			files[dir+".yaml"] = []byte("kind: Request\n")
			for _, k := range []string{"kustomization", "deployment", "service", "hpa"} {
				files[fmt.Sprintf("%s/%s.yaml", dir, k)] = []byte(fmt.Sprintf("kind: %s\nname: svc-%d\n", k, i))
			}
		}
		base, err := r.Commit(ctx, CommitSpec{Parent: head, Files: files, Message: "many", Author: author, Time: when})
		if err != nil {
			b.Fatal(err)
		}
		heads := []string{}
		for i := range 2 {
			sha, err := r.Commit(ctx, CommitSpec{Parent: base, Message: "one request", Author: author, Time: when, Files: map[string][]byte{
				fmt.Sprintf("requests/dev/team-0/new-%d.yaml", i):               []byte("kind: Request\n"),
				fmt.Sprintf("requests/dev/team-0/new-%d/deployment.yaml", i):    []byte("kind: Deployment\n"),
				fmt.Sprintf("requests/dev/team-0/new-%d/kustomization.yaml", i): []byte("resources: [deployment.yaml]\n"),
				"environments/dev/kustomization.yaml":                           []byte(fmt.Sprintf("resources: [new-%d]\n", i)),
			}})
			if err != nil {
				b.Fatal(err)
			}
			heads = append(heads, sha)
		}
		b.Run(fmt.Sprintf("requests=%d/fresh", n), func(b *testing.B) {
			for i := range b.N {
				dir := filepath.Join(b.TempDir(), "head")
				if err := r.Export(ctx, heads[i%2], dir); err != nil {
					b.Fatal(err)
				}
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("requests=%d/over", n), func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "head")
			if err := r.Export(ctx, heads[0], dir); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				if err := r.ExportOver(ctx, heads[i%2], heads[(i+1)%2], dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// wideFiles returns the files of a repository of n requests as the bot
// keeps them: a folder of five files per request, twenty requests to a
// team folder, and the environment's kustomization listing every request.
func wideFiles(n int) map[string][]byte {
	files := map[string][]byte{}
	var env bytes.Buffer
	env.WriteString("resources:\n")
	for i := range n {
		dir := fmt.Sprintf("requests/dev/team-%d/svc-%d", i/20, i)
		for _, k := range []string{"request", "kustomization", "deployment", "service", "hpa"} {
			files[fmt.Sprintf("%s/%s.yaml", dir, k)] = []byte(fmt.Sprintf("kind: %s\nname: svc-%d\n", k, i))
		}
		fmt.Fprintf(&env, "- ../../%s\n", dir)
	}
	files["environments/dev/kustomization.yaml"] = env.Bytes()
	return files
}

// commitRequests commits the files of n requests (wideFiles) on main's
// head and returns the commit.
func commitRequests(ctx context.Context, b *testing.B, r *Repo, n int) string {
	b.Helper()
	head, err := r.Head(ctx, "main")
	if err != nil {
		b.Fatal(err)
	}
	sha, err := r.Commit(ctx, CommitSpec{Parent: head, Files: wideFiles(n), Message: "many", Author: author, Time: when})
	if err != nil {
		b.Fatal(err)
	}
	return sha
}

// BenchmarkExportOverOneFile moves a kept checkout between two commits
// that differ in one file of a repository of 10,000 requests (50,000
// files in 500 team folders), read from a fresh clone's pack as a
// long-lived clone reads them. Before every move the index of the target
// is dropped, so that each move derives it from the index of the other,
// as a check of a new pull request head does. "over" times ExportOver,
// "index" the derivation alone. Making the repository takes about a
// minute.
func BenchmarkExportOverOneFile(b *testing.B) {
	const requests = 10000
	f := newFixture(b)
	ctx := context.Background()
	r := f.open(b)
	base := commitRequests(ctx, b, r, requests)
	var err error
	var heads [2]string
	for i := range heads {
		name := fmt.Sprintf("requests/dev/team-%d/svc-%d/deployment.yaml", i*250, i*5000)
		if heads[i], err = r.Commit(ctx, CommitSpec{Parent: base, Files: map[string][]byte{name: []byte("kind: Deployment\nreplicas: 3\n")}, Message: "one", Author: author, Time: when}); err != nil {
			b.Fatal(err)
		}
		if err := r.Push(ctx, heads[i], fmt.Sprintf("bench-%d", i), false); err != nil {
			b.Fatal(err)
		}
	}
	if r, err = New(b.TempDir(), nil).Open(ctx, f.url, f.auth); err != nil {
		b.Fatal(err)
	}
	var kept [2]*Index
	for i, sha := range heads {
		r.indexes.Purge()
		if kept[i], err = r.Index(ctx, sha); err != nil {
			b.Fatal(err)
		}
	}
	// keepOnly leaves the index of head i the only one kept.
	keepOnly := func(i int) {
		r.indexes.Purge()
		r.indexes.Add(heads[i], kept[i])
	}
	b.Run("over", func(b *testing.B) {
		dir := filepath.Join(b.TempDir(), "head")
		if err := r.Export(ctx, heads[0], dir); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			keepOnly(i % 2)
			if err := r.ExportOver(ctx, heads[i%2], heads[(i+1)%2], dir); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("index", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			keepOnly(i % 2)
			if _, err := r.Index(ctx, heads[(i+1)%2]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
