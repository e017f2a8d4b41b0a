package reconcile

import "sync"

// seenCache remembers, per object, the desired content gitvend last
// compared with the live object, the resourceVersion the live object had
// then, and how it differed (nothing, when it matched). While content and
// version still match, the live object is exactly the one already
// compared, so an apply can report it unchanged and a drift check can
// reuse the comparison without a dry-run, and a watch event at that
// version is gitvend's own. Any write by anyone changes the
// resourceVersion, so a stale entry only costs a dry-run, never a missed
// change.
type seenCache struct {
	mu      sync.Mutex
	entries map[key]seenEntry
}

type seenEntry struct {
	digest          digest
	resourceVersion string
	changes         []FieldChange // nil when the live object matched
}

func newSeenCache() *seenCache {
	return &seenCache{entries: map[key]seenEntry{}}
}

// lookup returns how k differed from desired content d when last compared
// at resourceVersion rv; ok is false when that comparison is not known.
func (c *seenCache) lookup(k key, d digest, rv string) (changes []FieldChange, ok bool) {
	if rv == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || e.digest != d || e.resourceVersion != rv {
		return nil, false
	}
	return e.changes, true
}

// matches tells whether k was last found matching desired content d at
// resourceVersion rv.
func (c *seenCache) matches(k key, d digest, rv string) bool {
	changes, ok := c.lookup(k, d, rv)
	return ok && changes == nil
}

// own tells whether resourceVersion rv of k is the one gitvend last saw.
func (c *seenCache) own(k key, rv string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	return ok && rv != "" && e.resourceVersion == rv
}

// put records that k, at resourceVersion rv, differed from desired content
// d by changes (nil when it matched).
func (c *seenCache) put(k key, d digest, rv string, changes []FieldChange) {
	if rv == "" {
		c.forget(k)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[k] = seenEntry{digest: d, resourceVersion: rv, changes: changes}
}

func (c *seenCache) forget(k key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}
