package rollout

import (
	"sync"
	"time"
)

// syncTimes records when Run last synced each repository.
type syncTimes struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (s *syncTimes) note(repo string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]time.Time{}
	}
	s.m[repo] = at
}

// SyncPlan is when the rollout of a repository last synced and when it
// syncs next at the latest (a push, a kick or a window syncs sooner).
type SyncPlan struct {
	Last, Next time.Time
}

// NextSync tells when the repository of target last synced on this
// process and when its interval brings the next sync; false when this
// process has not synced it (it does not lead, or has just started).
func (r *Rollout) NextSync(target string) (SyncPlan, bool) {
	var repo string
	for _, t := range r.targets {
		if t.Name == target {
			repo = t.Repository
		}
	}
	if repo == "" {
		return SyncPlan{}, false
	}
	repo, _ = r.canonical(repo)
	r.synced.mu.Lock()
	last, ok := r.synced.m[repo]
	r.synced.mu.Unlock()
	if !ok {
		return SyncPlan{}, false
	}
	return SyncPlan{Last: last, Next: last.Add(r.opts.Interval)}, true
}

// Targets lists the names of the targets, in their configured order.
func (r *Rollout) Targets() []string {
	out := make([]string, 0, len(r.targets))
	for _, t := range r.targets {
		out = append(out, t.Name)
	}
	return out
}
