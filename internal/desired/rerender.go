package desired

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/request"
)

// Stale is a request whose fresh render differs from its committed
// rendered files: its blueprint changed since it was rendered.
type Stale struct {
	// Path is the request record's path.
	Path    string
	Request *request.Request
	// Change clears the request's rendered folder and writes the fresh
	// render; the record and the environment root stay as they are.
	Change *Change
	// Diff is a unified diff per changed file, committed to fresh render.
	Diff string
}

// Failing is a request that no longer renders with its blueprint.
type Failing struct {
	Path    string
	Request *request.Request
	// Err says why, naming the field or parameter at fault.
	Err error
}

// Rerenders is what a change of the blueprints means for the requests of a
// repository: the ones to render again, the ones that no longer render,
// and the ones pinned to a version, which are left alone.
type Rerenders struct {
	Stale   []Stale   // by record path
	Failing []Failing // by record path
	Pinned  []string  // record paths
	// Current counts the requests that follow their blueprint and whose
	// committed render is what it gives.
	Current int
}

// Rerender renders every request of the repository in dir that follows its
// blueprint (not pinned to a version) and compares the render with the
// files committed for it. Records that do not parse, or name an
// environment the repository does not have, are gitvend verify's to
// report, not a blueprint change's, and are skipped.
func Rerender(ctx context.Context, dir string, cfg *config.Repo, cat Catalog) (*Rerenders, error) {
	return RerenderWith(ctx, dir, cfg, cat, nil)
}

// RerenderWith is Rerender remembering, in memo, the requests found
// current: a request whose record, blueprint and committed files are
// those of one found current before is current again without being
// rendered. A nil memo remembers nothing.
func RerenderWith(ctx context.Context, dir string, cfg *config.Repo, cat Catalog, memo *CurrentMemo) (*Rerenders, error) {
	records, err := Requests(dir)
	if err != nil {
		return nil, err
	}
	out := &Rerenders{}
	for _, rec := range records {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if rec.Err != nil {
			continue
		}
		r := rec.Request
		if _, err := admission.Environment(cfg, r.Spec.Environment); err != nil {
			continue
		}
		if r.Pinned() {
			out.Pinned = append(out.Pinned, rec.Path)
			continue
		}
		committed, err := readTree(dir, r.RenderDir())
		if err != nil {
			return nil, err
		}
		key, known := memo.key(cat, r, committed)
		if known {
			out.Current++
			continue
		}
		fresh, err := Render(ctx, cat, r)
		if err != nil {
			out.Failing = append(out.Failing, Failing{Path: rec.Path, Request: r, Err: err})
			continue
		}
		diff := renderDiff(committed, fresh.Files)
		if diff == "" {
			out.Current++
			memo.add(key)
			continue
		}
		out.Stale = append(out.Stale, Stale{Path: rec.Path, Request: r, Diff: diff,
			Change: &Change{Rendered: fresh, Delete: []string{r.RenderDir()}, Files: fresh.Files}})
	}
	return out, nil
}

// readTree reads every file under folder rel of dir, by slash path from
// the repository root; an absent folder reads as none.
func readTree(dir, rel string) (map[string][]byte, error) {
	out := map[string][]byte{}
	root := filepath.Join(dir, filepath.FromSlash(rel))
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == root {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(r)] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	return out, nil
}

// renderDiff is a unified diff of every file that differs between the
// committed files and the fresh render, by path; "" when none does.
func renderDiff(committed map[string][]byte, fresh []File) string {
	next := map[string][]byte{}
	for _, f := range fresh {
		next[f.Path] = f.Data
	}
	paths := make([]string, 0, len(committed)+len(next))
	for p := range committed {
		paths = append(paths, p)
	}
	for p := range next {
		if _, ok := committed[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		old, had := committed[p]
		now, has := next[p]
		if had && has && bytes.Equal(old, now) {
			continue
		}
		b.WriteString(fileDiff(p, old, now, had, has))
	}
	return b.String()
}

// fileDiff is the unified diff of one file; a missing side is /dev/null.
func fileDiff(p string, old, now []byte, had, has bool) string {
	from, to := "a/"+p, "b/"+p
	if !had {
		from = "/dev/null"
	}
	if !has {
		to = "/dev/null"
	}
	return unifiedDiffNamed(from, to, old, now)
}

// CurrentMemo remembers requests found current by Rerender (their fresh
// render equal to their committed files), by a digest of the request,
// its blueprint's files and the committed files, so that a repository's
// fan-out renders again only what changed since. It holds at most
// maxCurrent digests, and starts over when full. Safe for concurrent use.
type CurrentMemo struct {
	mu  sync.Mutex
	set map[string]struct{}
}

// maxCurrent bounds a CurrentMemo: the requests of a few repositories of
// 10,000 requests.
const maxCurrent = 50_000

// key returns the digest of r rendered with its blueprint from cat over
// the committed files, and whether the memo holds it. A blueprint that
// cannot be found, or was not loaded from files, has no key.
func (m *CurrentMemo) key(cat Catalog, r *request.Request, committed map[string][]byte) (string, bool) {
	if m == nil {
		return "", false
	}
	bp, err := cat.Get(r.Spec.Blueprint)
	if err != nil || bp.Digest() == "" {
		return "", false
	}
	spec, err := json.Marshal(r) // map keys come out sorted
	if err != nil {
		return "", false
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", bp.Digest(), len(spec))
	h.Write(spec)
	for _, p := range slices.Sorted(maps.Keys(committed)) {
		fmt.Fprintf(h, "\x00%s\x00%d\x00", p, len(committed[p]))
		h.Write(committed[p])
	}
	key := hex.EncodeToString(h.Sum(nil))
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.set[key]
	return key, ok
}

// add remembers key as current.
func (m *CurrentMemo) add(key string) {
	if m == nil || key == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set == nil || len(m.set) >= maxCurrent {
		m.set = map[string]struct{}{}
	}
	m.set[key] = struct{}{}
}
