package githubtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
)

// branchesOf returns the branches of the fixture's repository and the
// commit of main.
func branchesOf(t *testing.T, f *fixture) (map[string]string, plumbing.Hash) {
	t.Helper()
	branches, err := f.gh.Branches(f.ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	return branches, plumbing.NewHash(branches["main"])
}

// unmoved fails t unless the repository's branches are still before.
func unmoved(t *testing.T, f *fixture, before map[string]string) {
	t.Helper()
	after, err := f.gh.Branches(f.ctx, testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("branches moved (-before +after):\n%s", diff)
	}
}

// noEvents fails t if refused pushes sent any webhook.
func noEvents(t *testing.T, f *fixture) {
	t.Helper()
	f.idle(t)
	if got := f.sink.events(); len(got) != 0 {
		t.Errorf("refused pushes sent events %v", got)
	}
}

// encoder is a go-git object that encodes itself.
type encoder interface {
	Encode(plumbing.EncodedObject) error
}

// storeObject stores enc's object in st and returns its id.
func storeObject(t *testing.T, st *memory.Storage, enc encoder) plumbing.Hash {
	t.Helper()
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

// pushObjects stores a blob, a tree holding it and a commit of that tree
// on parent in st, and returns their ids.
func pushObjects(t *testing.T, st *memory.Storage, parent plumbing.Hash, content string) (commit, tree, blob plumbing.Hash) {
	t.Helper()
	store := func(enc encoder) plumbing.Hash { return storeObject(t, st, enc) }
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
	return sendCommands(t, f, st, nil, []*packp.Command{{Name: plumbing.ReferenceName(ref), Old: old, New: new}}, objs...)
}

// TestPushWithMissingObjectsRefused: as GitHub, the double refuses a push
// whose pack leaves the new commit, one of its trees or one of its blobs
// missing ("missing necessary objects"), moves no ref and sends no push
// event; the same push with every object is accepted.
func TestPushWithMissingObjectsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	branches, head := branchesOf(t, f)
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
			unmoved(t, f, branches)
		})
		wantPacks = append(wantPacks, ReceivedPack{Objects: len(tt.send)})
	}
	noEvents(t, f)

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

// sendCommands pushes the ref updates cmds with a pack of exactly objs
// from st, asking for the capabilities caps as well as go-git's own.
func sendCommands(t *testing.T, f *fixture, st *memory.Storage, caps []capability.Capability, cmds []*packp.Command, objs ...plumbing.Hash) (*packp.ReportStatus, error) {
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
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	for _, c := range caps {
		if err := req.Capabilities.Set(c); err != nil {
			t.Fatal(err)
		}
	}
	req.Commands = cmds
	if len(objs) > 0 {
		var pack bytes.Buffer
		if _, err := packfile.NewEncoder(&pack, st, false).Encode(objs, 0); err != nil {
			t.Fatal(err)
		}
		req.Packfile = io.NopCloser(&pack)
	}
	return sess.ReceivePack(f.ctx, req)
}

// commandStatuses is the status of each ref of a report.
func commandStatuses(rs *packp.ReportStatus) map[string]string {
	got := map[string]string{}
	if rs != nil {
		for _, cs := range rs.CommandStatuses {
			got[cs.ReferenceName.String()] = cs.Status
		}
	}
	return got
}

