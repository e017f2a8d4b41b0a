package reconcile

import "sync"

// seenCache remembers, per object, the desired content gitvend last
// compared with the live object, the live object's mark then (its
// resourceVersion and metadata fingerprint), and how it differed
// (nothing, when it matched). While content and version still match, the
// live object is exactly the one already compared, so an apply can report
// it unchanged and a drift check can reuse the comparison without a
// dry-run, and a watch event at that version is gitvend's own. Any write
// by anyone changes the resourceVersion, so a stale entry only costs a
// dry-run, never a missed change. A match (and only a match) also holds
// while the metadata fingerprint is the same although the resourceVersion
// moved on: see liveMark.
//
// The matches outlive the process in the target's inventory (see
// record), so that a new Reconciler starts with them.
type seenCache struct {
	mu      sync.Mutex
	entries map[key]seenEntry
}

type seenEntry struct {
	digest  digest
	live    liveMark
	changes []FieldChange // nil when the live object matched
}

func newSeenCache() *seenCache {
	return &seenCache{entries: map[key]seenEntry{}}
}

// lookup returns how k differed from desired content d when last
// compared with the live object now marked live; ok is false when that
// comparison is not known.
func (c *seenCache) lookup(k key, d digest, live liveMark) (changes []FieldChange, ok bool) {
	if live.rv == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	switch {
	case !ok || e.digest != d:
		return nil, false
	case e.live.rv == live.rv:
		return e.changes, true
	case e.changes == nil && e.live.sameFields(live):
		// Written since, but not to anything gitvend set (see liveMark).
		return nil, true
	}
	return nil, false
}

// matches tells whether k was last found matching desired content d, and
// the live object marked live is still the one found matching.
func (c *seenCache) matches(k key, d digest, live liveMark) bool {
	changes, ok := c.lookup(k, d, live)
	return ok && changes == nil
}

// match returns the mark of the live object k was last found matching
// desired content d at; ok is false when it was not.
func (c *seenCache) match(k key, d digest) (liveMark, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || e.digest != d || e.changes != nil || e.live.rv == "" {
		return liveMark{}, false
	}
	return e.live, true
}

// offer records that k matched d at live, unless k already has an entry:
// what this process compared itself is never replaced by a record read
// back from the inventory.
func (c *seenCache) offer(k key, d digest, live liveMark) {
	if live.rv == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok {
		c.entries[k] = seenEntry{digest: d, live: live}
	}
}

// own tells whether resourceVersion rv of k is the one gitvend last saw.
func (c *seenCache) own(k key, rv string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	return ok && rv != "" && e.live.rv == rv
}

// put records that k, marked live, differed from desired content d by
// changes (nil when it matched).
func (c *seenCache) put(k key, d digest, live liveMark, changes []FieldChange) {
	if live.rv == "" {
		c.forget(k)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[k] = seenEntry{digest: d, live: live, changes: changes}
}

func (c *seenCache) forget(k key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}

// clear forgets every entry.
func (c *seenCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[key]seenEntry{}
}
