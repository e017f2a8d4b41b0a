package quota

import (
	"fmt"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"gopkg.in/inf.v0"

	"github.com/gitvend/gitvend/internal/manifest"
)

// Memo remembers what each object adds to the use of its place (its
// contribution) by what determines it: the digest of the object's content
// (manifest.Object.Digest), its identity and the maxReplicas of the HPA
// that scales it. Measuring a repository again, as every pull request
// check on a base does, then reads only the objects it has not seen and
// adds up the others' contributions, with the same result as Measure.
// It holds the contributions of at most the size it is made with, the
// least recently used going first, and is safe for concurrent use.
type Memo struct {
	mu  sync.Mutex
	lru *simplelru.LRU[memoKey, *contribution]
}

// memoKey names a contribution. The ID is part of it because it is kept
// apart from the content and need not agree with it, and the kind, API
// group and name decide what an object counts and how its problems read;
// hpaMax because an HPA elsewhere in the items changes the pods of a
// workload whose content stays the same.
type memoKey struct {
	digest string
	id     manifest.ID
	hpaMax int64
}

// contribution is what one object adds to its place, as measureItem
// records it. It is never changed once made: adding it to a Use copies
// what the Use keeps.
type contribution struct {
	adds []addition
	// quotaName and hard are set for a ResourceQuota (hard is then not
	// nil, even with no readable values).
	quotaName string
	hard      map[string]*inf.Dec
	problems  []string
}

// addition is an amount to add to one resource.
type addition struct {
	name   string
	amount *inf.Dec
}

// NewMemo returns a Memo of the contributions of at most size objects.
func NewMemo(size int) *Memo {
	l, err := simplelru.NewLRU[memoKey, *contribution](size, nil)
	if err != nil {
		panic(fmt.Sprintf("quota memo of size %d: %v", size, err))
	}
	return &Memo{lru: l}
}

// Measure is the package's Measure, reading only the objects m does not
// remember; a nil Memo measures everything.
func (m *Memo) Measure(items []Item) Usage {
	if m == nil {
		return Measure(items)
	}
	scaled := scalers(items)
	found := m.recall(items, scaled)
	m.fill(items, scaled, found)
	u := Usage{}
	for i, it := range items {
		if p, ok := placeOf(it); ok {
			found[i].apply(u.at(p))
		}
	}
	return u
}

// key is the key of the contribution of it's object, in place p.
func key(it Item, p Place, scaled map[target]scaler) memoKey {
	o := it.Object
	return memoKey{digest: o.Digest(), id: o.ID, hpaMax: hpaMax(scaled, p, o)}
}

// recall returns the remembered contribution of each item's object, nil
// for those m does not hold or that have no place. The digests are
// taken before the lock, which recall then takes once.
func (m *Memo) recall(items []Item, scaled map[target]scaler) []*contribution {
	for _, it := range items {
		if _, ok := placeOf(it); ok {
			it.Object.Digest()
		}
	}
	found := make([]*contribution, len(items))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, it := range items {
		if p, ok := placeOf(it); ok {
			found[i], _ = m.lru.Get(key(it, p, scaled))
		}
	}
	return found
}

// fill measures the objects with a place that found has no contribution
// for, once for each key, and remembers them in m.
func (m *Memo) fill(items []Item, scaled map[target]scaler, found []*contribution) {
	var made map[memoKey]*contribution
	for i, it := range items {
		p, ok := placeOf(it)
		if !ok || found[i] != nil {
			continue
		}
		k := key(it, p, scaled)
		c, ok := made[k]
		if !ok {
			c = &contribution{}
			measureItem(&recorder{kept: c}, it.Object, k.hpaMax)
			if made == nil {
				made = map[memoKey]*contribution{}
			}
			made[k] = c
		}
		found[i] = c
	}
	if len(made) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, c := range made {
		m.lru.Add(k, c)
	}
}

// apply adds c to use. The amounts are added into the Use's own values
// and the hard values copied, so that the Usage shares nothing with c.
func (c *contribution) apply(use *Use) {
	for _, a := range c.adds {
		use.add(a.name, a.amount)
	}
	if c.hard != nil {
		hard := make(map[string]*inf.Dec, len(c.hard))
		for name, d := range c.hard {
			hard[name] = new(inf.Dec).Set(d)
		}
		use.Hard[c.quotaName] = hard
	}
	use.Problems = append(use.Problems, c.problems...)
}
