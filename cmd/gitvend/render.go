package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/request"
)

// renderOptions are the flags of gitvend render.
type renderOptions struct {
	catalog, request, out, repo string
	verify, write, allowEmpty   bool
}

func newRenderCmd(io streams) *cobra.Command {
	var o renderOptions
	cmd := &cobra.Command{
		Use:   "render (--request FILE [--out DIR] | --verify | --write) [flags]",
		Short: "Render a request into manifests, verify rendered files, or re-render them in place",
		Long: `Render requests into Kubernetes manifests with their blueprints. Give exactly one mode:

  --request FILE  render one request record: the manifests to stdout, or one file each into --out DIR
  --verify        fail (exit 1) when a committed rendered file differs from a fresh render, is not
                  produced by its blueprint, or has no request record
  --write         re-render every request of the repository in place, all or nothing: when any
                  request cannot be rendered, nothing is written

--verify and --write need a desired-state repository (--repo, with gitvend.yaml) holding at least
one request record under requests/; --allow-empty lets --verify pass a repository that has none yet
(a new one, checked in CI before its first request).`,
		Args: noArgs,
		Annotations: map[string]string{
			annExits: strings.Join([]string{exitLineOK,
				"  1  --verify found a stale or stray rendered file",
				exitLineBadUse + ";\n     with --write, also when any request cannot be rendered (then nothing is written)"}, "\n"),
		},
		Example: `  gitvend render --request requests/dev/team-a/web.yaml
  gitvend render --request requests/dev/team-a/web.yaml --out /tmp/web
  gitvend render --verify --repo .
  gitvend render --verify --allow-empty   # in CI, from the repository's first commit
  gitvend render --write`,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return runRender(cmd.Context(), o, io)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.catalog, "catalog", "", "extra blueprint directory, overriding built-ins of the same name")
	f.StringVar(&o.request, "request", "", "request file to render")
	f.StringVar(&o.out, "out", "", "write the rendered files to this directory instead of stdout (with --request)")
	f.BoolVar(&o.verify, "verify", false, "exit 1 when a committed rendered file differs from a fresh render")
	f.BoolVar(&o.write, "write", false, "re-render every request of the repository in place (all or nothing)")
	f.StringVar(&o.repo, "repo", ".", "desired-state repository (with --verify and --write)")
	f.BoolVar(&o.allowEmpty, "allow-empty", false, "with --verify, pass a repository that has no request records yet")
	_ = cmd.MarkFlagFilename("request", "yaml", "yml")
	dirFlag(cmd, "catalog", "out", "repo")
	return cmd
}

func runRender(ctx context.Context, o renderOptions, io streams) error {
	modes := 0
	for _, m := range []bool{o.request != "", o.verify, o.write} {
		if m {
			modes++
		}
	}
	if modes != 1 {
		return usageError("render: give exactly one of --request FILE, --verify or --write")
	}
	if o.request != "" {
		return renderOne(ctx, o.request, o.catalog, o.out, io)
	}
	if err := repoDir("--repo", o.repo); err != nil {
		return err
	}
	cfg, err := config.LoadRepo(o.repo)
	if err != nil {
		return badInput(err)
	}
	cat, err := loadCatalog(ctx, o.repo, o.catalog)
	if err != nil {
		return err
	}
	records, err := desired.Requests(o.repo)
	if err != nil {
		return badInput(err)
	}
	noRequests := usageError("render: no request records under %s: nothing to render (is --repo the root of the desired-state repository?)",
		filepath.Join(o.repo, "requests"))
	if o.allowEmpty && !o.verify {
		return usageError("render: --allow-empty goes with --verify")
	}
	if o.verify {
		return verify(ctx, o.repo, cfg, cat, len(records) > 0 || o.allowEmpty, noRequests, io)
	}
	if len(records) == 0 {
		return noRequests
	}
	// Render everything first; write only when every request rendered.
	plan, err := desired.Build(ctx, o.repo, cfg, cat)
	if err != nil {
		return err
	}
	if len(plan.Failed) > 0 {
		paths := make([]string, 0, len(plan.Failed))
		for p := range plan.Failed {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		for _, p := range paths {
			fmt.Fprintf(io.stderr, "%s: %v\n", p, plan.Failed[p])
		}
		return usageError("render --write: %d of %d requests cannot be rendered; nothing was written", len(plan.Failed), len(plan.Records))
	}
	changed, err := desired.Write(ctx, o.repo, plan)
	for _, p := range changed {
		fmt.Fprintln(io.stdout, "wrote", p)
	}
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		fmt.Fprintln(io.stdout, "nothing to change")
	}
	return nil
}

// verify prints what differs between the repository's rendered files and
// a fresh render, and fails when anything does. Without requests, a
// repository where nothing differs has had nothing verified: that is
// noRequests.
func verify(ctx context.Context, repo string, cfg *config.Repo, cat *blueprint.Catalog, hasRequests bool, noRequests error, io streams) error {
	findings, err := desired.Verify(ctx, repo, cfg, cat)
	if err != nil {
		return err
	}
	if len(findings) == 0 && !hasRequests {
		return noRequests
	}
	for _, f := range findings {
		fmt.Fprintf(io.stdout, "%s: %s\n", f.Path, f.Msg)
		if f.Diff != "" {
			fmt.Fprintln(io.stdout, f.Diff)
		}
	}
	if len(findings) > 0 {
		fmt.Fprintf(io.stdout, "verify failed: %d finding(s)\n", len(findings))
		return silentExit(exitFailed)
	}
	fmt.Fprintln(io.stdout, "verify passed: every rendered file matches a fresh render")
	return nil
}

func renderOne(ctx context.Context, file, catalogDir, outDir string, io streams) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return usageError("--request: %v", err)
	}
	req, err := request.Parse(data)
	if err != nil {
		return usageError("%s: %w", file, err)
	}
	repoDir := repoOf(file)
	cat, err := loadCatalog(ctx, repoDir, catalogDir)
	if err != nil {
		return err
	}
	r, err := desired.Render(ctx, cat, req)
	if err != nil {
		return usageError("%s: %w", file, err)
	}
	if outDir == "" {
		out, err := manifest.EncodeAll(r.Objects)
		if err != nil {
			return err
		}
		_, err = io.stdout.Write(out)
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	var errs []error
	for _, f := range r.Files {
		p := filepath.Join(outDir, path.Base(f.Path))
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(io.stdout, "wrote", p)
	}
	return errors.Join(errs...)
}

// repoOf finds the desired-state repository a file belongs to: the nearest
// parent holding gitvend.yaml, or "" when there is none.
func repoOf(file string) string {
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, config.RepoFile)); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
