package githubtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// gitRepo runs the git command line on one bare repository. Answers about
// immutable objects (commit contents, object types, diffs, ancestry) are
// cached, since every git process costs milliseconds.
type gitRepo struct {
	bin string
	dir string

	mu    sync.Mutex
	cache map[string]any
}

// cached returns the cached answer for key or computes and keeps it; errors
// are not kept.
func cached[T any](g *gitRepo, key string, compute func() (T, error)) (T, error) {
	g.mu.Lock()
	if v, found := g.cache[key]; found {
		g.mu.Unlock()
		return v.(T), nil
	}
	g.mu.Unlock()
	v, err := compute()
	if err != nil {
		return v, err
	}
	g.mu.Lock()
	if g.cache == nil {
		g.cache = map[string]any{}
	}
	g.cache[key] = v
	g.mu.Unlock()
	return v, nil
}

// signature is a git author or committer.
type signature struct {
	Name  string
	Email string
	When  time.Time
}

// zeroSHA is git's "no object".
const zeroSHA = "0000000000000000000000000000000000000000"

// errGitExit carries a git failure with its exit code and stderr.
type errGitExit struct {
	code   int
	stderr string
}

func (e *errGitExit) Error() string {
	return fmt.Sprintf("git exited %d: %s", e.code, strings.TrimSpace(e.stderr))
}

func gitEnv(extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"LANG=C",
		"LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
	}
	return append(env, extra...)
}

// run runs git with stdin and extra environment and returns stdout.
func (g *gitRepo) run(ctx context.Context, stdin []byte, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.bin, append([]string{"--git-dir", g.dir}, args...)...)
	cmd.Env = gitEnv(env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.Bytes(), &errGitExit{code: ee.ExitCode(), stderr: errb.String()}
		}
		return nil, fmt.Errorf("run git %s: %w", args[0], err)
	}
	return out.Bytes(), nil
}

