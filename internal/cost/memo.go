package cost

import (
	"fmt"
	"slices"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/gitvend/gitvend/internal/manifest"
)

// Memo remembers the estimates of objects by the digest of their content
// (manifest.Object.Digest) and the prices they were estimated at, so that
// estimating a repository again, as every pull request check on a base
// does, prices only the objects it has not seen. It is safe for
// concurrent use.
type Memo struct {
	mu  sync.Mutex
	lru *simplelru.LRU[memoKey, memoEntry]
}

// memoKey names an estimate: the object's content and the prices.
type memoKey struct {
	digest string
	prices Prices
}

// memoEntry is what estimateObject returned.
type memoEntry struct {
	c  costed
	ok bool
}

// NewMemo returns a Memo of the estimates of at most size objects.
func NewMemo(size int) *Memo {
	l, err := simplelru.NewLRU[memoKey, memoEntry](size, nil)
	if err != nil {
		panic(fmt.Sprintf("cost memo of size %d: %v", size, err))
	}
	return &Memo{lru: l}
}

// estimate is estimateObject, remembered in m when m is not nil. The
// notes handed out are clipped: the HPA that scales a workload appends
// to its copy's, never to the kept ones.
func (m *Memo) estimate(obj *manifest.Object, p Prices) (costed, bool) {
	if m == nil {
		return estimateObject(obj, p)
	}
	key := memoKey{digest: obj.Digest(), prices: p}
	m.mu.Lock()
	e, found := m.lru.Get(key)
	m.mu.Unlock()
	if !found {
		e.c, e.ok = estimateObject(obj, p)
		m.mu.Lock()
		m.lru.Add(key, e)
		m.mu.Unlock()
	}
	e.c.Notes = slices.Clip(e.c.Notes)
	return e.c, e.ok
}
