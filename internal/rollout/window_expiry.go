package rollout

import (
	"context"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/reconcile"
)

// expiryThrough tells whether the held head sha of target t, checked out
// in files, is the removal of an expired request that a window allowing
// expiry lets through: gitvend's own cluster.ExpiryRemoval status is on
// it (the bot sets it on the removals it merges, naming the request; a
// status of that context set by anyone else is not asked about); its
// first parent is the commit last applied, so no other held merge comes
// along; it changes nothing but removing objects rendered for that
// request; and for every one of them the windows do not hold expiry
// (config.ForExpiry: each holding window says expiry: allow). Anything
// else waits for the window like any merge.
func (r *Rollout) expiryThrough(ctx context.Context, gh GitHub, clone *gitrepo.Repo, owner, name, sha string, t *targetState, files reconcile.Checkout) bool {
	dir := files.Dir
	st, err := gh.Status(ctx, owner, name, sha, cluster.ExpiryRemoval)
	if err != nil || st.State != "success" {
		return false
	}
	env, rest, _ := strings.Cut(st.Description, "/")
	namespace, request, _ := strings.Cut(rest, "/")
	info, err := clone.CommitInfo(ctx, sha)
	if err != nil || len(info.Parents) == 0 {
		return false
	}
	applied, err := r.exportApplied(ctx, gh, clone, owner, name, sha, t)
	if err != nil {
		return false
	}
	defer applied.close()
	if applied.sha != info.Parents[0] || applied.objs == nil || applied.cfg == nil {
		return false
	}
	cfg, err := config.LoadRepo(dir)
	if err != nil {
		return false
	}
	objs, err := r.desired(ctx, files, t.Target)
	if err != nil {
		return false
	}
	namespaceOf := func(objs []*unstructured.Unstructured) map[*unstructured.Unstructured]config.Subject {
		out := make(map[*unstructured.Unstructured]config.Subject, len(objs))
		for _, o := range objs {
			out[o] = config.Subject{Namespace: o.GetNamespace()}
		}
		return out
	}
	subjects := namespaceOf(objs)
	changed := changedBetween(applied.objs, objs, namespaceOf(applied.objs), subjects)
	if len(changed) == 0 {
		return false
	}
	for o := range changed {
		if _, inHead := subjects[o]; inHead {
			return false // added or changed: not a removal
		}
	}
	removedFrom, err := placesOf(ctx, applied, t)
	if err != nil {
		return false
	}
	for o, s := range changed {
		p := removedFrom[idOf(o)]
		if p.Request == "" || p.Environment != env || p.Namespace != namespace || p.Request != request {
			return false // not the expired request's
		}
		// The windows of the commit and of the one applied both let it
		// through: the removal cannot open the window it passes.
		for _, e := range t.Environments {
			for _, rules := range []*config.Repo{cfg, applied.cfg} {
				if _, _, held := config.HeldBy(r.now(), s, config.ForExpiry, windowSets(rules, t, e)...); held {
					return false
				}
			}
		}
	}
	if r.once(owner+"/"+name+"@"+sha+"/"+t.Name+"/expiry", "through") {
		r.log.Info("expired request removed during a change window that allows expiry", "target", t.Name, "sha", sha, "request", st.Description)
	}
	return true
}

// placesOf tells where in the repository layout each object target t
// builds from the applied commit was rendered (desired.Locate of its file).
func placesOf(ctx context.Context, applied appliedCommit, t *targetState) (map[manifest.ID]desired.Place, error) {
	built, err := builtBy(ctx, applied.dir, applied.cfg, t)
	if err != nil {
		return nil, err
	}
	out := make(map[manifest.ID]desired.Place, len(built))
	for id, b := range built {
		out[id] = desired.Locate(applied.cfg, b.obj.File)
	}
	return out, nil
}