// TestPushRulesPerRef: what a push may do to refs, as on GitHub: a ref
// whose commit lacks objects keeps the whole push out (no object of it
// enters the repository, the other refs are refused with it); a
// stale old id, creating a ref that exists, deleting the default branch
// or updating a hidden ref is refused for that ref alone; with the atomic
// capability one refused ref refuses them all. A refused push moves no
// ref and sends no event.
func TestPushRulesPerRef(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	branches, head := branchesOf(t, f)
	st := memory.NewStorage()
	stale := plumbing.NewHash("1111111111111111111111111111111111111111")
	tests := []struct {
		name string
		caps []capability.Capability
		// cmds builds the commands and the objects sent for a fresh
		// commit (and its tree and blob) on main.
		cmds func(commit, tree, blob plumbing.Hash) ([]*packp.Command, []plumbing.Hash)
		want map[string]string
	}{
		{
			name: "one ref lacks objects",
			cmds: func(commit, tree, blob plumbing.Hash) ([]*packp.Command, []plumbing.Hash) {
				other, otherTree, _ := pushObjects(t, st, head, "lacks its blob\n")
				return []*packp.Command{
					{Name: "refs/heads/good", Old: plumbing.ZeroHash, New: commit},
					{Name: "refs/heads/bad", Old: plumbing.ZeroHash, New: other},
				}, []plumbing.Hash{commit, tree, blob, other, otherTree}
			},
			want: map[string]string{"refs/heads/good": "refused with the push: another ref lacks objects", "refs/heads/bad": "missing necessary objects"},
		},
		{
			name: "stale old id and an existing ref",
			cmds: func(commit, tree, blob plumbing.Hash) ([]*packp.Command, []plumbing.Hash) {
				return []*packp.Command{
					{Name: "refs/heads/main", Old: stale, New: commit},
					{Name: "refs/heads/main", Old: plumbing.ZeroHash, New: commit},
				}, []plumbing.Hash{commit, tree, blob}
			},
			want: map[string]string{"refs/heads/main": "failed to update ref"},
		},
		{
			name: "the default branch deleted",
			cmds: func(commit, tree, blob plumbing.Hash) ([]*packp.Command, []plumbing.Hash) {
				return []*packp.Command{{Name: "refs/heads/main", Old: head, New: plumbing.ZeroHash}}, nil
			},
			want: map[string]string{"refs/heads/main": "refusing to delete the current branch: refs/heads/main"},
		},
		{
			name: "a hidden ref",
			cmds: func(commit, tree, blob plumbing.Hash) ([]*packp.Command, []plumbing.Hash) {
				return []*packp.Command{{Name: "refs/pull/1/head", Old: plumbing.ZeroHash, New: commit}}, []plumbing.Hash{commit, tree, blob}
			},
			want: map[string]string{"refs/pull/1/head": "deny updating a hidden ref"},
		},
		{
			name: "atomic with one stale ref",
			caps: []capability.Capability{capability.Atomic},
			cmds: func(commit, tree, blob plumbing.Hash) ([]*packp.Command, []plumbing.Hash) {
				return []*packp.Command{
					{Name: "refs/heads/fresh", Old: plumbing.ZeroHash, New: commit},
					{Name: "refs/heads/main", Old: stale, New: commit},
				}, []plumbing.Hash{commit, tree, blob}
			},
			want: map[string]string{"refs/heads/fresh": "atomic transaction failed", "refs/heads/main": "failed to update ref"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			commit, tree, blob := pushObjects(t, st, head, "kind: Request\nname: "+tt.name+"\n")
			cmds, objs := tt.cmds(commit, tree, blob)
			rs, err := sendCommands(t, f, st, tt.caps, cmds, objs...)
			if err == nil {
				t.Fatal("push accepted")
			}
			if diff := cmp.Diff(tt.want, commandStatuses(rs)); diff != "" {
				t.Errorf("ref statuses (-want +got):\n%s", diff)
			}
			unmoved(t, f, branches)
		})
	}
	// The commit of "one ref lacks objects" that had all its objects
	// never entered the repository.
	commit, _, _ := pushObjects(t, st, head, "kind: Request\nname: one ref lacks objects\n")
	if _, _, err := f.client.Git.GetCommit(f.ctx, "acme", "infra", commit.String()); err == nil {
		t.Errorf("commit %s of a refused push is in the repository", commit)
	}
	noEvents(t, f)
}

// TestPushObjectOfWrongType: a tree entry that names an object of the
// repository as a blob when it is a tree is a missing object, as git's
// walk finds it.
func TestPushObjectOfWrongType(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	_, head := branchesOf(t, f)
	c, _, err := f.client.Git.GetCommit(f.ctx, "acme", "infra", head.String())
	if err != nil {
		t.Fatal(err)
	}
	st := memory.NewStorage()
	store := func(enc encoder) plumbing.Hash { return storeObject(t, st, enc) }
	// The root tree of main, named as a blob.
	tree := store(&object.Tree{Entries: []object.TreeEntry{{Name: "a.yaml", Mode: filemode.Regular, Hash: plumbing.NewHash(c.GetTree().GetSHA())}}})
	sig := object.Signature{Name: "gitvend", Email: "bot@example.com", When: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	commit := store(&object.Commit{Author: sig, Committer: sig, Message: "wrong type\n", TreeHash: tree, ParentHashes: []plumbing.Hash{head}})
	rs, err := sendCommands(t, f, st, nil, []*packp.Command{{Name: "refs/heads/topic", Old: plumbing.ZeroHash, New: commit}}, commit, tree)
	if err == nil {
		t.Fatal("push accepted")
	}
	if diff := cmp.Diff(map[string]string{"refs/heads/topic": "missing necessary objects"}, commandStatuses(rs)); diff != "" {
		t.Errorf("ref statuses (-want +got):\n%s", diff)
	}
}

// postReceivePack posts body to the repository's git-receive-pack, with
// the Content-Encoding encoding when not empty, and returns the status
// and the response body.
func postReceivePack(t *testing.T, f *fixture, body []byte, encoding string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, http.MethodPost, f.gh.CloneURL(testRepo)+"/git-receive-pack", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("x-access-token", f.token(t))
	req.Header.Set("Content-Type", "application/x-git-receive-pack-request")
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, got
}

// TestPushMalformedRequest: a push request that is not framed as git
// frames one (pkt-line lengths, old, new and ref on each line, a
// flush-pkt after them, a gzip body that is gzip) is refused with 400,
// moves no ref and sends no event.
func TestPushMalformedRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	branches, head := branchesOf(t, f)
	pkt := func(line string) string { return fmt.Sprintf("%04x%s", len(line)+4, line) }
	update := head.String() + " " + zeroSHA + " refs/heads/main\x00report-status delete-refs\n"
	tests := []struct {
		name, body, encoding string
	}{
		{"bad length", "zzzz" + update, ""},
		{"length below four", "0003", ""},
		{"truncated line", "00ff" + update, ""},
		{"no flush-pkt", pkt(update), ""},
		{"short id", pkt("1234 "+zeroSHA+" refs/heads/main\x00report-status\n") + "0000", ""},
		{"no ref", pkt(head.String()+" "+zeroSHA+"\x00report-status\n") + "0000", ""},
		{"not gzip", pkt(update) + "0000", "gzip"},
	}
	for _, tt := range tests {
		if status, body := postReceivePack(t, f, []byte(tt.body), tt.encoding); status != http.StatusBadRequest {
			t.Errorf("%s: status %d (%q), want 400", tt.name, status, body)
		}
	}
	unmoved(t, f, branches)
	noEvents(t, f)
}