func (g *gitRepo) line(ctx context.Context, args ...string) (string, error) {
	out, err := g.run(ctx, nil, nil, args...)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// initBare creates the bare repository with the given default branch.
func initBare(ctx context.Context, bin, dir, branch string) (*gitRepo, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("create repository parent: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, "init", "--bare", "--quiet", "--initial-branch="+branch, dir)
	cmd.Env = gitEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git init: %w: %s", err, out)
	}
	g := &gitRepo{bin: bin, dir: dir}
	// refs/pull/* are GitHub's: advertised to fetches, hidden from pushes,
	// which are refused ("deny updating a hidden ref") as on GitHub.
	for _, kv := range [][2]string{{"http.receivepack", "true"}, {"uploadpack.allowAnySHA1InWant", "true"}, {"receive.denyDeleteCurrent", "warn"},
		{"receive.hideRefs", "refs/pull/"}} {
		if _, err := g.run(ctx, nil, nil, "config", kv[0], kv[1]); err != nil {
			return nil, fmt.Errorf("configure repository: %w", err)
		}
	}
	return g, nil
}

// fetchCommit copies commit sha and everything it reaches from the bare
// repository in dir, as GitHub shares objects between a repository and
// its forks.
func (g *gitRepo) fetchCommit(ctx context.Context, dir, sha string) error {
	if g.objectType(ctx, sha) == "commit" {
		return nil
	}
	if _, err := g.run(ctx, nil, nil, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", dir, sha); err != nil {
		return fmt.Errorf("fetch %s from %s: %w", sha, dir, err)
	}
	return nil
}

// hashBlob writes a blob and returns its id.
func (g *gitRepo) hashBlob(ctx context.Context, data []byte) (string, error) {
	out, err := g.run(ctx, data, nil, "hash-object", "-w", "--stdin")
	if err != nil {
		return "", fmt.Errorf("write blob: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// hashBlobs writes blobs with one git process and returns their ids in
// order: a repository of fifty thousand files is written in seconds, not
// minutes of one process a file. From unpackLimit blobs on they go into
// one pack, as GitHub keeps a repository, through git fast-import: no
// file per blob is written, read and deleted, nor one loose object per
// blob (on a file system without a journal, where a new file's inode is
// looked for past every inode deleted in the last minutes, tens of
// thousands of deletions slow every file created after them).
func (g *gitRepo) hashBlobs(ctx context.Context, blobs [][]byte) ([]string, error) {
	if len(blobs) == 0 {
		return nil, nil
	}
	if len(blobs) >= unpackLimit {
		return g.packBlobs(ctx, blobs)
	}
	dir, err := os.MkdirTemp("", "githubtest-blobs-")
	if err != nil {
		return nil, fmt.Errorf("write blobs: %w", err)
	}
	defer os.RemoveAll(dir)
	var paths bytes.Buffer
	for i, b := range blobs {
		name := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(name, b, 0o600); err != nil {
			return nil, fmt.Errorf("write blobs: %w", err)
		}
		paths.WriteString(name + "\n")
	}
	out, err := g.run(ctx, paths.Bytes(), nil, "hash-object", "-w", "--no-filters", "--stdin-paths")
	if err != nil {
		return nil, fmt.Errorf("write blobs: %w", err)
	}
	shas := strings.Fields(string(out))
	if len(shas) != len(blobs) {
		return nil, fmt.Errorf("write blobs: git wrote %d of %d", len(shas), len(blobs))
	}
	return shas, nil
}

// packBlobs writes blobs into one pack with git fast-import and returns
// their ids, which are git's hashes of their content.
func (g *gitRepo) packBlobs(ctx context.Context, blobs [][]byte) ([]string, error) {
	var stream bytes.Buffer
	shas := make([]string, len(blobs))
	for i, b := range blobs {
		shas[i] = plumbing.ComputeHash(plumbing.BlobObject, b).String()
		fmt.Fprintf(&stream, "blob\ndata %d\n", len(b))
		stream.Write(b)
		stream.WriteByte('\n')
	}
	if _, err := g.run(ctx, stream.Bytes(), nil, "fast-import", "--quiet"); err != nil {
		return nil, fmt.Errorf("write blobs: %w", err)
	}
	return shas, nil
}

// objectType is "blob", "tree", "commit", "tag", or "" when missing.
func (g *gitRepo) objectType(ctx context.Context, sha string) string {
	if !isSHA(sha) {
		return ""
	}
	t, err := cached(g, "type "+sha, func() (string, error) { return g.line(ctx, "cat-file", "-t", sha) })
	if err != nil {
		return ""
	}
	return t
}

func (g *gitRepo) catBlob(ctx context.Context, sha string) ([]byte, error) {
	out, err := g.run(ctx, nil, nil, "cat-file", "blob", sha)
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	return out, nil
}

// resolveCommit turns a branch, ref or sha into a commit id; "" when absent.
func (g *gitRepo) resolveCommit(ctx context.Context, rev string) string {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return ""
	}
	sha, err := g.line(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return ""
	}
	return sha
}

// refs lists every ref with the object it points at.
func (g *gitRepo) refs(ctx context.Context) (map[string]string, error) {
	out, err := g.run(ctx, nil, nil, "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		return nil, fmt.Errorf("list refs: %w", err)
	}
	refs := map[string]string{}
	for _, ln := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		sha, name, found := strings.Cut(ln, " ")
		if found {
			refs[name] = sha
		}
	}
	return refs, nil
}

// updateRef moves ref to sha if it still points at old ("" for any, zeroSHA
// for "must not exist").
func (g *gitRepo) updateRef(ctx context.Context, ref, sha, old string) error {
	args := []string{"update-ref", ref, sha}
	if old != "" {
		args = append(args, old)
	}
	if _, err := g.run(ctx, nil, nil, args...); err != nil {
		return fmt.Errorf("update ref %s: %w", ref, err)
	}
	return nil
}

func (g *gitRepo) deleteRef(ctx context.Context, ref string) error {
	if _, err := g.run(ctx, nil, nil, "update-ref", "-d", ref); err != nil {
		return fmt.Errorf("delete ref %s: %w", ref, err)
	}
	return nil
}

// treeChange is one edit of a tree: a file set to a blob, a subtree grafted
// at a path, or a path removed (sha "").
type treeChange struct {
	path string
	mode string
	sha  string
	tree bool
}

// buildTree applies changes to base (a tree-ish, "" for empty) through a
// temporary index and writes the result.
func (g *gitRepo) buildTree(ctx context.Context, base string, changes []treeChange) (string, error) {
	idx, err := os.CreateTemp("", "githubtest-index-")
	if err != nil {
		return "", fmt.Errorf("create index: %w", err)
	}
	idxPath := idx.Name()
	_ = idx.Close()
	_ = os.Remove(idxPath)
	defer os.Remove(idxPath)
	env := []string{"GIT_INDEX_FILE=" + idxPath}
	if base != "" {
		if _, err := g.run(ctx, nil, env, "read-tree", base); err != nil {
			return "", fmt.Errorf("read base tree: %w", err)
		}
	} else if _, err := g.run(ctx, nil, env, "read-tree", "--empty"); err != nil {
		return "", fmt.Errorf("read empty tree: %w", err)
	}
	out, err := g.run(ctx, nil, env, "ls-files", "-z")
	if err != nil {
		return "", fmt.Errorf("list index: %w", err)
	}
	// present holds the index's files, dirs every folder that holds one
	// (a folder may stay listed after its files go: that costs a scan of
	// present, nothing more).
	present, dirs := map[string]bool{}, map[string]bool{}
	add := func(f string) {
		present[f] = true
		for d := path.Dir(f); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			add(f)
		}
	}
	var info bytes.Buffer
	flush := func() error {
		if info.Len() == 0 {
			return nil
		}
		_, err := g.run(ctx, info.Bytes(), env, "update-index", "--index-info")
		info.Reset()
		if err != nil {
			return fmt.Errorf("update index: %w", err)
		}
		return nil
	}
	for _, ch := range changes {
		p := strings.Trim(ch.path, "/")
		if p == "" || strings.Contains(p, "\x00") || strings.Contains(p, "\n") {
			return "", fmt.Errorf("bad path %q", ch.path)
		}
		// Remove whatever is at p: a file, or every file under p/.
		if present[p] {
			fmt.Fprintf(&info, "0 %s\t%s\n", zeroSHA, p)
			delete(present, p)
		}
		if dirs[p] {
			for f := range present {
				if strings.HasPrefix(f, p+"/") {
					fmt.Fprintf(&info, "0 %s\t%s\n", zeroSHA, f)
					delete(present, f)
				}
			}
		}
		switch {
		case ch.sha == "":
		case ch.tree:
			entries, err := g.lsTree(ctx, ch.sha, true, "")
			if err != nil {
				return "", fmt.Errorf("graft tree at %s: %w", p, err)
			}
			for _, e := range entries {
				if e.kind == "tree" {
					continue
				}
				fmt.Fprintf(&info, "%s %s\t%s/%s\n", e.mode, e.sha, p, e.path)
				add(p + "/" + e.path)
			}
		default:
			mode := ch.mode
			if mode == "" {
				mode = "100644"
			}
			fmt.Fprintf(&info, "%s %s\t%s\n", mode, ch.sha, p)
			add(p)
		}
	}
	if err := flush(); err != nil {
		return "", err
	}
	tree, err := g.run(ctx, nil, env, "write-tree")
	if err != nil {
		return "", fmt.Errorf("write tree: %w", err)
	}
	return strings.TrimSpace(string(tree)), nil
}

// commitTree writes a commit.
func (g *gitRepo) commitTree(ctx context.Context, tree string, parents []string, msg string, author, committer signature) (string, error) {
	args := []string{"commit-tree", tree}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	env := []string{
		"GIT_AUTHOR_NAME=" + author.Name, "GIT_AUTHOR_EMAIL=" + author.Email, "GIT_AUTHOR_DATE=" + gitDate(author.When),
		"GIT_COMMITTER_NAME=" + committer.Name, "GIT_COMMITTER_EMAIL=" + committer.Email, "GIT_COMMITTER_DATE=" + gitDate(committer.When),
	}
	out, err := g.run(ctx, []byte(msg), env, args...)
	if err != nil {
		return "", fmt.Errorf("write commit: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func gitDate(t time.Time) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("@%d %c%02d%02d", t.Unix(), sign, off/3600, (off%3600)/60)
}

// commitInfo is a parsed commit object.
type commitInfo struct {
	sha       string
	tree      string
	parents   []string
	author    signature
	committer signature
	message   string
}

func (g *gitRepo) readCommit(ctx context.Context, sha string) (*commitInfo, error) {
	if !isSHA(sha) {
		return nil, fmt.Errorf("read commit %q: not an object id", sha)
	}
	ci, err := cached(g, "commit "+sha, func() (*commitInfo, error) { return g.parseCommit(ctx, sha) })
	if err != nil {
		return nil, err
	}
	cp := *ci
	cp.parents = slices.Clone(ci.parents)
	return &cp, nil
}

func (g *gitRepo) parseCommit(ctx context.Context, sha string) (*commitInfo, error) {
	out, err := g.run(ctx, nil, nil, "cat-file", "commit", sha)
	if err != nil {
		return nil, fmt.Errorf("read commit: %w", err)
	}
	head, msg, _ := strings.Cut(string(out), "\n\n")
	ci := &commitInfo{sha: sha, message: msg}
	for _, ln := range strings.Split(head, "\n") {
		k, v, _ := strings.Cut(ln, " ")
		switch k {
		case "tree":
			ci.tree = v
		case "parent":
			ci.parents = append(ci.parents, v)
		case "author":
			ci.author = parseSignature(v)
		case "committer":
			ci.committer = parseSignature(v)
		}
	}
	return ci, nil
}

// parseSignature reads "Name <email> 1700000000 +0100".
func parseSignature(v string) signature {
	var sig signature
	lt := strings.Index(v, "<")
	gt := strings.LastIndex(v, ">")
	if lt < 0 || gt < lt {
		sig.Name = v
		return sig
	}
	sig.Name = strings.TrimSpace(v[:lt])
	sig.Email = v[lt+1 : gt]
	fields := strings.Fields(v[gt+1:])
	if len(fields) >= 1 {
		if sec, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
			sig.When = time.Unix(sec, 0).UTC()
		}
	}
	if len(fields) >= 2 && len(fields[1]) == 5 {
		h, err1 := strconv.Atoi(fields[1][1:3])
		m, err2 := strconv.Atoi(fields[1][3:5])
		if err1 == nil && err2 == nil {
			off := h*3600 + m*60
			if fields[1][0] == '-' {
				off = -off
			}
			sig.When = sig.When.In(time.FixedZone("", off))
		}
	}
	return sig
}

// treeEntry is one line of ls-tree.
type treeEntry struct {
	mode string
	kind string
	sha  string
	size int64
	path string
}

// lsTree lists a tree; with path it lists that path (a directory's entries
// when path ends with "/").
func (g *gitRepo) lsTree(ctx context.Context, treeish string, recursive bool, path string) ([]treeEntry, error) {
	args := []string{"ls-tree", "-l", "-z"}
	if recursive {
		args = append(args, "-r", "-t")
	}
	args = append(args, treeish)
	if path != "" {
		args = append(args, "--", path)
	}
	out, err := g.run(ctx, nil, nil, args...)
	if err != nil {
		return nil, fmt.Errorf("list tree: %w", err)
	}
	var entries []treeEntry
	for _, rec := range strings.Split(string(out), "\x00") {
		meta, p, found := strings.Cut(rec, "\t")
		if !found {
			continue
		}
		f := strings.Fields(meta)
		if len(f) != 4 {
			continue
		}
		size, _ := strconv.ParseInt(f[3], 10, 64)
		entries = append(entries, treeEntry{mode: f[0], kind: f[1], sha: f[2], size: size, path: p})
	}
	return entries, nil
}

// mergeTree merges head into base and returns the merged tree, or
// conflict=true.
func (g *gitRepo) mergeTree(ctx context.Context, base, head string) (tree string, conflict bool, err error) {
	type result struct {
		tree     string
		conflict bool
	}
	res, err := cached(g, "merge "+base+" "+head, func() (result, error) {
		t, c, err := g.runMergeTree(ctx, base, head)
		return result{t, c}, err
	})
	return res.tree, res.conflict, err
}

func (g *gitRepo) runMergeTree(ctx context.Context, base, head string) (tree string, conflict bool, err error) {
	out, err := g.run(ctx, nil, nil, "merge-tree", "--write-tree", "--no-messages", base, head)
	var ge *errGitExit
	if errors.As(err, &ge) && ge.code == 1 {
		return "", true, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("merge trees: %w", err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first), false, nil
}

func (g *gitRepo) mergeBase(ctx context.Context, a, b string) string {
	sha, err := cached(g, "merge-base "+a+" "+b, func() (string, error) { return g.line(ctx, "merge-base", a, b) })
	if err != nil {
		return ""
	}
	return sha
}

func (g *gitRepo) isAncestor(ctx context.Context, a, b string) bool {
	yes, err := cached(g, "ancestor "+a+" "+b, func() (bool, error) {
		_, err := g.run(ctx, nil, nil, "merge-base", "--is-ancestor", a, b)
		var ge *errGitExit
		if errors.As(err, &ge) && ge.code == 1 {
			return false, nil
		}
		return err == nil, err
	})
	return err == nil && yes
}

// revList returns commit ids, oldest first.
func (g *gitRepo) revList(ctx context.Context, args ...string) ([]string, error) {
	out, err := g.run(ctx, nil, nil, append([]string{"rev-list", "--reverse"}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list commits: %w", err)
	}
	return strings.Fields(string(out)), nil
}

// fileChange is one file changed between two commits.
type fileChange struct {
	status    string // added, removed, modified
	path      string
	oldSHA    string
	newSHA    string
	additions int
	deletions int
	binary    bool
}

// diff lists file changes from a to b ("" a for the root commit b).
func (g *gitRepo) diff(ctx context.Context, a, b string) ([]fileChange, error) {
	changes, err := cached(g, "diff "+a+" "+b, func() ([]fileChange, error) { return g.runDiff(ctx, a, b) })
	return slices.Clone(changes), err
}

func (g *gitRepo) runDiff(ctx context.Context, a, b string) ([]fileChange, error) {
	raw := []string{"diff-tree", "-r", "-z", "--no-renames", "--no-commit-id"}
	num := []string{"diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", "--numstat"}
	if a == "" {
		raw = append(raw, "--root", b)
		num = append(num, "--root", b)
	} else {
		raw = append(raw, a, b)
		num = append(num, a, b)
	}
	out, err := g.run(ctx, nil, nil, raw...)
	if err != nil {
		return nil, fmt.Errorf("diff trees: %w", err)
	}
	var changes []fileChange
	index := map[string]int{}
	fields := strings.Split(string(out), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		meta := fields[i]
		if !strings.HasPrefix(meta, ":") {
			continue
		}
		f := strings.Fields(meta[1:])
		if len(f) != 5 {
			continue
		}
		fc := fileChange{path: fields[i+1], oldSHA: f[2], newSHA: f[3]}
		switch f[4] {
		case "A":
			fc.status = "added"
		case "D":
			fc.status = "removed"
		default:
			fc.status = "modified"
		}
		index[fc.path] = len(changes)
		changes = append(changes, fc)
	}
	out, err = g.run(ctx, nil, nil, num...)
	if err != nil {
		return nil, fmt.Errorf("count changes: %w", err)
	}
	for _, rec := range strings.Split(string(out), "\x00") {
		f := strings.SplitN(rec, "\t", 3)
		if len(f) != 3 {
			continue
		}
		i, found := index[f[2]]
		if !found {
			continue
		}
		if f[0] == "-" {
			changes[i].binary = true
			continue
		}
		changes[i].additions, _ = strconv.Atoi(f[0])
		changes[i].deletions, _ = strconv.Atoi(f[1])
	}
	return changes, nil
}

// patch is the unified diff hunks of one file from a to b.
func (g *gitRepo) patch(ctx context.Context, a, b, path string) string {
	out, err := g.run(ctx, nil, nil, "diff", "--no-color", "--no-renames", a, b, "--", path)
	if err != nil {
		return ""
	}
	s := string(out)
	if i := strings.Index(s, "\n@@"); i >= 0 {
		return strings.TrimSuffix(s[i+1:], "\n")
	}
	return ""
}

func isSHA(v string) bool {
	if len(v) != 40 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
