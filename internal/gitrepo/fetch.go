package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// tracking is what a clone's tracking refs hold, by branch, kept in memory
// beside them so that a fetch compares the remote's branches with it
// instead of reading every ref file: a repository with many pull requests
// open has as many branches, and every job opens the clone.
type tracking struct {
	of    *git.Repository // the clone the refs were read from
	heads map[string]plumbing.Hash
}

// trackedLocked returns the clone's tracking refs, read once per opened
// clone. Callers hold r.mu.
func (r *Repo) trackedLocked() (map[string]plumbing.Hash, error) {
	if r.tracked.of == r.repo && r.tracked.heads != nil {
		return r.tracked.heads, nil
	}
	refs, err := r.repo.References()
	if err != nil {
		return nil, fmt.Errorf("list tracking refs: %w", err)
	}
	heads := map[string]plumbing.Hash{}
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		if branch, ok := strings.CutPrefix(ref.Name().String(), trackingPrefix); ok && ref.Type() == plumbing.HashReference {
			heads[branch] = ref.Hash()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tracking refs: %w", err)
	}
	r.tracked = tracking{of: r.repo, heads: heads}
	return heads, nil
}

// track records that the remote's branch is at h. Callers hold r.mu.
func (r *Repo) track(branch string, h plumbing.Hash) error {
	heads, err := r.trackedLocked()
	if err != nil {
		return err
	}
	ref := plumbing.NewHashReference(plumbing.ReferenceName(trackingPrefix+branch), h)
	if err := r.repo.Storer.SetReference(ref); err != nil {
		return err
	}
	heads[branch] = h
	return nil
}

// manyBranches is how many branches to fetch one by one; a fetch of more
// (a first clone, say) fetches them all.
const manyBranches = 16

// fetchLocked brings every branch of the remote up to date and forgets
// branches deleted there. It lists the remote's branches and fetches only
// those whose tip the clone does not hold; a branch at a commit the clone
// has (one gitvend pushed, or fetched under another branch) is recorded
// without a fetch, since the clone only ever gains a commit with all it
// reaches. Callers hold r.mu.
func (r *Repo) fetchLocked(ctx context.Context) error {
	start := time.Now()
	auth, err := r.basicAuth(ctx)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", r.url, err)
	}
	remote, err := r.repo.Remote(remoteName)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", r.url, err)
	}
	advertised, err := remote.ListContext(ctx, &git.ListOptions{Auth: auth})
	switch {
	case errors.Is(err, transport.ErrEmptyRemoteRepository):
		return nil
	case err != nil:
		return fmt.Errorf("fetch %s: %w", r.url, refused(err))
	}
	heads, err := r.trackedLocked()
	if err != nil {
		return fmt.Errorf("fetch %s: %w", r.url, err)
	}
	remoteHeads := remoteBranches(advertised)
	var missing []string // branches at commits the clone lacks
	for branch, h := range remoteHeads {
		switch {
		case heads[branch] == h:
		case r.repo.Storer.HasEncodedObject(h) == nil:
			if err := r.track(branch, h); err != nil {
				return fmt.Errorf("fetch %s: %w", r.url, err)
			}
		default:
			missing = append(missing, branch)
		}
	}
	if len(missing) > 0 {
		specs := []config.RefSpec{config.RefSpec("+refs/heads/*:" + trackingPrefix + "*")}
		if len(missing) <= manyBranches {
			specs = specs[:0]
			for _, branch := range missing {
				specs = append(specs, config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s%s", branch, trackingPrefix, branch)))
			}
		}
		err := r.repo.FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName, RefSpecs: specs, Auth: auth, Force: true, Tags: git.NoTags})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return fmt.Errorf("fetch %s: %w", r.url, refused(err))
		}
		// Read back what the fetch wrote (a branch may have moved since
		// it was listed): the branches fetched, or every ref after a
		// fetch of all.
		if len(missing) > manyBranches {
			r.tracked.heads = nil
			heads, err = r.trackedLocked()
		} else {
			err = r.readBack(missing)
		}
		if err != nil {
			return fmt.Errorf("fetch %s: %w", r.url, err)
		}
		r.log.Debug("fetched", "branches", len(missing), "duration", time.Since(start))
	}
	for branch := range heads {
		if _, ok := remoteHeads[branch]; ok {
			continue
		}
		if err := r.repo.Storer.RemoveReference(plumbing.ReferenceName(trackingPrefix + branch)); err != nil {
			return fmt.Errorf("fetch %s: forget deleted branch %s: %w", r.url, branch, err)
		}
		delete(heads, branch)
	}
	return nil
}

// remoteBranches are the branches a remote advertises, by name, leaving
// out any whose name git would not give a branch: the name becomes a
// refspec and a ref file of the clone.
func remoteBranches(advertised []*plumbing.Reference) map[string]plumbing.Hash {
	out := map[string]plumbing.Hash{}
	for _, ref := range advertised {
		if !ref.Name().IsBranch() || ref.Type() != plumbing.HashReference {
			continue
		}
		if branch := ref.Name().Short(); checkBranch(branch) == nil {
			out[branch] = ref.Hash()
		}
	}
	return out
}

// readBack records what the clone's tracking refs of branches hold.
// Callers hold r.mu.
func (r *Repo) readBack(branches []string) error {
	heads, err := r.trackedLocked()
	if err != nil {
		return err
	}
	for _, branch := range branches {
		ref, err := r.repo.Reference(plumbing.ReferenceName(trackingPrefix+branch), false)
		switch {
		case errors.Is(err, plumbing.ErrReferenceNotFound):
			delete(heads, branch)
		case err != nil:
			return fmt.Errorf("read tracking ref of %s: %w", branch, err)
		default:
			heads[branch] = ref.Hash()
		}
	}
	return nil
}
