package githubtest

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
)

// pushObjects stores a blob, a tree holding it and a commit of that tree
// on parent in st, and returns their ids.
func pushObjects(t *testing.T, st *memory.Storage, parent plumbing.Hash, content string) (commit, tree, blob plumbing.Hash) {
	t.Helper()
	store := func(enc interface {
		Encode(plumbing.EncodedObject) error
	}) plumbing.Hash {
		obj := st.NewEncodedObject()
		if err := enc.Encode(obj); err != nil {
			t.Fatal(err)
		}
		h, err := st.SetEncodedObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if blob, err = st.SetEncodedObject(obj); err != nil {
		t.Fatal(err)
	}
	tree = store(&object.Tree{Entries: []object.TreeEntry{{Name: "pushed.yaml", Mode: filemode.Regular, Hash: blob}}})
	sig := object.Signature{Name: "gitvend", Email: "bot@example.com", When: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	commit = store(&object.Commit{Author: sig, Committer: sig, Message: "push\n", TreeHash: tree, ParentHashes: []plumbing.Hash{parent}})
	return commit, tree, blob
}

// sendPack pushes a pack of exactly the objects objs from st, updating
// ref from old to new, and returns the report.
func sendPack(t *testing.T, f *fixture, st *memory.Storage, ref string, old, new plumbing.Hash, objs ...plumbing.Hash) (*packp.ReportStatus, error) {
	t.Helper()
	ep, err := transport.NewEndpoint(f.gh.CloneURL(testRepo))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewClient(ep)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.NewReceivePackSession(ep, &githttp.BasicAuth{Username: "x-access-token", Password: f.token(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pack bytes.Buffer
	if _, err := packfile.NewEncoder(&pack, st, false).Encode(objs, 0); err != nil {
		t.Fatal(err)
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	req.Commands = []*packp.Command{{Name: plumbing.ReferenceName(ref), Old: old, New: new}}
	req.Packfile = io.NopCloser(&pack)
	return sess.ReceivePack(f.ctx, req)
}

// TestPushWithMissingObjectsRefused: as GitHub, the double refuses a push
// whose pack leaves the new commit, one of its trees or one of its blobs
// missing ("missing necessary objects"), moves no ref and sends no push
// event; the same push with every object is accepted.
func TestPushWithMissingObjectsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	branches, err := f.gh.Branches(f.ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	head := plumbing.NewHash(branches["main"])
	st := memory.NewStorage()
	// Each case has objects of its own, so that what an earlier push left
	// in the object store cannot complete a later one.
	tests := []struct {
		name, ref string
		old       plumbing.Hash
		send      []string // of commit, tree and blob
	}{
		{"blob missing", "refs/heads/main", head, []string{"commit", "tree"}},
		{"tree missing", "refs/heads/topic", plumbing.ZeroHash, []string{"commit", "blob"}},
		{"trees and blobs missing", "refs/heads/topic", plumbing.ZeroHash, []string{"commit"}},
		{"commit missing", "refs/heads/topic", plumbing.ZeroHash, []string{"tree", "blob"}},
	}
	var wantPacks []ReceivedPack
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			commit, tree, blob := pushObjects(t, st, head, "kind: Request\nname: "+tt.name+"\n")
			byRole := map[string]plumbing.Hash{"commit": commit, "tree": tree, "blob": blob}
			var objs []plumbing.Hash
			for _, role := range tt.send {
				objs = append(objs, byRole[role])
			}
			rs, err := sendPack(t, f, st, tt.ref, tt.old, commit, objs...)
			if err == nil || !strings.Contains(err.Error(), "missing necessary objects") {
				t.Fatalf("push error %v; want missing necessary objects", err)
			}
			// GitHub, as git, unpacks the pack and then refuses the ref.
			want := &packp.ReportStatus{UnpackStatus: "ok", CommandStatuses: []*packp.CommandStatus{
				{ReferenceName: plumbing.ReferenceName(tt.ref), Status: "missing necessary objects"},
			}}
			if diff := cmp.Diff(want, rs); diff != "" {
				t.Errorf("report status (-want +got):\n%s", diff)
			}
			after, err := f.gh.Branches(f.ctx, testRepo)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(branches, after); diff != "" {
				t.Errorf("branches moved (-before +after):\n%s", diff)
			}
		})
		wantPacks = append(wantPacks, ReceivedPack{Objects: len(tt.send)})
	}
	f.idle(t)
	if got := f.sink.events(); len(got) != 0 {
		t.Errorf("refused pushes sent events %v", got)
	}

	commit, tree, blob := pushObjects(t, st, head, "kind: Request\nname: pushed\n")
	if _, err := sendPack(t, f, st, "refs/heads/main", head, commit, commit, tree, blob); err != nil {
		t.Fatalf("complete push: %v", err)
	}
	files, err := f.gh.Files(f.ctx, testRepo, "main")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"pushed.yaml": "kind: Request\nname: pushed\n"}, files); diff != "" {
		t.Errorf("files after the complete push (-want +got):\n%s", diff)
	}
	wantPacks = append(wantPacks, ReceivedPack{Objects: 3})
	packs, err := f.gh.ReceivedPacks(testRepo)
	if err != nil {
		t.Fatal(err)
	}
	for i := range packs {
		if packs[i].Bytes < 32 {
			t.Errorf("pack %d: %d bytes; want at least a header and a trailer", i, packs[i].Bytes)
		}
		packs[i].Bytes = 0
	}
	if diff := cmp.Diff(wantPacks, packs); diff != "" {
		t.Errorf("received packs (-want +got):\n%s", diff)
	}
}
