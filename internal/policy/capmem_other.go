//go:build !linux

package policy

import "runtime/debug"

// capMemory sets Go's soft memory limit at three quarters of limit; the
// hard cap on the address space is set on Linux only.
func capMemory(limit int64) error {
	if limit > 0 {
		debug.SetMemoryLimit(limit * 3 / 4)
	}
	return nil
}
