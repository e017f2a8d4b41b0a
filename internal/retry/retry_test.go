package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
)

// says is an error type that answers for itself.
type says struct{ terminal bool }

func (e says) Error() string  { return fmt.Sprintf("terminal=%v", e.terminal) }
func (e says) Terminal() bool { return e.terminal }

var errMarked = Terminal(errors.New("marked sentinel"))

func TestClassification(t *testing.T) {
	plain := errors.New("plain")
	tests := []struct {
		name         string
		err          error
		wantTerminal bool
		wantRetry    bool
	}{
		{"nil", nil, false, false},
		{"unmarked", plain, false, true},
		{"marked", Terminal(plain), true, false},
		{"marked, wrapped", fmt.Errorf("do: %w", Terminal(plain)), true, false},
		{"marked sentinel, wrapped", fmt.Errorf("do: %w", errMarked), true, false},
		{"method says terminal", fmt.Errorf("do: %w", says{true}), true, false},
		{"method says retryable", fmt.Errorf("do: %w", says{false}), false, true},
		{"mark above a retryable error", Terminal(says{false}), true, false},
		{"first answer decides", says{false}, false, true},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), false, true},
		{"cancelled", fmt.Errorf("do: %w", context.Canceled), false, true},
		{"deadline", context.DeadlineExceeded, false, true},
		{"joined, all terminal", errors.Join(Terminal(plain), says{true}), true, false},
		{"joined, one retryable", errors.Join(Terminal(plain), says{false}), false, true},
		{"joined, one unmarked", errors.Join(plain, Terminal(plain)), false, true},
		{"joined, nested", fmt.Errorf("sync: %w", errors.Join(fmt.Errorf("a: %w", errMarked), errors.Join(Terminal(plain)))), true, false},
		{"several %w, one unmarked", fmt.Errorf("%w: %w", errMarked, plain), false, true},
		{"several %w, marked as a whole", Terminal(fmt.Errorf("%w: %w", errMarked, plain)), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTerminal(tt.err); got != tt.wantTerminal {
				t.Errorf("IsTerminal(%v) = %v, want %v", tt.err, got, tt.wantTerminal)
			}
			if got := IsRetryable(tt.err); got != tt.wantRetry {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.wantRetry)
			}
		})
	}
}

func TestTerminalKeepsTheError(t *testing.T) {
	if Terminal(nil) != nil {
		t.Error("Terminal(nil) is not nil")
	}
	inner := says{false}
	err := fmt.Errorf("do: %w", Terminal(inner))
	if got, want := err.Error(), "do: terminal=false"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	var s says
	if !errors.As(err, &s) || s != inner {
		t.Errorf("errors.As did not find the marked error in %v", err)
	}
	if !errors.Is(fmt.Errorf("x: %w", errMarked), errMarked) {
		t.Error("a marked sentinel does not match itself")
	}
}
