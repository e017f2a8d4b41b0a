package manifest

import (
	"fmt"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// BuildCache remembers composed folder builds across Trees, such as the
// checkouts of a base and its pull requests: a folder whose files, and
// the builds of the folders it includes, are those of a folder built
// before is not decoded again. Objects are kept with their files relative
// to the tree and handed out as copies, or shared with a tree whose
// caller only reads them (Tree.ReadOnly). It is safe for concurrent use.
type BuildCache struct {
	mu   sync.Mutex
	lru  *simplelru.LRU[string, []Object]
	hits int
	// vets and files are what trees with Stamps keep: vetted
	// kustomizations (nil for a folder without one) and the objects a
	// Loader decoded from one file, by path and stamp.
	vets  *simplelru.LRU[string, *vettedKustomization]
	files *simplelru.LRU[string, []Object]
	// reads keeps the objects a Loader read from a folder without a
	// kustomization, by the key readKey gives.
	reads *simplelru.LRU[string, []Object]
	// folders keeps what Folders found, by folder and stamp.
	folders *simplelru.LRU[string, *keptFolders]
}

// foldersKept is how many Folders answers a BuildCache keeps: a few
// environments of a few commits.
const foldersKept = 256

// NewBuildCache returns a cache of the builds of at most size folders.
func NewBuildCache(size int) *BuildCache {
	l, err := simplelru.NewLRU[string, []Object](size, nil)
	if err != nil {
		panic(fmt.Sprintf("folder build cache of size %d: %v", size, err))
	}
	vets, _ := simplelru.NewLRU[string, *vettedKustomization](size, nil)
	files, _ := simplelru.NewLRU[string, []Object](size, nil)
	reads, _ := simplelru.NewLRU[string, []Object](size, nil)
	folders, _ := simplelru.NewLRU[string, *keptFolders](foldersKept, nil)
	return &BuildCache{lru: l, vets: vets, files: files, reads: reads, folders: folders}
}

// keptFolders returns the folders kept under key.
func (c *BuildCache) keptFolders(key string) (*keptFolders, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.folders.Get(key)
}

// keepFolders keeps k under key.
func (c *BuildCache) keepFolders(key string, k *keptFolders) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.folders.Add(key, k)
}

// vet returns the vetted kustomization kept under key.
func (c *BuildCache) vet(key string) (*vettedKustomization, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vets.Get(key)
}

func (c *BuildCache) addVet(key string, v *vettedKustomization) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.vets.Add(key, v)
}

// file returns the objects of a file kept under key.
func (c *BuildCache) file(key string) ([]Object, bool) { return c.objects(c.files, key) }

func (c *BuildCache) addFile(key string, objs []Object) { c.keep(c.files, key, objs) }

// Hits returns how many folder builds the cache has answered.
func (c *BuildCache) Hits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

func (c *BuildCache) get(key string) ([]Object, bool) { return c.objects(c.lru, key) }

func (c *BuildCache) add(key string, objs []Object) { c.keep(c.lru, key, objs) }

// objects returns the objects l keeps under key, counting a hit.
func (c *BuildCache) objects(l *simplelru.LRU[string, []Object], key string) ([]Object, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	objs, ok := l.Get(key)
	if ok {
		c.hits++
	}
	return objs, ok
}

// keep keeps objs in l under key.
func (c *BuildCache) keep(l *simplelru.LRU[string, []Object], key string, objs []Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l.Add(key, objs)
}

// UseCache makes the tree's builds remember and reuse composed folders
// in c; builds already running may not.
func (t *Tree) UseCache(c *BuildCache) {
	t.memoMu.Lock()
	defer t.memoMu.Unlock()
	t.cache = c
}

// ReadOnly is the caller's promise that it never modifies the Content
// of the objects the tree returns: builds and files the tree's BuildCache
// answers are then handed out sharing their content with the cache (and
// with every other tree that uses it) instead of as copies, which for an
// environment of thousands of objects is most of a build from the cache.
func (t *Tree) ReadOnly() {
	t.memoMu.Lock()
	defer t.memoMu.Unlock()
	t.readOnly = true
}

// handOut returns o as the tree hands out an object it keeps in, or
// takes from, its BuildCache: a copy, unless the caller promised to only
// read it (ReadOnly).
func (t *Tree) handOut(o Object) Object {
	t.memoMu.Lock()
	shared := t.readOnly
	t.memoMu.Unlock()
	if shared {
		return o
	}
	return o.copied()
}

// buildCache returns the cache UseCache set, if any.
func (t *Tree) buildCache() *BuildCache {
	t.memoMu.Lock()
	defer t.memoMu.Unlock()
	return t.cache
}
