package check

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/policy"
	"github.com/gitvend/gitvend/internal/request"
)

// maxRecordSize bounds the request records read to find an owner.
const maxRecordSize = 1 << 20

// owners places the objects of one check in the repository layout and
// names the team that owns each. The owner never comes from the object's
// own gitvend.dev/owner label, which whoever writes the object chooses:
//
//   - an object under requests/<env>/<namespace>/<name>/ is owned by the
//     owner of the request record requests/<env>/<namespace>/<name>.yaml
//     that rendered it, and must stay in that namespace, which the owner
//     must be allowed to use;
//   - any other object (hand-written in an environment root) is owned by
//     the team of gitvend.yaml that claims its namespace most specifically:
//     a namespace named exactly, else the longest prefix. A bare "*" lets a
//     team request things in any namespace, but claims none: the author of
//     a hand-written file is not known, and the catch-all would otherwise
//     let any file into any namespace as the most trusted team's.
//
// An owner that is not a team of gitvend.yaml is unknown, and the
// namespace-boundary policy denies its namespaced objects. A repository
// that declares no teams has a single tenant, which may use every
// namespace.
type owners struct {
	repoDir string
	cfg     *config.Repo
	records map[recordKey]string // owner by record; "" when unusable
	memo    *recordMemo          // nil unless the checker caches
	stamps  manifest.Stamps      // the checkout's, nil when not trusted
	root    *os.Root             // the repository, opened at the first record
	rootErr error
	// last is the context of the objects of the request folder lastDir,
	// which come one after the other.
	last    policy.Context
	lastDir string
	folders map[folderKey]map[string]string // see folderOwners
}

func (c *Checker) owners() *owners {
	w := &owners{repoDir: c.repoDir, cfg: c.cfg, records: map[recordKey]string{}, memo: c.records}
	if c.records != nil && c.stamps != nil && c.stamps.Links() == 0 {
		w.stamps = c.stamps // a link could lead a record elsewhere
	}
	return w
}

// close releases the repository opened to read records.
func (w *owners) close() {
	if w.root != nil {
		w.root.Close()
	}
}

// recordMemoSize is how many request records a caching Checker remembers
// the owner of.
const recordMemoSize = 100_000

// recordMemo remembers the owner named by request records, by path and
// content: reading a record is cheap, parsing and validating it is not.
type recordMemo struct {
	mu  sync.Mutex
	lru *simplelru.LRU[string, string]
	// folders holds, by a folder of records and its stamp, the owner
	// each of its records names, by request, as they are looked up.
	folders *simplelru.LRU[string, map[string]string]
}

// recordFoldersKept is how many folders of records a recordMemo keeps
// the owners of: every namespace of a few environments.
const recordFoldersKept = 10_000

func newRecordMemo(size int) *recordMemo {
	l, err := simplelru.NewLRU[string, string](size, nil)
	if err != nil {
		panic(fmt.Sprintf("request record cache of size %d: %v", size, err))
	}
	folders, _ := simplelru.NewLRU[string, map[string]string](recordFoldersKept, nil)
	return &recordMemo{lru: l, folders: folders}
}

// context places o, whose File is relative to the repository.
func (w *owners) context(o *manifest.Object) policy.Context {
	// Every object under a request's folder has that request's context.
	dir := path.Dir(o.File)
	inRequest := strings.HasPrefix(dir, request.Dir+"/") && strings.Count(dir, "/") >= 3
	if inRequest && dir == w.lastDir {
		return w.last
	}
	ctx := w.place(o)
	if inRequest && ctx.Request != "" {
		w.last, w.lastDir = ctx, dir
	}
	return ctx
}

// place works out the context of o, whose File is relative to the
// repository.
func (w *owners) place(o *manifest.Object) policy.Context {
	place := desired.Locate(w.cfg, o.File)
	ctx := policy.Context{Environment: place.Environment, Request: place.Request, Namespace: place.Namespace}
	if place.Request != "" {
		ctx.Owner = w.recordOwner(place)
	}
	if len(w.cfg.Teams) == 0 {
		ctx.AllowedNamespaces = []string{"*"}
		return ctx
	}
	if place.Request == "" {
		ns := o.Namespace
		if o.GroupKind() == "Namespace" {
			ns = o.Name
		}
		ctx.Owner = claimant(w.cfg.Teams, ns)
	}
	if t, ok := w.cfg.Team(ctx.Owner); ok {
		ctx.AllowedNamespaces = t.Namespaces
	}
	return ctx
}

// recordKey names the request record of a place: environment, namespace
// and request.
type recordKey struct{ env, ns, request string }

