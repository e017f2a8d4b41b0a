package leader

// CrashOnStop makes Run end without giving its Leases back, as a replica
// that dies does.
func (s *Shards) CrashOnStop() { s.noGiveBack = true }
