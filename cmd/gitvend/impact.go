package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"github.com/gitvend/gitvend/internal/check"
)

// runImpact is `gitvend check --impact`: the base checkout in baseDir
// judged with its own rules and with those of the repository in repoDir
// (or the one PATH given, or the current directory), whose policies run in
// the policy sandbox. It exits 1 when the head's rules newly deny
// anything, and 2 when they cannot be used (a Rego file that does not
// parse, wrong settings, a policy past its time or memory).
func runImpact(ctx context.Context, repoDir, baseDir, format string, paths []string, io streams) error {
	if baseDir == "" {
		return usageError("--impact needs --base DIR, a checkout of the base branch to judge")
	}
	if !slices.Contains(check.ImpactFormats, format) {
		return usageError("--format: unknown format %q for --impact; allowed: %s", format, strings.Join(check.ImpactFormats, ", "))
	}
	switch {
	case len(paths) > 1:
		return usageError("--impact judges one repository: give at most one PATH (or --repo), got %d", len(paths))
	case len(paths) == 1 && repoDir != "" && paths[0] != repoDir:
		return usageError("--impact judges one repository: give --repo or a PATH, not both")
	case len(paths) == 1:
		repoDir = paths[0]
	case repoDir == "":
		repoDir = "."
	}
	logger := slog.New(slog.NewTextHandler(io.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rep, err := check.Impact(ctx, baseDir, repoDir, check.ImpactOptions{Logger: logger})
	if err != nil {
		return &exitError{code: exitBadUse, err: err}
	}
	if err := check.WriteImpact(io.stdout, rep, format); err != nil {
		return err
	}
	return verdictExit(len(rep.Errors) > 0, rep.Passed)
}
