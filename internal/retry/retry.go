package retry

// terminal marks the error it wraps as terminal.
type terminal struct{ err error }

// Error is the wrapped error's message.
func (t *terminal) Error() string { return t.err.Error() }

// Unwrap returns the wrapped error.
func (t *terminal) Unwrap() error { return t.err }

// Terminal is always true.
func (t *terminal) Terminal() bool { return true }

// Terminal marks err as terminal: trying the same thing again cannot
// succeed. The message and the chain (errors.Is, errors.As) are err's.
// Terminal(nil) is nil.
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &terminal{err: err}
}

// classified is implemented by error types that say for themselves
// whether they are terminal.
type classified interface{ Terminal() bool }

// IsTerminal reports whether err is terminal: the first error in its chain
// that is marked by Terminal or has a Terminal() bool method says so, and an
// error joining several is terminal only when all of them are. Unmarked
// errors and nil are not terminal.
func IsTerminal(err error) bool {
	for err != nil {
		if c, ok := err.(classified); ok {
			return c.Terminal()
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			return allTerminal(u.Unwrap())
		default:
			return false
		}
	}
	return false
}

// allTerminal reports whether every non-nil error of errs is terminal and
// there is at least one.
func allTerminal(errs []error) bool {
	n := 0
	for _, e := range errs {
		if e == nil {
			continue
		}
		if !IsTerminal(e) {
			return false
		}
		n++
	}
	return n > 0
}

// IsRetryable reports whether err is worth another attempt: it is not nil
// and not terminal. Unmarked errors are retryable; callers bound their
// attempts and stop when their own context is done.
func IsRetryable(err error) bool {
	return err != nil && !IsTerminal(err)
}
