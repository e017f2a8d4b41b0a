package check

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/manifest"
)

// buildCacheSize is how many environment builds a caching Checker
// remembers: a few environments of a few bases and their pull requests.
const buildCacheSize = 64

// folderCacheSize is how many folder builds a caching Checker remembers
// (manifest.BuildCache): every request folder of a repository of 10,000
// requests, each under the key of its files and the key of its stamp,
// with room for the folders its pull requests change. Folders are keyed
// by their content, so a base and its pull requests share them.
const folderCacheSize = 50_000

// buildCache remembers environment builds by the digest of every file
// the build may read (manifest.Tree.Folders and Digest), so that an
// environment a pull request leaves alone is built once, for its base,
// and not again for every pull request on that base. An environment a
// pull request touches is built again from the folders it remembers
// (folders): only the folders the pull request changes are read as
// manifests again.
type buildCache struct {
	folders *manifest.BuildCache

	mu    sync.Mutex
	lru   *simplelru.LRU[string, *keptBuild]
	hits  int // builds answered from the cache
	built int // builds made (and kept, when they could be)
}

func newBuildCache(size int) *buildCache {
	l, err := simplelru.NewLRU[string, *keptBuild](size, nil)
	if err != nil {
		panic(fmt.Sprintf("environment build cache of size %d: %v", size, err))
	}
	return &buildCache{lru: l, folders: manifest.NewBuildCache(folderCacheSize)}
}

// Builds tells how many environment builds a caching Checker made and
// how many it took from what it remembers instead; 0 and 0 for others.
func (c *Checker) Builds() (built, remembered int) {
	if c.builds == nil {
		return 0, 0
	}
	c.builds.mu.Lock()
	defer c.builds.mu.Unlock()
	return c.builds.built, c.builds.hits
}

// buildEnvironment builds env from repo as desired.BuildEnvironment does,
// and returns the folders the build reads. With a cache, a build whose
// folders hold the same files as one built before is not built again:
// its objects are those of the earlier build, named in repo.
func buildEnvironment(repo *manifest.Tree, env config.Environment, cache *buildCache) ([]manifest.Object, []string, error) {
	folders, err := repo.Folders(env.Root)
	if err != nil {
		// The build reports the same problem with its file and line.
		objs, err := desired.BuildEnvironment(repo, env)
		return objs, nil, err
	}
	if cache == nil {
		objs, err := desired.BuildEnvironment(repo, env)
		return objs, folders, err
	}
	repo.UseCache(cache.folders)
	digest, err := repo.Digest(folders)
	if err != nil {
		return nil, folders, err
	}
	key := env.Name + "\x00" + env.Root + "\x00" + digest
	cache.mu.Lock()
	kept, ok := cache.lru.Get(key)
	if ok {
		cache.hits++
	}
	cache.mu.Unlock()
	if ok {
		return kept.in(repo.Dir(), repo.Path), folders, nil
	}
	objs, err := desired.BuildEnvironment(repo, env)
	cache.mu.Lock()
	cache.built++
	cache.mu.Unlock()
	if err != nil {
		return objs, folders, err // problems are reported again each time
	}
	keep := make([]manifest.Object, len(objs))
	for i, o := range objs {
		rel, err := filepath.Rel(repo.Dir(), o.File)
		if err != nil {
			return objs, folders, nil // not kept: its file cannot be named again
		}
		o.File = rel
		o.Digest() // kept with the build, and with every copy of it
		keep[i] = o
	}
	cache.mu.Lock()
	cache.lru.Add(key, &keptBuild{objs: keep})
	cache.mu.Unlock()
	return objs, folders, nil
}

// keptBuild is an environment build the cache keeps: its objects with
// files relative to the repository, and the same named in the checkout
// they were last handed out in, which a checkout folder written over for
// every check asks for again.
type keptBuild struct {
	objs []manifest.Object

	mu    sync.Mutex
	dir   string
	named []manifest.Object
}

// in returns copies of the build's objects with their files named by
// path in the checkout dir.
func (k *keptBuild) in(dir string, path func(string) string) []manifest.Object {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.named == nil || k.dir != dir {
		k.named = make([]manifest.Object, len(k.objs))
		for i, o := range k.objs {
			o.File = path(o.File)
			k.named[i] = o
		}
		k.dir = dir
	}
	return slices.Clone(k.named)
}
