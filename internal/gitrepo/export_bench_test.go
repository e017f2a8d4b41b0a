package gitrepo

import (
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
