package main

import "testing"

func TestLockOf(t *testing.T) {
	for key, want := range map[string]struct {
		repo string
		lock bool
	}{
		"acme/infra":        {"acme/infra", true}, // resync
		"acme/infra#12":     {"acme/infra", true},
		"acme/infra@checks": {"acme/infra", true},
		"acme/infra@push":   {"acme/infra", false},
		"Acme/in.fra#3":     {"Acme/in.fra", true},
	} {
		repo, lock := lockOf(key)
		if repo != want.repo || lock != want.lock {
			t.Errorf("lockOf(%q) = %q, %v; want %q, %v", key, repo, lock, want.repo, want.lock)
		}
	}
}
