package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
)

// maxPushChain bounds how many commits Push walks down the first-parent
// chain of the pushed commit looking for one the remote advertises. The
// commits Push sends are built by Commit on a head the remote has, so the
// remote normally has the parent; further than this, Push lets go-git work
// out what to send.
const maxPushChain = 16

// errNoAdvertisedBase is returned by pushChanges when no commit near the
// pushed one is advertised by the remote, so that Push falls back to
// go-git's push.
var errNoAdvertisedBase = errors.New("no advertised commit among the pushed commit's first parents")

// pushChanges sets branch on the remote to c, sending a pack of only the
// objects the remote lacks: the commits between c and the nearest
// advertised commit on c's first-parent chain, and the trees and blobs of
// each that its parent's tree does not have at the same place. It compares
// trees level by level and never reads a subtree whose id did not change.
// Like go-git it refuses a non-fast-forward client-side unless force is
// set, and returns git.NoErrAlreadyUpToDate when the branch is at c.
// errNoAdvertisedBase means nothing was sent. Callers hold r.mu.
func (r *Repo) pushChanges(ctx context.Context, c *object.Commit, branch string, force bool, auth transport.AuthMethod) (err error) {
	sess, err := r.receivePackSession(auth)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := sess.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close push session: %w", cerr)
		}
	}()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil {
		return err
	}
	ref := plumbing.NewBranchReferenceName(branch)
	old := ar.References[ref.String()]
	if old == c.Hash {
		return git.NoErrAlreadyUpToDate
	}
	chain, err := r.chainToAdvertised(c, advertisedCommits(ar))
	if err != nil {
		return err
	}
	if !old.IsZero() && !force {
		if err := r.checkFastForward(ctx, ref, old, c); err != nil {
			return err
		}
	}
	return r.sendChanges(ctx, sess, ar, &packp.Command{Name: ref, Old: old, New: c.Hash}, chain)
}

// sendChanges sends cmd with a pack of the objects of chain the remote
// lacks (see changedObjects) and reads the remote's report.
func (r *Repo) sendChanges(ctx context.Context, sess transport.ReceivePackSession, ar *packp.AdvRefs, cmd *packp.Command, chain []*object.Commit) error {
	objs, bases, err := r.changedObjects(ctx, chain)
	if err != nil {
		return err
	}
	req, err := r.updateRequest(ar, cmd, objs, bases)
	if err != nil {
		return err
	}
	r.log.Debug("push pack", "ref", cmd.Name.String(), "sha", cmd.New.String(), "base", chain[len(chain)-1].Hash.String(),
		"commits", len(chain)-1, "objects", len(objs))
	rs, err := sess.ReceivePack(ctx, req)
	if err != nil {
		return err
	}
	if rs != nil {
		return rs.Error()
	}
	return nil
}

// receivePackSession opens a git-receive-pack session with the remote,
// at the URL a go-git push uses.
func (r *Repo) receivePackSession(auth transport.AuthMethod) (transport.ReceivePackSession, error) {
	remote, err := r.repo.Remote(remoteName)
	if err != nil {
		return nil, fmt.Errorf("read remote: %w", err)
	}
	urls := remote.Config().URLs
	if len(urls) == 0 {
		return nil, fmt.Errorf("remote %s has no URL", remoteName)
	}
	ep, err := transport.NewEndpoint(urls[len(urls)-1])
	if err != nil {
		return nil, fmt.Errorf("remote URL: %w", err)
	}
	cl, err := client.NewClient(ep)
	if err != nil {
		return nil, fmt.Errorf("remote URL: %w", err)
	}
	return cl.NewReceivePackSession(ep, auth)
}

// advertisedCommits is the set of ids the remote advertises: its refs, its
// HEAD and the commits its tags peel to.
func advertisedCommits(ar *packp.AdvRefs) map[plumbing.Hash]bool {
	known := make(map[plumbing.Hash]bool, len(ar.References)+len(ar.Peeled)+1)
	for _, h := range ar.References {
		known[h] = true
	}
	for _, h := range ar.Peeled {
		known[h] = true
	}
	if ar.Head != nil {
		known[*ar.Head] = true
	}
	return known
}

// chainToAdvertised walks c's first parents, at most maxPushChain steps,
// to the first commit in known, and returns the commits from c down to
// that one, both included. errNoAdvertisedBase when there is none within
// reach, or when a commit on the way is a root or a merge, whose other
// parents the remote may lack.
func (r *Repo) chainToAdvertised(c *object.Commit, known map[plumbing.Hash]bool) ([]*object.Commit, error) {
	chain := []*object.Commit{c}
	for !known[c.Hash] {
		if len(chain) > maxPushChain || len(c.ParentHashes) != 1 {
			return nil, errNoAdvertisedBase
		}
		parent, err := object.GetCommit(r.repo.Storer, c.ParentHashes[0])
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return nil, errNoAdvertisedBase
		}
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", c.ParentHashes[0], err)
		}
		c = parent
		chain = append(chain, c)
	}
	return chain, nil
}

