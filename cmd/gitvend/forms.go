package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
)

func runForms(ctx context.Context, args []string, io streams) error {
	fs := newFlags("forms", io.stderr)
	catalogDir := fs.String("catalog", "", "extra blueprint directory, overriding built-ins of the same name")
	repoDir := fs.String("repo", ".", "desired-state repository (its environments fill the form's dropdown)")
	outDir := fs.String("out", "", "directory for the forms, usually .github/ISSUE_TEMPLATE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *outDir == "" {
		return usageError("forms: --out DIR is required")
	}
	cfg, err := config.LoadRepo(*repoDir)
	if err != nil {
		return &exitError{code: exitBadUse, err: err}
	}
	cat, err := loadCatalog(ctx, *repoDir, *catalogDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	for _, bp := range cat.List() {
		data, err := blueprint.Form(bp, cfg.EnvironmentNames())
		if err != nil {
			return fmt.Errorf("form for %s: %w", bp.Name, err)
		}
		p := filepath.Join(*outDir, "gitvend-"+bp.Name+".yml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("write form: %w", err)
		}
		fmt.Fprintln(io.stdout, "wrote", p)
	}
	return nil
}
