//go:build !linux

package kubetest

// reaper is a no-op outside Linux, where the watchdog's view of other
// processes' command lines (/proc) is not available.
type reaper struct{}

// startReaper returns a watchdog that does nothing.
func startReaper(string) (*reaper, error) {
	return &reaper{}, nil
}

// stop does nothing.
func (*reaper) stop() {}
