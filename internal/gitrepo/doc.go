// Package gitrepo owns gitvend's local git work on the repositories it
// serves, through go-git and without a git binary.
//
// A Cache keeps one bare clone per repository under its directory
// (<dir>/<host>/<owner>/<repo>.git), cloned on first Open and fetched on
// later ones; callers opening the same repository share one Repo, whose
// operations take turns. Network operations authenticate over HTTPS as
// "x-access-token" with a token asked from Auth each time, since
// installation tokens expire.
//
// A Repo reads commits (Head, ReadFile, Export into a directory for
// kustomize and the checks, refusing symbolic links that lead outside the
// tree or to a folder), builds new commits from a parent plus changed
// and deleted files by writing blobs and trees directly (Commit:
// deterministic, and no commit when nothing changes), reverts a commit
// on a later head (Revert: file by file, refusing a file changed again
// since rather than merging), and pushes a commit
// to a branch (Push: fast-forward or forced; pushing what is already there
// does nothing). A push of commits made on a head the remote has sends
// only the objects they changed, found by comparing each commit's tree
// with its parent's, without reading the trees that did not change.
//
// Errors follow package retry. A Repo never retries by itself: a failed
// fetch or push is retryable when the network or the server failed, and
// terminal when the remote refused the credentials or has no such
// repository, when a push is not a fast-forward (ErrNonFastForward), when
// a branch, commit or file is missing (ErrNotFound), and for bad arguments.
package gitrepo
