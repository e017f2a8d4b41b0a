package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitvend/gitvend/internal/retry"
)

// ErrRevertConflict says that a commit cannot be reverted cleanly: a later
// commit changed a file the revert would change. It is terminal.
var ErrRevertConflict = retry.Terminal(errors.New("revert conflicts with a later change"))

// RevertSpec describes a revert commit.
type RevertSpec struct {
	// Commit is the commit to revert. A merge commit is reverted against
	// its first parent (as git revert -m 1 does): the revert undoes what
	// the merge brought into the branch.
	Commit string
	// Onto is the commit to build the revert on, such as the head of the
	// branch Commit was merged into.
	Onto string
	// Author is the author and committer.
	Author Signature
	// Time is the author and committer time; zero means now. The same
	// spec and time give the same commit id.
	Time time.Time
}

// Revert makes a commit on spec.Onto that undoes spec.Commit, and returns
// its id. The change is taken file by file: every file Commit changed
// gets back the content it had in Commit's first parent (or is deleted,
// when Commit added it), provided Onto still has it as Commit left it;
// a file changed again since fails the revert with ErrRevertConflict,
// never guessing a merge of the two. Only regular files are brought back:
// a commit that changed a file's mode, or removed an executable file, a
// link or a submodule, fails the revert (terminal), since a revert that
// restored the content but not the mode would say it undid what it did not. Files Onto already has as they were
// before Commit are left alone; when that holds for all, no commit is made
// and Onto is returned. The message is git's: Revert "<subject>" and which
// commit it reverses.
func (r *Repo) Revert(ctx context.Context, spec RevertSpec) (string, error) {
	if !isSHA(spec.Commit) || !isSHA(spec.Onto) {
		return "", retry.Terminal(fmt.Errorf("revert %q onto %q: want 40-character commit ids", spec.Commit, spec.Onto))
	}
	commit, err := r.revertSpec(ctx, spec)
	if err != nil {
		return "", fmt.Errorf("revert %.12s: %w", spec.Commit, err)
	}
	return r.Commit(ctx, commit)
}

// revertSpec works out the commit that reverts spec.Commit on spec.Onto.
func (r *Repo) revertSpec(ctx context.Context, spec RevertSpec) (CommitSpec, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.commit(spec.Commit)
	if err != nil {
		return CommitSpec{}, err
	}
	if c.NumParents() == 0 {
		return CommitSpec{}, retry.Terminal(errors.New("the first commit of a repository cannot be reverted"))
	}
	parent, err := c.Parent(0)
	if err != nil {
		return CommitSpec{}, fmt.Errorf("read first parent: %w", err)
	}
	onto, err := r.commit(spec.Onto)
	if err != nil {
		return CommitSpec{}, err
	}
	trees := make([]*object.Tree, 3)
	for i, cm := range []*object.Commit{parent, c, onto} {
		if trees[i], err = cm.Tree(); err != nil {
			return CommitSpec{}, fmt.Errorf("read tree of %s: %w", cm.Hash, err)
		}
	}
	// Without rename detection: a rename is a deletion and an addition.
	changes, err := object.DiffTreeWithOptions(ctx, trees[0], trees[1], &object.DiffTreeOptions{})
	if err != nil {
		return CommitSpec{}, fmt.Errorf("compare with first parent: %w", err)
	}
	out := CommitSpec{Parent: spec.Onto, Files: map[string][]byte{}, Author: spec.Author, Time: spec.Time,
		Message: revertMessage(c, parent.Hash.String())}
	for _, ch := range changes {
		name := ch.To.Name
		if name == "" {
			name = ch.From.Name
		}
		before, after := entryOf(ch.From), entryOf(ch.To)
		now, err := findEntry(trees[2], name)
		if err != nil {
			return CommitSpec{}, err
		}
		switch {
		case now == before:
			continue // already as before the commit
		case now != after:
			return CommitSpec{}, fmt.Errorf("%w: %s was changed again after the commit", ErrRevertConflict, name)
		}
		if before.hash.IsZero() {
			out.Delete = append(out.Delete, name)
			continue
		}
		// A commit writes regular files and keeps the mode a file has;
		// what it cannot bring back (another mode, or a mode the commit
		// changed) is refused rather than reverted to something else.
		if before.mode != filemode.Regular || (!after.hash.IsZero() && after.mode != before.mode) {
			return CommitSpec{}, retry.Terminal(fmt.Errorf("%s changed mode or is not a regular file (mode %s before the commit, %s after); revert it by hand", name, before.mode, modeOf(after)))
		}
		content, err := r.blobContent(before.hash)
		if err != nil {
			return CommitSpec{}, fmt.Errorf("read %s before the commit: %w", name, err)
		}
		out.Files[name] = content
	}
	return out, nil
}

// fileEntry is a path's blob and mode in one tree; zero when absent.
type fileEntry struct {
	hash plumbing.Hash
	mode filemode.FileMode
}

func entryOf(ce object.ChangeEntry) fileEntry {
	if ce.Name == "" {
		return fileEntry{}
	}
	return fileEntry{hash: ce.TreeEntry.Hash, mode: ce.TreeEntry.Mode}
}

// modeOf names an entry's mode; "absent" for no entry.
func modeOf(e fileEntry) string {
	if e.hash.IsZero() {
		return "absent"
	}
	return e.mode.String()
}

// findEntry looks a file up in t; zero when t does not have it.
func findEntry(t *object.Tree, name string) (fileEntry, error) {
	e, err := t.FindEntry(name)
	switch {
	case errors.Is(err, object.ErrEntryNotFound), errors.Is(err, object.ErrDirectoryNotFound):
		return fileEntry{}, nil
	case err != nil:
		return fileEntry{}, fmt.Errorf("look up %s: %w", name, err)
	}
	return fileEntry{hash: e.Hash, mode: e.Mode}, nil
}

// blobContent reads a blob. Callers hold r.mu.
func (r *Repo) blobContent(h plumbing.Hash) ([]byte, error) {
	b, err := r.repo.BlobObject(h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// revertMessage is git's message for a revert of c.
func revertMessage(c *object.Commit, parent string) string {
	subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	msg := fmt.Sprintf("Revert \"%s\"\n\nThis reverts commit %s", subject, c.Hash)
	if c.NumParents() > 1 {
		msg += ", reversing\nchanges made to " + parent
	}
	return msg + ".\n"
}