// TestPushUnreadablePack: a pack git cannot read is refused whole.
func TestPushUnreadablePack(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	for _, objects := range []uint32{3, 300} { // kept loose, kept as a pack
		var body bytes.Buffer
		cmd := zeroSHA + " 1111111111111111111111111111111111111111 refs/heads/topic\x00report-status\n"
		fmt.Fprintf(&body, "%04x%s0000PACK\x00\x00\x00\x02", len(cmd)+4, cmd)
		_ = binary.Write(&body, binary.BigEndian, objects)
		body.WriteString("not a pack at all")
		_, got := postReceivePack(t, f, body.Bytes(), "")
		tool := map[bool]string{true: "unpack-objects", false: "index-pack"}[objects < 100]
		var want bytes.Buffer
		writePkt(&want, "unpack "+tool+" abnormal exit\n")
		writePkt(&want, "ng refs/heads/topic unpacker error\n")
		want.WriteString("0000")
		if string(got) != want.String() {
			t.Errorf("%d objects: report %q, want %q", objects, got, want.String())
		}
	}
	if _, ok := remoteRefs(t, f, testRepo)["refs/heads/topic"]; ok {
		t.Error("an unreadable pack created a ref")
	}
}

// TestPushLargePackAndGitClient: a push of more objects than git keeps
// loose arrives as a pack; git's own client, asking for side-band and
// report-status-v2, pushes a branch and deletes it.
func TestPushLargePackAndGitClient(t *testing.T) {
	t.Parallel()
	files := map[string]string{"gitvend.yaml": "environments:\n  - dev\n"}
	f := newFixture(t, fixtureOptions{files: files})
	dir := t.TempDir()
	url := strings.Replace(f.gh.CloneURL(testRepo), "://", "://x-access-token:"+f.token(t)+"@", 1)
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(f.ctx, "git", args...)
		cmd.Dir = dir
		cmd.Env = append(gitEnv(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git("clone", "--quiet", url, ".")
	git("checkout", "--quiet", "-b", "many")
	for i := range 150 {
		p := filepath.Join(dir, "requests", fmt.Sprintf("r%03d.yaml", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf("name: r%03d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", "-A")
	git("commit", "--quiet", "-m", "many")
	git("push", "--quiet", "origin", "many")
	got, err := f.gh.Files(f.ctx, testRepo, "many")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 151 || got["requests/r149.yaml"] != "name: r149\n" {
		t.Errorf("branch many has %d files (r149: %q); want 151", len(got), got["requests/r149.yaml"])
	}
	packs, err := f.gh.ReceivedPacks(testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if len(packs) != 1 || packs[0].Objects != 153 {
		t.Errorf("received packs %+v; want one of 153 objects (150 blobs, 2 trees, a commit)", packs)
	}
	git("push", "--quiet", "origin", "--delete", "many")
	if _, ok := remoteRefs(t, f, testRepo)["refs/heads/many"]; ok {
		t.Error("branch many not deleted")
	}
	f.idle(t)
	if diff := cmp.Diff([]string{"push", "check_suite/requested", "push"}, f.sink.events()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
