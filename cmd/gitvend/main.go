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

// silentExit ends with code after the command has printed its own output.
type silentExit int

func (s silentExit) Error() string { return fmt.Sprintf("exit %d", int(s)) }

// streams are the standard streams a command uses.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

const usage = `gitvend turns a Git repository into a self-service counter for Kubernetes infrastructure.

Usage:
  gitvend serve    --config FILE                                 the GitHub App: webhooks, resync, apply, drift
  gitvend render   [--catalog DIR] --request FILE [--out DIR]    render one request (stdout or DIR)
  gitvend render   --verify [--repo DIR]                         exit 1 when a rendered file is stale
  gitvend render   --write  [--repo DIR]                         re-render every request in place
  gitvend check    [--repo DIR] [--base DIR] [--format text|json|markdown|github|sarif] PATH...
  gitvend check    --impact --base DIR [--repo DIR] [--format text|json|markdown]
                                                                 what this repository's rules change in judging DIR
  gitvend apply    --config FILE --target NAME [--repo DIR] [--dry-run] [--format text|json]
                                                                 apply an environment checkout to a target
  gitvend drift    --config FILE --target NAME [--repo DIR] [--format text|json]
                                                                 exit 3 when the target differs from Git
  gitvend forms    [--catalog DIR] [--repo DIR] --out DIR        one GitHub issue form per blueprint
  gitvend version

Exit codes: 0 ok; 1 policy denied (or, with --impact, newly denied) or verify failed; 2 bad input or usage; 3 drift found.
`

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

// run dispatches to a command.
func run(ctx context.Context, args []string, io streams) error {
	if len(args) == 0 {
		fmt.Fprint(io.stderr, usage)
		return silentExit(exitBadUse)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "render":
		return runRender(ctx, rest, io)
	case "check":
		return runCheck(ctx, rest, io)
	case "forms":
		return runForms(ctx, rest, io)
	case "serve":
		return runServe(ctx, rest, io)
	case "apply":
		return runApply(ctx, rest, io)
	case "drift":
		return runDrift(ctx, rest, io)
	case "version":
		fmt.Fprintln(io.stdout, "gitvend", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(io.stdout, usage)
		return nil
	}
	fmt.Fprint(io.stderr, usage)
	return usageError("unknown command %q", cmd)
}
