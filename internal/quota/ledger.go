package quota

import (
	"slices"

	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/delta"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Ledger is a Usage kept with what each item added to it, so that the
// usage of items that differ from it in a few objects, such as the head
// of a pull request against its base, is made from the places those
// objects lie in alone (Memo.Revise), with Measure's result.
type Ledger struct {
	use     Usage
	index   *delta.Index  // the items by environment and ID
	entries []ledgerEntry // by the index of the item measured
	hpas    map[target][]int
	scaled  map[target]scaler
	// byPlace and byWorkload hold the entries with a place, by place
	// and by the workload they are, so that a revision visits the
	// places and workloads it changes, not every entry.
	byPlace    map[Place][]int
	byWorkload map[target][]int
}

// ledgerEntry is what one item of a Ledger adds.
type ledgerEntry struct {
	present  bool   // false for an item without an object
	workload target // the item as an HPA would name it
	placed   bool   // false for an object without a namespace
	place    Place
	c        *contribution
	hpa      bool // an HPA scaling hpaOf
	hpaOf    target
}

// Ledger measures items as Measure does and keeps what Revise needs. The
// Usage it holds is read, never changed, by those it hands it to.
func (m *Memo) Ledger(items []Item) *Ledger { return m.LedgerIndexed(items, nil) }

// LedgerIndexed is Ledger with x, an index of the same items made by
// another ledger (cost.Ledger.Index), shared instead of made again; nil
// makes one.
func (m *Memo) LedgerIndexed(items []Item, x *delta.Index) *Ledger {
	if m == nil {
		m = NewMemo(len(items) + 1) // for this ledger alone
	}
	scaled := scalers(items)
	found := m.recall(items, scaled)
	m.fill(items, scaled, found)
	shared := x != nil && x.Len() == len(items)
	if !shared {
		x = delta.NewIndex(len(items))
	}
	l := &Ledger{use: Usage{}, index: x, entries: make([]ledgerEntry, len(items)),
		hpas: map[target][]int{}, scaled: scaled, byPlace: map[Place][]int{}, byWorkload: map[target][]int{}}
	for i, it := range items {
		o := it.Object
		if o == nil {
			continue
		}
		if !shared {
			l.index.Add(i, it.Environment, o)
		}
		e := ledgerEntry{present: true, workload: target{Place{it.Environment, o.Namespace}, o.Kind, o.Name}}
		if t, _, ok := readHPA(it); ok {
			e.hpa, e.hpaOf = true, t
			l.hpas[t] = append(l.hpas[t], i)
		}
		if p, ok := placeOf(it); ok {
			e.placed, e.place, e.c = true, p, found[i]
			found[i].apply(l.use.at(p))
			l.byPlace[p] = append(l.byPlace[p], i)
			l.byWorkload[e.workload] = append(l.byWorkload[e.workload], i)
		}
		l.entries[i] = e
	}
	return l
}

// Usage returns the usage the ledger keeps; callers only read it.
func (l *Ledger) Usage() Usage { return l.use }

// quotaRevision is what Revise finds of items against a ledger.
type quotaRevision struct {
	l       *Ledger
	baseOf  []int  // the ledger entry of each head item unchanged, -1 when none
	headAt  []int  // the head item of each ledger entry, -1 when none
	gone    []bool // ledger entries changed, left or scaled anew
	fresh   []int  // head items new or changed
	touched map[Place]bool
	scaled  map[target]scaler // the head's, for the targets in rescaled
	moved   map[target]bool   // targets whose HPAs changed
}

// Revise measures items as Measure does, from the ledger l of a set of
// items they mostly share: only the places of objects that are new,
// changed (by content digest), gone, or scaled by an HPA that changed are
// added up again; the others are the ledger's, shared with it (callers
// only read them). Items that repeat an environment and ID are measured
// afresh.
//
// head matches items against l's index (delta.NewHead, with hints to
// where each item may be among those l was made of), and may be shared
// with the cost ledger whose index l shares (LedgerIndexed); nil matches
// them without hints.
func (m *Memo) Revise(l *Ledger, items []Item, head *delta.Head) Usage {
	if l == nil || !l.index.Unique() {
		return m.Measure(items)
	}
	if head == nil {
		head = delta.NewHead(len(items), cost.ItemObjects(items), nil)
	}
	r, ok := diffItems(l, items, head)
	if !ok {
		return m.Measure(items)
	}
	r.rescale(items)
	u := make(Usage, len(l.use))
	for p, use := range l.use {
		if !r.touched[p] {
			u[p] = use
		}
	}
	// The head's items at each touched place, in the head's order: those
	// the ledger holds unchanged and those new or changed.
	byPlace := make(map[Place][]int, len(r.touched))
	for p := range r.touched {
		for _, at := range l.byPlace[p] {
			if i := r.headAt[at]; i >= 0 && r.baseOf[i] == at {
				byPlace[p] = append(byPlace[p], i)
			}
		}
	}
	for _, i := range r.fresh {
		if p, ok := placeOf(items[i]); ok {
			byPlace[p] = append(byPlace[p], i)
		}
	}
	for p, idx := range byPlace {
		slices.Sort(idx)
		use := u.at(p)
		for _, i := range idx {
			if at := r.baseOf[i]; at >= 0 && !r.gone[at] {
				l.entries[at].c.apply(use)
			} else {
				it := items[i]
				m.contributionOf(it, key(it, p, r.headScaled(p, it.Object))).apply(use)
			}
		}
	}
	return u
}

// diffItems walks items against l: which are new or changed, which
// ledger entries changed or left, and the places they lie in. False
// when items cannot be revised from l.
func diffItems(l *Ledger, items []Item, head *delta.Head) (*quotaRevision, bool) {
	match, ok := head.Match(l.index)
	if !ok {
		return nil, false
	}
	r := &quotaRevision{l: l, baseOf: match.Same, headAt: match.HeadAt, gone: slices.Clone(match.Gone), fresh: match.Fresh,
		touched: map[Place]bool{}, moved: map[target]bool{}}
	for _, i := range r.fresh {
		if p, ok := placeOf(items[i]); ok {
			r.touched[p] = true
		}
		if t, _, ok := readHPA(items[i]); ok {
			r.moved[t] = true
		}
	}
	for at, e := range l.entries {
		if !r.gone[at] {
			continue
		}
		if e.placed {
			r.touched[e.place] = true
		}
		if e.hpa {
			r.moved[e.hpaOf] = true
		}
	}
	return r, true
}

// rescale works out the head's scaler of every target whose HPAs
// changed, and counts the unchanged workloads they scale as changed, so
// that their places are added up again.
func (r *quotaRevision) rescale(items []Item) {
	if len(r.moved) == 0 {
		return
	}
	l := r.l
	// The HPAs of each moved target in the head, in the head's order.
	byTarget := map[target][]int{}
	for t := range r.moved {
		for _, at := range l.hpas[t] {
			if !r.gone[at] {
				byTarget[t] = append(byTarget[t], r.headAt[at])
			}
		}
	}
	for _, i := range r.fresh {
		if t, _, ok := readHPA(items[i]); ok {
			byTarget[t] = append(byTarget[t], i)
		}
	}
	r.scaled = map[target]scaler{}
	for t, idx := range byTarget {
		slices.Sort(idx)
		for _, i := range idx {
			_, s, _ := readHPA(items[i])
			r.scaled[t] = stronger(r.scaled, t, s)
		}
	}
	for t := range r.moved {
		for _, at := range l.byWorkload[t] {
			if !r.gone[at] {
				r.gone[at] = true
				r.touched[l.entries[at].place] = true
			}
		}
	}
}

// headScaled returns the scalers of the head that apply to o in p.
func (r *quotaRevision) headScaled(p Place, o *manifest.Object) map[target]scaler {
	if r.moved[target{p, o.Kind, o.Name}] {
		return r.scaled
	}
	return r.l.scaled
}

// contributionOf returns what the object of it adds to its place, under
// its key k: remembered in m, or measured and remembered.
func (m *Memo) contributionOf(it Item, k memoKey) *contribution {
	if m != nil {
		m.mu.Lock()
		c, ok := m.lru.Get(k)
		m.mu.Unlock()
		if ok {
			return c
		}
	}
	c := &contribution{}
	measureItem(&recorder{kept: c}, it.Object, k.hpaMax)
	if m != nil {
		m.mu.Lock()
		m.lru.Add(k, c)
		m.mu.Unlock()
	}
	return c
}
