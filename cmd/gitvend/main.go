// Command gitvend turns a Git repository into a self-service counter for
// Kubernetes infrastructure. See `gitvend help` for its commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gitvend/gitvend/internal/policy"
)

// Exit codes scripts rely on.
const (
	exitOK      = 0
	exitFailed  = 1 // policy denied, verify failed
	exitBadUse  = 2 // bad input or usage
	exitDrifted = 3 // drift found
)

// exitError carries the exit code a command wants.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is bad input or usage: exit code 2.
func usageError(format string, args ...any) error {
	return &exitError{code: exitBadUse, err: fmt.Errorf(format, args...)}
}

// badInput marks err as bad input or usage: exit code 2.
func badInput(err error) error { return &exitError{code: exitBadUse, err: err} }

// silentExit ends with code after the command has printed its own output.
type silentExit int

func (s silentExit) Error() string { return fmt.Sprintf("exit %d", int(s)) }

// streams are the standard streams a command uses.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func main() {
	policy.SandboxMain() // when started as the policy sandbox, serve and exit
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], streams{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err (unless the command printed already) and maps it to
// an exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var s silentExit
	if errors.As(err, &s) {
		return int(s)
	}
	fmt.Fprintln(stderr, "gitvend:", err)
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return exitFailed
}

// run parses args and runs the command they name.
func run(ctx context.Context, args []string, io streams) error {
	root := newRootCmd(io)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return nil
	}
	var e *exitError
	var s silentExit
	if errors.As(err, &e) || errors.As(err, &s) {
		return err
	}
	// Everything a command decides itself is typed (see action); what is
	// left comes from parsing: an unknown command or flag, a bad value or
	// a wrong number of arguments.
	if strings.HasPrefix(err.Error(), "unknown command") {
		err = fmt.Errorf("%w\nRun 'gitvend --help' for the commands", err)
	}
	return badInput(err)
}
