package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/config"
)

// checkOptions are the flags of gitvend check.
type checkOptions struct {
	repo, base, format string
	impact             bool
}

func newCheckCmd(io streams) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check [flags] [PATH...]",
		Short: "Check manifests against the policies and estimate their cost",
		Long: `Check Kubernetes manifests against the repository's policies (OPA/Rego) and price them with
its cost model; with --base, also the cost change against the base branch's checkout.

With --impact, judge the --base checkout with the base's rules and with this repository's
policies/, policy settings, exceptions and blueprints, and list what they newly deny or warn and
what they stop denying, per environment.

Finding no Kubernetes object in the paths given is an error: the paths are most likely wrong.`,
		Annotations: map[string]string{
			annArgs: `  PATH  a file or a directory of manifests; DIR/... reads DIR recursively (default ".").
        With --impact, at most one PATH: the repository whose rules are judged.`,
			annExits: strings.Join([]string{exitLineOK,
				"  1  a policy denied (with --impact: newly denies)",
				exitLineBadUse}, "\n"),
		},
		Example: `  gitvend check requests/...
  gitvend check requests/... --base ../main -o json
  gitvend check --repo . -o sarif requests/... > gitvend.sarif
  gitvend check --impact --base ../main .`,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), o, args, io)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.repo, "repo", "", "desired-state repository whose gitvend.yaml and policies/ apply (default: the nearest parent of the first PATH with gitvend.yaml)")
	f.StringVar(&o.base, "base", "", "checkout of the base branch, to compute the cost change")
	f.BoolVar(&o.impact, "impact", false, "judge the --base checkout with this repository's rules and list what they change (formats: "+strings.Join(check.ImpactFormats, ", ")+")")
	addFormatFlag(cmd, &o.format, check.Formats, "output format")
	dirFlag(cmd, "repo", "base")
	return cmd
}

func runCheck(ctx context.Context, o checkOptions, paths []string, io streams) error {
	if o.impact {
		return runImpact(ctx, o.repo, o.base, o.format, paths, io)
	}
	if err := checkFormat(o.format, check.Formats, ""); err != nil {
		return err
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	for _, p := range paths {
		dir := strings.TrimSuffix(p, "/...")
		if dir == "..." {
			dir = "."
		}
		if _, err := os.Stat(dir); err != nil {
			return usageError("check: %s: no such file or directory", p)
		}
	}
	repoDir := o.repo
	if repoDir == "" {
		repoDir = repoOf(strings.TrimSuffix(paths[0], "/...") + "/x")
		if repoDir == "" {
			repoDir = "."
		}
	} else if err := isDir("--repo", repoDir); err != nil {
		return err
	}
	if o.base != "" {
		if err := isDir("--base", o.base); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewTextHandler(io.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	checker, err := check.New(ctx, repoDir, logger)
	if err != nil {
		return badInput(err)
	}
	rep, err := checker.Check(ctx, paths, o.base)
	if err != nil {
		return badInput(err)
	}
	// Nothing checked is most likely a wrong path, not a pass; a change
	// that removes every object of its base is still judged.
	if rep.Objects == 0 && len(rep.Errors) == 0 && (rep.Change == nil || rep.Change.Removed == 0) {
		return usageError("check: no Kubernetes objects found in %s: nothing to check (give the directory of the manifests, DIR/... to read it recursively)", strings.Join(paths, ", "))
	}
	w, err := check.NewWriter(checker.Policies())
	if err != nil {
		return err
	}
	color := false
	if f, ok := io.stdout.(*os.File); ok && o.format == "text" && os.Getenv("NO_COLOR") == "" {
		color = term.IsTerminal(int(f.Fd()))
	}
	if err := w.Write(io.stdout, rep, o.format, color); err != nil {
		return err
	}
	return verdictExit(len(rep.Errors) > 0, rep.Passed)
}

// isDir refuses a path that is not a directory, naming the flag.
func isDir(flag, dir string) error {
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return usageError("%s %s: no such directory", flag, dir)
	case !info.IsDir():
		return usageError("%s %s: not a directory", flag, dir)
	}
	return nil
}

// repoDir refuses a desired-state repository that does not exist or has
// no gitvend.yaml, instead of silently using the defaults.
func repoDir(flag, dir string) error {
	if err := isDir(flag, dir); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, config.RepoFile)); err != nil {
		return usageError("%s %s: no gitvend.yaml: not a desired-state repository (give its root with %s)", flag, dir, flag)
	}
	return nil
}

// verdictExit is the exit of a check that printed its report: 2 when the
// input could not be judged (errors), 1 when it failed, 0 when it passed.
func verdictExit(errors, passed bool) error {
	switch {
	case errors:
		return silentExit(exitBadUse)
	case !passed:
		return silentExit(exitFailed)
	}
	return nil
}
