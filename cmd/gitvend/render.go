package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/request"
)

func runRender(ctx context.Context, args []string, io streams) error {
	fs := newFlags("render", io.stderr)
	catalogDir := fs.String("catalog", "", "extra blueprint directory, overriding built-ins of the same name")
	reqFile := fs.String("request", "", "request file to render")
	outDir := fs.String("out", "", "write the rendered files to this directory instead of stdout")
	verify := fs.Bool("verify", false, "exit 1 when a committed rendered file differs from a fresh render")
	write := fs.Bool("write", false, "re-render every request of the repository in place")
	repoDir := fs.String("repo", ".", "desired-state repository")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("render: unexpected argument %q", fs.Arg(0))
	}
	modes := 0
	for _, m := range []bool{*reqFile != "", *verify, *write} {
		if m {
			modes++
		}
	}
	if modes != 1 {
		return usageError("render: give exactly one of --request FILE, --verify or --write")
	}
	if *reqFile != "" {
		return renderOne(ctx, *reqFile, *catalogDir, *outDir, io)
	}
	cfg, err := config.LoadRepo(*repoDir)
	if err != nil {
		return &exitError{code: exitBadUse, err: err}
	}
	cat, err := loadCatalog(ctx, *repoDir, *catalogDir)
	if err != nil {
		return err
	}
	if *verify {
		findings, err := desired.Verify(ctx, *repoDir, cfg, cat)
		if err != nil {
			return err
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
	plan, err := desired.Build(ctx, *repoDir, cfg, cat)
	if err != nil {
		return err
	}
	changed, err := desired.Write(ctx, *repoDir, plan)
	for _, p := range changed {
		fmt.Fprintln(io.stdout, "wrote", p)
	}
	if err != nil {
		return &exitError{code: exitBadUse, err: err}
	}
	if len(changed) == 0 {
		fmt.Fprintln(io.stdout, "nothing to change")
	}
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