// recordOwner returns the owner named by the request record of place, or
// "" when the record is missing, invalid or not the one its path names.
func (w *owners) recordOwner(place desired.Place) string {
	rk := recordKey{place.Environment, place.Namespace, place.Request}
	if owner, ok := w.records[rk]; ok {
		return owner
	}
	// A folder of records whose stamp was seen before holds the same
	// records: the owners found in it then are those of now.
	inFolder := w.folderOwners(place)
	if inFolder != nil {
		w.memo.mu.Lock()
		owner, ok := inFolder[place.Request]
		w.memo.mu.Unlock()
		if ok {
			w.records[rk] = owner
			return owner
		}
	}
	owner := w.readOwner(place)
	if inFolder != nil {
		w.memo.mu.Lock()
		inFolder[place.Request] = owner
		w.memo.mu.Unlock()
	}
	w.records[rk] = owner
	return owner
}

// folderOwners returns the owners kept for the folder of records of
// place, by request, when the checkout's stamps are trusted; nil
// otherwise. Callers hold w.memo.mu to read or write it.
func (w *owners) folderOwners(place desired.Place) map[string]string {
	if w.stamps == nil {
		return nil
	}
	fk := folderKey{place.Environment, place.Namespace}
	if m, ok := w.folders[fk]; ok {
		return m
	}
	folder := path.Join(request.Dir, place.Environment, place.Namespace)
	id, ok := w.stamps.Folder(folder)
	if !ok {
		return nil
	}
	key := folder + "\x00" + id
	w.memo.mu.Lock()
	m, ok := w.memo.folders.Get(key)
	if !ok {
		m = map[string]string{}
		w.memo.folders.Add(key, m)
	}
	w.memo.mu.Unlock()
	if w.folders == nil {
		w.folders = map[folderKey]map[string]string{}
	}
	w.folders[fk] = m
	return m
}

// folderKey names a folder of request records: environment and namespace.
type folderKey struct{ env, ns string }

// readOwner returns the owner named by the request record of place,
// looked up by its stamp or read.
func (w *owners) readOwner(place desired.Place) string {
	rel := path.Join(request.Dir, place.Environment, place.Namespace, place.Request+".yaml")
	// A record whose stamp was seen before names the same owner, unread.
	var stampKey string
	if w.stamps != nil {
		if id, ok := w.stamps.File(rel); ok {
			stampKey = "stamp\x00" + rel + "\x00" + id
			w.memo.mu.Lock()
			owner, ok := w.memo.lru.Get(stampKey)
			w.memo.mu.Unlock()
			if ok {
				return owner
			}
		}
	}
	owner := ""
	if data, err := w.read(rel); err == nil {
		owner = w.parseOwner(rel, data)
		if stampKey != "" {
			w.memo.mu.Lock()
			w.memo.lru.Add(stampKey, owner)
			w.memo.mu.Unlock()
		}
	}
	return owner
}

// parseOwner returns the owner the record data at rel names, "" when it
// is invalid or not the one its path names; remembered by content when
// the checker caches.
func (w *owners) parseOwner(rel string, data []byte) string {
	var key string
	if w.memo != nil {
		sum := sha256.Sum256(data)
		key = rel + "\x00" + string(sum[:])
		w.memo.mu.Lock()
		owner, ok := w.memo.lru.Get(key)
		w.memo.mu.Unlock()
		if ok {
			return owner
		}
	}
	owner := ""
	if r, err := request.Parse(data); err == nil && r.Path() == rel {
		owner = r.Spec.Owner
	}
	if w.memo != nil {
		w.memo.mu.Lock()
		w.memo.lru.Add(key, owner)
		w.memo.mu.Unlock()
	}
	return owner
}

// read reads the record rel through the repository opened once per check.
func (w *owners) read(rel string) ([]byte, error) {
	if w.root == nil && w.rootErr == nil {
		w.root, w.rootErr = os.OpenRoot(w.repoDir)
	}
	if w.rootErr != nil {
		return nil, fmt.Errorf("open repository: %w", w.rootErr)
	}
	return readFrom(w.root, rel)
}

// readFrom reads the request record rel of root, bounded; links that
// point outside the repository are refused.
func readFrom(root *os.Root, rel string) ([]byte, error) {
	f, err := root.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("open request record: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("read request record: %w", err)
	}
	if len(data) > maxRecordSize {
		return nil, fmt.Errorf("read request record: %s is larger than %d bytes", rel, maxRecordSize)
	}
	return data, nil
}

// claimant returns the team that claims namespace ns most specifically, or
// "" when none does: a team that names ns exactly comes before one with a
// matching prefix, a longer prefix before a shorter one, and an earlier
// team before a later one. A bare "*" claims nothing.
func claimant(teams []config.Team, ns string) string {
	if ns == "" {
		return ""
	}
	best, rank := "", -1
	for _, t := range teams {
		for _, p := range t.Namespaces {
			r := -1
			switch prefix, isPrefix := strings.CutSuffix(p, "*"); {
			case p == ns:
				r = len(p) + 1
			case isPrefix && prefix != "" && strings.HasPrefix(ns, prefix):
				r = len(prefix)
			}
			if r > rank {
				best, rank = t.Name, r
			}
		}
	}
	return best
}
