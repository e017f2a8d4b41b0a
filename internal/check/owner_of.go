package check

import (
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Owners returns what names the team that owns an object built from the
// checkout repoDir with cfg, as the checks place it: the owner of the
// request record that rendered it, else the team of cfg that claims its
// namespace, never the object's own owner label; "" when unknown. The
// object's File is relative to repoDir. Change windows limited to owners
// ask it.
func Owners(repoDir string, cfg *config.Repo) func(o *manifest.Object) string {
	w := &owners{repoDir: repoDir, cfg: cfg, records: map[recordKey]string{}}
	return func(o *manifest.Object) string { return w.context(o).Owner }
}
