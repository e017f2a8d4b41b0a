package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/gitvend/gitvend/internal/check"
)

func runCheck(ctx context.Context, args []string, io streams) error {
	fs := newFlags("check", io.stderr)
	repoDir := fs.String("repo", "", "desired-state repository whose gitvend.yaml and policies/ apply (default: the nearest parent of the first PATH with gitvend.yaml)")
	baseDir := fs.String("base", "", "checkout of the base branch, to compute the cost change")
	format := fs.String("format", "text", "output format: "+strings.Join(check.Formats, ", "))
	impact := fs.Bool("impact", false, "judge the --base checkout with the base's rules and with this repository's policies/, policy settings, exceptions and blueprints; list what they newly deny or warn and what they stop denying, per environment (formats: "+strings.Join(check.ImpactFormats, ", ")+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *impact {
		return runImpact(ctx, *repoDir, *baseDir, *format, fs.Args(), io)
	}
	if !validFormat(*format) {
		return usageError("--format: unknown format %q; allowed: %s", *format, strings.Join(check.Formats, ", "))
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	if *repoDir == "" {
		*repoDir = repoOf(strings.TrimSuffix(paths[0], "/...") + "/x")
		if *repoDir == "" {
			*repoDir = "."
		}
	}
	logger := slog.New(slog.NewTextHandler(io.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	checker, err := check.New(ctx, *repoDir, logger)
	if err != nil {
		return &exitError{code: exitBadUse, err: err}
	}
	rep, err := checker.Check(ctx, paths, *baseDir)
	if err != nil {
		return &exitError{code: exitBadUse, err: err}
	}
	w, err := check.NewWriter(checker.Policies())
	if err != nil {
		return err
	}
	color := false
	if f, ok := io.stdout.(*os.File); ok && *format == "text" && os.Getenv("NO_COLOR") == "" {
		color = term.IsTerminal(int(f.Fd()))
	}
	if err := w.Write(io.stdout, rep, *format, color); err != nil {
		return err
	}
	switch {
	case len(rep.Errors) > 0:
		return silentExit(exitBadUse)
	case !rep.Passed:
		return silentExit(exitFailed)
	}
	return nil
}

func validFormat(f string) bool {
	for _, v := range check.Formats {
		if v == f {
			return true
		}
	}
	return false
}
