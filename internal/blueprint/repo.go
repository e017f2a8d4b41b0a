package blueprint

import (
	"os"
	"path/filepath"
)

// RepoDir is the folder of a desired-state repository that holds its own
// blueprints.
const RepoDir = "blueprints"

// RepoSources returns the sources of a desired-state repository's catalog:
// the built-in blueprints, then the repository's own blueprints/ when it
// has one (later sources override earlier ones of the same name).
func RepoSources(repoDir string) []Source {
	sources := []Source{Builtin()}
	if repoDir == "" {
		return sources
	}
	dir := filepath.Join(repoDir, RepoDir)
	if info, err := os.Stat(dir); err == nil && info.IsDir() {
		sources = append(sources, Source{Root: dir, FS: os.DirFS(dir)})
	}
	return sources
}
