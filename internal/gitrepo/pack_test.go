package gitrepo

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
)

// rootList is an environment root listing n request folders.
func rootList(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - ../../requests/dev/team-%d/svc-%d\n", i/25, i)
	}
	return b.String()
}

// rootPath is where rootFixture commits its environment root.
const rootPath = "environments/dev/kustomization.yaml"

// rootFixture returns a fixture, its clone and a commit on top of main
// that adds an environment root listing n request folders.
func rootFixture(t *testing.T, n int) (*fixture, *Repo, string) {
	t.Helper()
	f := newFixture(t)
	r := f.open(t)
	head, _ := r.Head(context.Background(), "main")
	return f, r, mustCommit(t, r, head, rootPath, rootList(n))
}

// TestPushSendsLargeFilesAsDeltas pushes a commit that adds a line to a
// file of thousands of lines and wants a pack of a few hundred bytes, the
// file sent as a delta against the remote's copy, which a fresh clone
// reads back whole; a file replaced by other content, and a new one, are
// sent whole and read back too.
func TestPushSendsLargeFilesAsDeltas(t *testing.T) {
	ctx := context.Background()
	f, r, base := rootFixture(t, 3000)
	const branch = "gitvend/request-8"
	if err := r.Push(ctx, base, branch, false); err != nil {
		t.Fatal(err)
	}
	whole, err := f.gh.ReceivedPacks(fullName)
	if err != nil {
		t.Fatal(err)
	}
	longer := strings.Replace(rootList(3000), "svc-1500\n", "svc-1500\n  - ../../requests/dev/team-60/new\n", 1)
	one := mustCommit(t, r, base, rootPath, longer)
	pushSends(ctx, t, f, r, one, branch, 5) // commit, 3 trees, the file
	packs, err := f.gh.ReceivedPacks(fullName)
	if err != nil {
		t.Fatal(err)
	}
	if got, was := packs[len(packs)-1].Bytes, whole[len(whole)-1].Bytes; got > 1024 || got*10 > was {
		t.Errorf("a line added to a file of 3,000 sent a pack of %d bytes (the file whole: %d), want a delta", got, was)
	}
	// Other content at the same place, and a file of its own, whole.
	other := mustCommit(t, r, one, rootPath, strings.Repeat("x", 8<<10))
	pushSends(ctx, t, f, r, other, branch, 5)
	added := mustCommit(t, r, other, "environments/dev/extra.yaml", rootList(400))
	pushSends(ctx, t, f, r, added, branch, 5)
}

// TestPackRefusedThin builds the pack of a change to a large file for a
// remote that takes thin packs and for one that advertises no-thin: a
// delta against the remote's copy for the first, whole objects for the
// second, the same objects either way.
func TestPackRefusedThin(t *testing.T) {
	_, r, base := rootFixture(t, 2000)
	next := mustCommit(t, r, base, rootPath, rootList(2001))
	objs, bases := changesOf(t, r, next, base)
	cmd := &packp.Command{Name: "refs/heads/x", New: plumbing.NewHash(next)}
	for _, tc := range []struct {
		name   string
		caps   []capability.Capability
		deltas int
	}{
		{"thin", []capability.Capability{capability.OFSDelta}, 1},
		{"no-thin", []capability.Capability{capability.OFSDelta, noThin}, 0},
	} {
		ar := packp.NewAdvRefs()
		for _, cp := range tc.caps {
			if err := ar.Capabilities.Add(cp); err != nil {
				t.Fatal(err)
			}
		}
		req, err := r.updateRequest(ar, cmd, objs, bases)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(req.Packfile)
		if err != nil {
			t.Fatal(err)
		}
		types := packTypes(t, data)
		if len(types) != len(objs) {
			t.Errorf("%s: %d objects in the pack, want %d", tc.name, len(types), len(objs))
		}
		deltas := 0
		for _, typ := range types {
			if typ == plumbing.REFDeltaObject {
				deltas++
			}
		}
		if deltas != tc.deltas {
			t.Errorf("%s: %d objects against the remote's (types %v), want %d", tc.name, deltas, types, tc.deltas)
		}
	}
}

// packTypes reads the type of every object of a pack, checking its
// checksum.
func packTypes(t *testing.T, data []byte) []plumbing.ObjectType {
	t.Helper()
	sc := packfile.NewScanner(bytes.NewReader(data))
	_, n, err := sc.Header()
	if err != nil {
		t.Fatal(err)
	}
	var types []plumbing.ObjectType
	for range n {
		h, err := sc.NextObjectHeader()
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, h.Type)
		if _, _, err := sc.NextObject(io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	if sum, err := sc.Checksum(); err != nil || !bytes.Equal(sum[:], sha1Of(data[:len(data)-len(sum)])) {
		t.Fatalf("pack checksum %s, %v: want the SHA-1 of what precedes it", sum, err)
	}
	return types
}

func sha1Of(b []byte) []byte {
	sum := sha1.Sum(b)
	return sum[:]
}
