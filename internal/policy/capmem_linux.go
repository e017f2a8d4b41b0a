package policy

import (
	"bytes"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"syscall"
)

// capMemory bounds the process's memory: Go's soft limit at three
// quarters of limit, and a hard cap on its address space of what it maps
// already plus limit, past which an allocation fails and the runtime
// stops the process.
func capMemory(limit int64) error {
	if limit <= 0 {
		return nil
	}
	debug.SetMemoryLimit(limit * 3 / 4)
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return fmt.Errorf("cap memory: %w", err)
	}
	fields := bytes.Fields(statm)
	if len(fields) == 0 {
		return fmt.Errorf("cap memory: /proc/self/statm is empty")
	}
	pages, err := strconv.ParseInt(string(fields[0]), 10, 64)
	if err != nil {
		return fmt.Errorf("cap memory: /proc/self/statm: %w", err)
	}
	size := uint64(pages*int64(os.Getpagesize()) + limit)
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: size, Max: size}); err != nil {
		return fmt.Errorf("cap memory: set the address space limit: %w", err)
	}
	return nil
}
