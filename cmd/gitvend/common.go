package main

import (
	"context"
	"fmt"
	"os"

	"github.com/gitvend/gitvend/internal/blueprint"
	buildversion "github.com/gitvend/gitvend/internal/version"
)

// loadCatalog loads the built-in blueprints, then the repository's own
// blueprints/ (when repoDir has one), then those in extra (when set); later
// ones override earlier ones of the same name.
func loadCatalog(ctx context.Context, repoDir, extra string) (*blueprint.Catalog, error) {
	sources := blueprint.RepoSources(repoDir)
	if extra != "" {
		info, err := os.Stat(extra)
		if err != nil || !info.IsDir() {
			return nil, usageError("--catalog: %s is not a directory", extra)
		}
		sources = append(sources, blueprint.Source{Root: extra, FS: os.DirFS(extra)})
	}
	cat, err := blueprint.Load(ctx, sources...)
	if err != nil {
		return nil, &exitError{code: exitBadUse, err: fmt.Errorf("load blueprints: %w", err)}
	}
	return cat, nil
}

// version reports the release and commit the binary was built from.
func version() string { return buildversion.String() }
