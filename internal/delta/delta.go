// Package delta matches the objects of a head, such as a pull request's,
// against those of its base by environment and ID and by content digest,
// so that what is computed per object of the base (a cost, a use of a
// quota) is computed again only for the objects the head adds, changes or
// removes.
package delta

import "github.com/gitvend/gitvend/internal/manifest"

// Key names an object: its environment and ID.
type Key struct {
	Env string
	ID  manifest.ID
}

// Index holds the objects of a base by key, each under its index among
// the base's objects, with its content digest.
type Index struct {
	at      map[Key]int
	entries []entry // by the index of the object
	// unique is false when two objects share a key: they cannot be told
	// apart, and no head is matched against the index.
	unique bool
}

// entry is one object of the base.
type entry struct {
	present bool // false where the base has no object
	key     Key
	digest  string
}

// NewIndex returns an index for a base of n objects.
func NewIndex(n int) *Index {
	return &Index{at: make(map[Key]int, n), entries: make([]entry, n), unique: true}
}

// Add records o, of environment env, as the base's object i.
func (x *Index) Add(i int, env string, o *manifest.Object) {
	k := Key{env, o.ID}
	if _, twice := x.at[k]; twice {
		x.unique = false
	}
	x.at[k] = i
	x.entries[i] = entry{present: true, key: k, digest: o.Digest()}
}

// Unique tells whether no two objects of the base share a key.
func (x *Index) Unique() bool { return x.unique }

// Len is the number of objects of the base, present or not.
func (x *Index) Len() int { return len(x.entries) }

// find returns the index of the base object of k, trying hint[i] first.
func (x *Index) find(k Key, i int, hint []int) (int, bool) {
	if i < len(hint) {
		if at := hint[i]; at >= 0 && at < len(x.entries) && x.entries[at].present && x.entries[at].key == k {
			return at, true
		}
	}
	at, ok := x.at[k]
	return at, ok
}

// Match is a head matched against an Index.
type Match struct {
	// Same holds, for each head object, the index of the base object it
	// is unchanged from (same key and digest), -1 for none.
	Same []int
	// HeadAt holds, for each base object, the index of the head object
	// of its key, -1 for none.
	HeadAt []int
	// Fresh lists the head objects that are new or changed, in order.
	Fresh []int
	// Gone tells, for each base object, whether it changed or left.
	Gone []bool
}

// Match matches the head's n objects, object(i) giving the environment
// and object of each (nil for none), against the base. hint, when not
// nil, names for each head object the index of the base object it may
// be (-1 for none); a base object found there under its key is not
// looked up. False when the base or the head holds a key twice.
func (x *Index) Match(n int, object func(i int) (string, *manifest.Object), hint []int) (*Match, bool) {
	if !x.unique {
		return nil, false
	}
	m := &Match{Same: make([]int, n), HeadAt: make([]int, len(x.entries)), Gone: make([]bool, len(x.entries))}
	for i := range m.HeadAt {
		m.HeadAt[i] = -1
	}
	added := map[Key]bool{}
	for i := range n {
		m.Same[i] = -1
		env, o := object(i)
		if o == nil {
			continue
		}
		k := Key{env, o.ID}
		if at, ok := x.find(k, i, hint); ok {
			if m.HeadAt[at] >= 0 {
				return nil, false // the key repeats
			}
			m.HeadAt[at] = i
			if x.entries[at].digest == o.Digest() {
				m.Same[i] = at
				continue
			}
			m.Gone[at] = true
		} else {
			if added[k] {
				return nil, false
			}
			added[k] = true
		}
		m.Fresh = append(m.Fresh, i)
	}
	for at, e := range x.entries {
		if e.present && m.HeadAt[at] < 0 {
			m.Gone[at] = true
		}
	}
	return m, true
}

// Head is a head to match against the index of a base, matched once for
// all the ledgers made of that base's objects with the same index.
type Head struct {
	n      int
	object func(i int) (string, *manifest.Object)
	hint   []int
	x      *Index // the index matched against, nil before the first
	m      *Match
	ok     bool
}

// NewHead is the head of n objects, with Match's object and hint.
func NewHead(n int, object func(i int) (string, *manifest.Object), hint []int) *Head {
	return &Head{n: n, object: object, hint: hint}
}

// Match is x.Match of the head, worked out on the first call for x. Its
// result is shared: callers only read it, and copy Gone to change it.
func (h *Head) Match(x *Index) (*Match, bool) {
	if h.x != x {
		h.x = x
		h.m, h.ok = x.Match(h.n, h.object, h.hint)
	}
	return h.m, h.ok
}
