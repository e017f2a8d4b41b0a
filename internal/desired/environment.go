package desired

import (
	"fmt"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/manifest"
)

// BuildEnvironment builds the objects of environment env from its root in
// repo, a checkout of the desired-state repository opened as a Tree: what
// apply applies to the environment's targets, and what the check of a
// pull request judges. It is the one way gitvend builds an environment.
//
// The root is the one env names (its gitvend.yaml's), which must be a
// plain relative path (config.CheckRoot) holding a kustomization; the
// build reads only files of the repository (see manifest.Tree.Build).
// gitvend's own records among the objects are left out.
func BuildEnvironment(repo *manifest.Tree, env config.Environment) ([]manifest.Object, error) {
	if err := config.CheckRoot(env.Root); err != nil {
		return nil, &field.Error{File: repo.Path(config.RepoFile), Field: "environment " + env.Name + " root", Msg: err.Error()}
	}
	if !repo.IsKustomization(env.Root) {
		return nil, &field.Error{File: repo.Path(env.Root), Msg: fmt.Sprintf(
			"environment %s: its root %s holds no kustomization.yaml", env.Name, env.Root)}
	}
	objs, err := repo.Build(env.Root)
	if err != nil {
		return nil, err
	}
	out := objs[:0]
	for _, o := range objs {
		if !manifest.IsGitvendKind(o.ID) {
			out = append(out, o)
		}
	}
	return out, nil
}
