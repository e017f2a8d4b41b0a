package desired

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/request"
)

// Change is what one request changes in a repository: files to write and
// folders to clear first, by slash-separated path from the repository root.
type Change struct {
	// Rendered is the request's render.
	Rendered *Rendered
	// Delete are folders (or files) removed before Files are written, so
	// that objects a new render no longer produces disappear.
	Delete []string
	// Files are the request record, its rendered files and its
	// environment's root.
	Files []File
}

// ErrNotInBranch says a request to remove is not in the repository: it
// was never merged, or was removed already.
var ErrNotInBranch = errors.New("the request is not in the repository")

// ConflictError says a request's path already holds a record from
// elsewhere.
type ConflictError struct {
	Path   string
	Origin string // the other record's origin, "" when it names none
}

// Error explains the conflict and what to do.
func (e *ConflictError) Error() string {
	from := "written by hand"
	if e.Origin != "" {
		from = "asked for in " + e.Origin
	}
	return fmt.Sprintf("metadata.name: %s already exists (%s); pick another name with /provision set name=…", e.Path, from)
}

const originPrefix = "# Requested in "

// OriginHeader is the first line of a request record gitvend writes for a
// request asked for in origin (such as "acme/infra#12"); it tells later
// proposals which records they may change.
func OriginHeader(origin string) string {
	return originPrefix + origin + ".\n"
}

// OriginOf reads the origin a record file names in its first line, or "".
func OriginOf(data []byte) string {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	s, ok := strings.CutPrefix(string(line), originPrefix)
	if !ok {
		return ""
	}
	return strings.TrimSuffix(s, ".")
}

// Propose works out what the request r, asked for in origin, changes in the
// repository checked out in dir: its record, its rendered files and its
// environment root. A record at r's path that came from another origin, or
// was written by hand, is a *ConflictError. Problems with r itself are the
// render's errors, each naming its field.
func Propose(ctx context.Context, dir string, cfg *config.Repo, cat Catalog, r *request.Request, origin string) (*Change, error) {
	return NewCheckout(dir).Propose(ctx, cfg, cat, r, origin)
}

// Checkout is a checkout of a desired-state repository that does not
// change while it is used, such as the default branch's head at one
// commit, with its request records read once for every proposal made on
// it: a proposal rewrites its environment's root from every record, and
// reading them all again for each request grew with the repository.
type Checkout struct {
	dir     string
	once    sync.Once
	records []Record
	err     error
	// refs are, by environment (name and root), the references of its root to the
	// folders of the requests read, sorted, worked out once: every
	// request proposed on the checkout rewrites a root naming them all.
	refsMu sync.Mutex
	refs   map[string][]recordRef
}

// recordRef is the reference of an environment's root to the folder of
// the request whose record is at path.
type recordRef struct{ path, ref string }

// NewCheckout returns the checkout in dir, nothing read yet.
func NewCheckout(dir string) *Checkout { return &Checkout{dir: dir} }

// Requests returns Requests(dir), read on the first call.
func (co *Checkout) Requests() ([]Record, error) {
	co.once.Do(func() { co.records, co.err = Requests(co.dir) })
	return co.records, co.err
}

// Propose is the package's Propose on the checkout.
func (co *Checkout) Propose(ctx context.Context, cfg *config.Repo, cat Catalog, r *request.Request, origin string) (*Change, error) {
	dir := co.dir
	env, err := admission.Environment(cfg, r.Spec.Environment)
	if err != nil {
		return nil, err
	}
	recordPath := r.Path()
	if data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(recordPath))); err == nil {
		if other := OriginOf(data); other != origin {
			return nil, &ConflictError{Path: recordPath, Origin: other}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", recordPath, err)
	}
	rendered, err := Render(ctx, cat, r)
	if err != nil {
		return nil, err
	}
	record, err := r.Encode()
	if err != nil {
		return nil, err
	}
	root, rootPath, err := co.rootWith(env, r, true)
	if err != nil {
		return nil, err
	}
	c := &Change{Rendered: rendered, Delete: []string{r.RenderDir()}}
	c.Files = append(c.Files, File{Path: recordPath, Data: append([]byte(OriginHeader(origin)), record...)})
	c.Files = append(c.Files, rendered.Files...)
	c.Files = append(c.Files, File{Path: rootPath, Data: root})
	return c, nil
}

// Withdraw works out what removing the request r, asked for in origin,
// changes in the repository checked out in dir: its record and rendered
// folder deleted and its environment root no longer naming it. The
// reconciler then prunes what it applied for it. A record from another
// origin, or written by hand, is a *ConflictError; no record at all is
// ErrNotInBranch.
func Withdraw(dir string, cfg *config.Repo, r *request.Request, origin string) (*Change, error) {
	return NewCheckout(dir).Withdraw(cfg, r, origin)
}

// Withdraw is the package's Withdraw on the checkout.
func (co *Checkout) Withdraw(cfg *config.Repo, r *request.Request, origin string) (*Change, error) {
	dir := co.dir
	env, err := admission.Environment(cfg, r.Spec.Environment)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(r.Path())))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, ErrNotInBranch
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", r.Path(), err)
	}
	if other := OriginOf(data); other != origin {
		return nil, &ConflictError{Path: r.Path(), Origin: other}
	}
	root, rootPath, err := co.rootWith(env, r, false)
	if err != nil {
		return nil, err
	}
	return &Change{Delete: []string{r.Path(), r.RenderDir()}, Files: []File{{Path: rootPath, Data: root}}}, nil
}

// rootWith is env's kustomization naming every request of the repository
// checked out in that environment, with r (include) or without it.
func (co *Checkout) rootWith(env config.Environment, r *request.Request, include bool) ([]byte, string, error) {
	known, err := co.envRefs(env)
	if err != nil {
		return nil, "", err
	}
	// The checkout's references without r's, and r's in its sorted place.
	own := ""
	if include {
		own = newRefNamer(env).of(r.RenderDir())
	}
	self := r.Path()
	refs := make([]string, 0, len(known)+1)
	for _, k := range known {
		if k.path == self {
			continue
		}
		if include && own < k.ref {
			refs, include = append(refs, own), false
		}
		refs = append(refs, k.ref)
	}
	if include {
		refs = append(refs, own)
	}
	rootPath := path.Join(env.Root, "kustomization.yaml")
	existing, err := os.ReadFile(filepath.Join(co.dir, filepath.FromSlash(rootPath)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("read %s: %w", rootPath, err)
	}
	root, err := environmentRoot(env, existing, refs)
	if err != nil {
		return nil, "", err
	}
	return root, rootPath, nil
}

// envRefs returns the references of env's root to the folders of the
// checkout's requests in env, sorted, worked out on the first call.
func (co *Checkout) envRefs(env config.Environment) ([]recordRef, error) {
	records, err := co.Requests()
	if err != nil {
		return nil, err
	}
	co.refsMu.Lock()
	defer co.refsMu.Unlock()
	key := env.Name + "\x00" + env.Root
	if refs, ok := co.refs[key]; ok {
		return refs, nil
	}
	names := newRefNamer(env)
	var refs []recordRef
	for _, rec := range records {
		if rec.Err == nil && rec.Request.Spec.Environment == env.Name {
			refs = append(refs, recordRef{path: rec.Path, ref: names.of(rec.Request.RenderDir())})
		}
	}
	slices.SortFunc(refs, func(a, b recordRef) int { return strings.Compare(a.ref, b.ref) })
	if co.refs == nil {
		co.refs = map[string][]recordRef{}
	}
	co.refs[key] = refs
	return refs, nil
}