// checkFastForward refuses, as go-git does, to move ref from old to c
// unless old is c or one of its ancestors. A commit the clone does not
// have cannot be one.
func (r *Repo) checkFastForward(ctx context.Context, ref plumbing.ReferenceName, old plumbing.Hash, c *object.Commit) error {
	nonFF := fmt.Errorf("non-fast-forward update: %s", ref)
	if r.repo.Storer.HasEncodedObject(old) != nil {
		return nonFF
	}
	seen := map[plumbing.Hash]bool{c.Hash: true}
	queue := []plumbing.Hash{c.Hash}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if h == old {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		commit, err := object.GetCommit(r.repo.Storer, h)
		if err != nil {
			return fmt.Errorf("read commit %s: %w", h, err)
		}
		for _, p := range commit.ParentHashes {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	return nonFF
}

// changedObjects lists the objects of chain (newest first, ending with a
// commit the remote has) that the remote lacks: every commit but the
// last, and the trees and blobs each commit's tree has that its parent's
// has not at the same place. Commits are compared with their parents
// oldest first, so that every entry of a parent's tree is on the remote
// or listed by the time it is taken as known. Each tree is decoded once,
// though it is compared both as a commit's and as its child's parent's.
// For each tree or file listed that replaces one at the same place in
// its parent commit, bases holds the id of the one it replaces, which the
// remote has or the pack carries: the base a thin pack sends it against.
func (r *Repo) changedObjects(ctx context.Context, chain []*object.Commit) (objs []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash, err error) {
	s := &objectSet{seen: map[plumbing.Hash]bool{}, known: map[plumbing.Hash]bool{}, bases: map[plumbing.Hash]plumbing.Hash{}}
	tr := newTreeReader(r.repo.Storer)
	for i := len(chain) - 2; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		c := chain[i]
		s.add(c.Hash)
		if err := s.addTreeChanges(tr, c.TreeHash, chain[i+1].TreeHash); err != nil {
			return nil, nil, fmt.Errorf("compare commit %s with its parent: %w", c.Hash, err)
		}
	}
	return s.list, s.bases, nil
}

// objectSet collects the ids of objects to send, once each, in the order
// found. known holds ids the remote has or will have: those of entries of
// parent trees read while comparing, each on the remote or listed since
// its commit was compared before.
type objectSet struct {
	seen  map[plumbing.Hash]bool
	known map[plumbing.Hash]bool
	list  []plumbing.Hash
	// bases holds, for objects listed that replace one at the same place
	// in the parent's tree, the one they replace.
	bases map[plumbing.Hash]plumbing.Hash
}

// add lists h unless it is listed or known, and reports whether it did.
func (s *objectSet) add(h plumbing.Hash) bool {
	if s.seen[h] || s.known[h] {
		return false
	}
	s.seen[h] = true
	s.list = append(s.list, h)
	return true
}

// addTreeChanges adds tree h and what it holds that the parent's tree at
// the same place, old (zero when there was none), does not: entries whose
// id differs, descending only into those subtrees. The parent's tree and
// its entries become known to the remote. A tree added before is not
// walked again, since its contents were added then.
func (s *objectSet) addTreeChanges(tr *treeReader, h, old plumbing.Hash) error {
	if h == old || !s.add(h) {
		return nil
	}
	if !old.IsZero() {
		s.bases[h] = old
		s.known[old] = true
		err := tr.eachPair(old, h, func(_ string, prev, _ *object.TreeEntry) error {
			if prev != nil {
				s.known[prev.Hash] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return tr.eachPair(old, h, func(_ string, prev, e *object.TreeEntry) error {
		return s.addEntryChange(tr, prev, e)
	})
}

// addEntryChange adds the entry e of a tree being sent unless the
// parent's tree has the same at its place, prev (nil when it has none).
func (s *objectSet) addEntryChange(tr *treeReader, prev, e *object.TreeEntry) error {
	switch {
	case e == nil, prev != nil && prev.Hash == e.Hash, e.Mode == filemode.Submodule:
		// Gone, on the remote, or part of another repository.
		return nil
	case e.Mode == filemode.Dir:
		old := plumbing.ZeroHash
		if prev != nil && prev.Mode == filemode.Dir {
			old = prev.Hash
		}
		return s.addTreeChanges(tr, e.Hash, old)
	default:
		if s.add(e.Hash) && prev != nil && prev.Mode.IsFile() && e.Mode.IsFile() {
			s.bases[e.Hash] = prev.Hash
		}
		return nil
	}
}

// noThin is the capability a receive-pack advertises when it takes no
// thin packs.
const noThin capability.Capability = "no-thin"

// updateRequest builds the request that applies cmd, carrying a pack of
// objs.
func (r *Repo) updateRequest(ar *packp.AdvRefs, cmd *packp.Command, objs []plumbing.Hash, bases map[plumbing.Hash]plumbing.Hash) (*packp.ReferenceUpdateRequest, error) {
	var pack bytes.Buffer
	if !ar.Capabilities.Supports(noThin) {
		// The objects the remote has replaced are sent against them.
		if err := writeThinPack(&pack, r.repo.Storer, objs, bases); err != nil {
			return nil, fmt.Errorf("encode pack: %w", err)
		}
	} else {
		cfg, err := r.repo.Config()
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		useRefDeltas := !ar.Capabilities.Supports(capability.OFSDelta)
		if _, err := packfile.NewEncoder(&pack, r.repo.Storer, useRefDeltas).Encode(objs, cfg.Pack.Window); err != nil {
			return nil, fmt.Errorf("encode pack: %w", err)
		}
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(ar.Capabilities)
	req.Commands = []*packp.Command{cmd}
	req.Packfile = io.NopCloser(&pack)
	return req, nil
}
