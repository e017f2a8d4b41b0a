package cost

import (
	"slices"

	"github.com/gitvend/gitvend/internal/delta"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Ledger is an estimate kept with what it was made of: each item's
// content digest and what it adds (a priced object, an HPA, nothing), so
// that the estimate of items that differ from it in a few objects, such as
// the head of a pull request against its base, is made from those
// objects alone (Memo.Revise), with the result Compute gives.
type Ledger struct {
	est     Estimate
	index   *delta.Index // the items by environment and ID
	entries []ledgerItem // by the index of the item estimated
	rows    []int        // the item of each of est.Objects
	scalers map[scaleKey][]int
	// workloads holds the workloads an HPA may scale by target, so that a
	// revision prices again those of the targets it changes, not every
	// entry.
	workloads map[scaleKey][]int
	prices    map[string]Prices // the prices of each environment
}

// scaleKey names a workload an HPA may scale: environment, namespace,
// kind and name.
type scaleKey struct{ env, ns, kind, name string }

func (s scaler) target() scaleKey { return scaleKey{s.environment, s.id.Namespace, s.kind, s.name} }

func (c *costed) target() scaleKey { return scaleKey{c.Environment, c.Namespace, c.Kind, c.Name} }

// ledgerItem is what one item of a Ledger adds.
type ledgerItem struct {
	present bool // false for an item without an object
	// scaler is set for an HPA; target for an HPA and for a workload an
	// HPA may scale (costed.scalable).
	scaler    *scaler
	target    scaleKey
	hasTarget bool
}

// Ledger estimates items as Compute does and keeps what Revise needs.
func (m *Memo) Ledger(items []Item, prices func(environment string) Prices) *Ledger {
	priceOf := priceCache(prices)
	est, rows, scalers := m.compute(items, priceOf)
	l := &Ledger{est: est, index: delta.NewIndex(len(items)), entries: make([]ledgerItem, len(items)),
		rows: make([]int, len(rows)), scalers: map[scaleKey][]int{}, workloads: map[scaleKey][]int{}, prices: map[string]Prices{}}
	for i, it := range items {
		if it.Object == nil {
			continue
		}
		l.index.Add(i, it.Environment, it.Object)
		l.entries[i].present = true
		l.prices[it.Environment] = priceOf(it.Environment)
	}
	for _, s := range scalers {
		e := &l.entries[s.item]
		e.scaler, e.target, e.hasTarget = &s, s.target(), true
		l.scalers[e.target] = append(l.scalers[e.target], s.item)
	}
	for i := range rows {
		l.rows[i] = rows[i].item
		if rows[i].scalable {
			e := &l.entries[rows[i].item]
			e.target, e.hasTarget = rows[i].target(), true
			l.workloads[e.target] = append(l.workloads[e.target], rows[i].item)
		}
	}
	return l
}

// Estimate returns the estimate the ledger keeps; callers only read it.
func (l *Ledger) Estimate() Estimate { return l.est }

// Index returns the ledger's index of its items, for a ledger of the same
// items to share (quota.Memo.LedgerIndexed), so that one delta.Head
// matches a head against both once.
func (l *Ledger) Index() *delta.Index { return l.index }

// ItemObjects gives delta.NewHead the environment and object of each
// item.
func ItemObjects(items []Item) func(i int) (string, *manifest.Object) {
	return func(i int) (string, *manifest.Object) { return items[i].Environment, items[i].Object }
}

// revision is what Revise finds of items against a ledger.
type revision struct {
	l       *Ledger
	headAt  []int  // the head item of each ledger entry, -1 when none
	gone    []bool // ledger entries changed or left
	dirty   map[scaleKey]bool
	fresh   []costed // priced objects new or changed, unscaled
	scalers []scaler // HPAs new or changed
	envs    map[string]bool
}

// Revise estimates items as Compute does, from the ledger l of a set of
// items they mostly share, and returns the change from l's estimate as
// Compare does: only the objects that are new, changed (by content
// digest) or scaled by an HPA that is, are priced, scaled and compared
// again; the others keep their place and cost. Items that repeat an
// environment and ID, or environments whose prices moved, are estimated
// afresh.
//
// head matches items against l's index (delta.NewHead, with hints to
// where each item may be among those l was made of), and may be shared
// with other ledgers on the same index (Index); nil matches them without
// hints.
func (m *Memo) Revise(l *Ledger, items []Item, prices func(environment string) Prices, head *delta.Head) (Estimate, Change) {
	if l == nil || !l.index.Unique() {
		est := m.Compute(items, prices)
		if l == nil {
			return est, Compare(Estimate{}, est)
		}
		return est, Compare(l.est, est)
	}
	priceOf := priceCache(prices)
	if head == nil {
		head = delta.NewHead(len(items), ItemObjects(items), nil)
	}
	r, ok := m.diff(l, items, priceOf, head)
	if !ok {
		est := m.Compute(items, prices)
		return est, Compare(l.est, est)
	}
	r.rescale(m, items, priceOf)
	fresh := r.fresh
	slices.SortFunc(fresh, func(a, b costed) int { return compareKey(a.Environment, a.ID, b.Environment, b.ID) })
	// Merge the rows kept with the fresh ones, both in estimate order.
	merged := make([]*ObjectCost, 0, len(l.rows)+len(fresh))
	var left []ObjectCost // the ledger's rows that give way
	f := 0
	for i, item := range l.rows {
		if r.gone[item] {
			left = append(left, l.est.Objects[i])
			continue
		}
		kept := &l.est.Objects[i]
		for f < len(fresh) && compareKey(fresh[f].Environment, fresh[f].ID, kept.Environment, kept.ID) < 0 {
			merged = append(merged, &fresh[f].ObjectCost)
			f++
		}
		merged = append(merged, kept)
	}
	for ; f < len(fresh); f++ {
		merged = append(merged, &fresh[f].ObjectCost)
	}
	est := total(len(merged), func(i int) *ObjectCost { return merged[i] })
	est.Currency, est.Notes = currency(r.envs, priceOf)
	priced := make([]ObjectCost, len(fresh))
	for i := range fresh {
		priced[i] = fresh[i].ObjectCost
	}
	return est, compareObjects(l.est, est, left, priced)
}

// diff walks items against l: it prices what is new or changed and marks
// the ledger entries that changed or left, and the workloads whose
// scaling may have moved. False when items cannot be revised from l.
func (m *Memo) diff(l *Ledger, items []Item, priceOf func(string) Prices, head *delta.Head) (*revision, bool) {
	match, ok := head.Match(l.index)
	if !ok {
		return nil, false
	}
	r := &revision{l: l, headAt: match.HeadAt, gone: slices.Clone(match.Gone), dirty: map[scaleKey]bool{}, envs: map[string]bool{}}
	last := ""
	for i, it := range items {
		if it.Object == nil || (i > 0 && it.Environment == last) {
			continue
		}
		last = it.Environment
		if !r.envs[last] {
			r.envs[last] = true
			if p, ok := l.prices[last]; ok && p != priceOf(last) {
				return nil, false
			}
		}
	}
	for _, i := range match.Fresh {
		it := items[i]
		if s, ok := readScaler(it.Object, it.Environment); ok {
			s.item = i
			r.scalers = append(r.scalers, s)
			r.dirty[s.target()] = true
			continue
		}
		if c, ok := m.price(it, priceOf); ok {
			c.item = i
			r.fresh = append(r.fresh, c)
			if c.scalable {
				r.dirty[c.target()] = true
			}
		}
	}
	for at, e := range l.entries {
		if r.gone[at] && e.hasTarget {
			r.dirty[e.target] = true
		}
	}
	return r, true
}

// rescale prices again the unchanged workloads whose scaling may have
// moved, and scales every fresh workload by the HPAs of the head that
// target it, in the order Compute applies them.
func (r *revision) rescale(m *Memo, items []Item, priceOf func(string) Prices) {
	if len(r.dirty) == 0 {
		return
	}
	l := r.l
	for t := range r.dirty {
		for _, at := range l.workloads[t] {
			if r.gone[at] || l.entries[at].scaler != nil {
				continue
			}
			i := r.headAt[at]
			if c, ok := m.price(items[i], priceOf); ok {
				c.item = i
				r.fresh = append(r.fresh, c)
				r.gone[at] = true // its row gives way to the fresh one
			}
		}
	}
	byTarget := map[scaleKey][]scaler{}
	for t := range r.dirty {
		for _, at := range l.scalers[t] {
			if !r.gone[at] {
				byTarget[t] = append(byTarget[t], *l.entries[at].scaler)
			}
		}
	}
	for _, s := range r.scalers {
		byTarget[s.target()] = append(byTarget[s.target()], s)
	}
	for t, ss := range byTarget {
		slices.SortStableFunc(ss, func(a, b scaler) int { return compareKey(a.environment, a.id, b.environment, b.id) })
		byTarget[t] = ss
	}
	for i := range r.fresh {
		c := &r.fresh[i]
		if !c.scalable {
			continue
		}
		for _, s := range byTarget[c.target()] {
			if s.targets(c) {
				s.apply(c)
			}
		}
	}
}
