//go:build unix

package gitrepo

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/revlist"
)

// cpuTime is the CPU time this process has used, the test double's
// handlers included and its git processes not.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPush pushes a commit changing one file of a repository of
// 10,000 requests (50,000 files) as a fast-forward of a branch the remote
// has, as a pull request's branch is updated. Besides the time, "push"
// reports the process's CPU time and the objects the pack carried per
// push. "select" times only working out which objects to send for such a
// commit: with go-git's revlist, from everything the remote's commits
// reach, as go-git's push does, and by comparing the commit with its
// parent, as Push does. Making the repository takes about a minute.
func BenchmarkPush(b *testing.B) {
	const requests = 10000
	f := newFixture(b)
	ctx := context.Background()
	r := f.open(b)
	tip := commitRequests(ctx, b, r, requests)
	var err error
	const branch = "gitvend/request-bench"
	if err := r.Push(ctx, tip, branch, false); err != nil {
		b.Fatal(err)
	}
	// A fresh clone has the repository in a pack, as a long-lived one has
	// after fetching.
	if r, err = New(b.TempDir(), nil).Open(ctx, f.url, f.auth); err != nil {
		b.Fatal(err)
	}
	step := 0 // across runs, so that every commit changes something
	change := func(parent string) string {
		step++
		n := (step * 37) % requests
		name := fmt.Sprintf("requests/dev/team-%d/svc-%d/deployment.yaml", n/20, n)
		sha, err := r.Commit(ctx, CommitSpec{Parent: parent, Files: map[string][]byte{name: []byte(fmt.Sprintf("kind: Deployment\nreplicas: %d\n", step))}, Message: "one", Author: author, Time: when})
		if err != nil {
			b.Fatal(err)
		}
		return sha
	}
	b.Run("push", func(b *testing.B) {
		packs, err := f.gh.ReceivedPacks(fullName)
		if err != nil {
			b.Fatal(err)
		}
		before := len(packs)
		var cpu time.Duration
		for range b.N {
			b.StopTimer()
			tip = change(tip)
			start := cpuTime(b)
			b.StartTimer()
			if err := r.Push(ctx, tip, branch, false); err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime(b) - start
		}
		b.StopTimer()
		if packs, err = f.gh.ReceivedPacks(fullName); err != nil {
			b.Fatal(err)
		}
		objects := 0
		for _, p := range packs[before:] {
			objects += p.Objects
		}
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(objects)/float64(b.N), "objects/op")
	})
	selectBench(b, r, change(tip), f)
}

// selectBench times working out the objects to send for next, a commit
// on a branch head of the remote.
func selectBench(b *testing.B, r *Repo, next string, f *fixture) {
	branches, err := f.gh.Branches(context.Background(), fullName)
	if err != nil {
		b.Fatal(err)
	}
	var haves []plumbing.Hash
	known := map[plumbing.Hash]bool{}
	for _, sha := range branches {
		haves = append(haves, plumbing.NewHash(sha))
		known[plumbing.NewHash(sha)] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(next)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("select=go-git", func(b *testing.B) {
		for range b.N {
			objs, err := revlist.Objects(r.repo.Storer, []plumbing.Hash{c.Hash}, haves)
			if err != nil || len(objs) != 7 {
				b.Fatalf("revlist: %d objects, %v; want 7", len(objs), err)
			}
		}
	})
	b.Run("select=changes", func(b *testing.B) {
		for range b.N {
			chain, err := r.chainToAdvertised(c, known)
			if err != nil {
				b.Fatal(err)
			}
			objs, _, err := r.changedObjects(context.Background(), chain)
			if err != nil || len(objs) != 7 {
				b.Fatalf("changes: %d objects, %v; want 7", len(objs), err)
			}
		}
	})
}
