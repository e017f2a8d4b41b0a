package reconcile

// Release forgets what the Reconciler keeps of the target between calls:
// the objects of the last apply (or Observe), the comparisons of the seen
// cache and the inventory last read, so that a process that stops working
// on the target (another replica owns it now) holds nothing of its
// content. Nothing is lost that
// matters: the next Apply or Observe records the desired state again, and
// the seen cache is seeded again from the target's inventory at the next
// drift check. Call it when no Monitor, Watch, Apply or Heal of the
// Reconciler runs.
func (r *Reconciler) Release() {
	r.mu.Lock()
	r.last, r.lastRev, r.hasApply = nil, "", false
	r.mu.Unlock()
	r.seen.clear()
	r.inventories.clear()
	r.keyMu.Lock()
	r.seeded = false
	r.keyMu.Unlock()
}

// Holds tells how many objects the Reconciler keeps: those of the last
// apply and the entries of its seen cache.
func (r *Reconciler) Holds() (desired, seen int) {
	r.mu.Lock()
	desired = len(r.last)
	r.mu.Unlock()
	r.seen.mu.Lock()
	defer r.seen.mu.Unlock()
	return desired, len(r.seen.entries)
}
