package check

import (
	"context"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/policy"
	"github.com/gitvend/gitvend/internal/request"
)

// Checking a commit as an earlier one changed.
//
// In a repository of thousands of requests a pull request changes a few
// folders, yet a whole check builds every environment and works out every
// object again (its context, its digest, the local policies' findings),
// each step cheap and remembered, but all of them visiting every object.
// A caching Checker therefore keeps, of the last commits it checked in
// full or in part (judgedTree), every environment's build split into its
// units, the folders the environment's root kustomization lists, and, for
// every object, the subject the check made of it with what the local
// policies found (policy.Local). The check of a commit whose stamps can
// list the files that differ from one of them (gitrepo.Index does, by
// comparing trees) assembles its objects from the units no changed file
// touches and builds only the units it changes, when the result is sure
// to be the whole load's:
//
//   - gitvend.yaml is the same, every environment's root only lists
//     folders (manifest.Aggregates) that lie apart from each other, and
//     each folder's build reads nothing outside it (manifest.Tree.Folders),
//     so that the environment's build is its units' builds one after the
//     other and a unit depends on its folder only;
//   - an object's context depends on its path and its request's record,
//     so a unit whose folder or records changed is worked out again;
//   - the objects read outside the builds stay those of before: every
//     other changed file is one the load passes over, or one that holds
//     no object and lies in no kustomization's folder;
//   - the objects of an environment keep distinct ids, as kustomize and
//     the composition require, and the limits are counted, never less than
//     the whole load counts them.
//
// At anything else (an error, a limit, a unit that reads outside its
// folder, a folder that moves between a build and the files read alone)
// the check loads the commit whole, as it always did. A test holds the
// two ways to the same report for every kind of change.

// judgedTree is what a check kept of one commit.
type judgedTree struct {
	commit string
	stamps stampsWithChanges
	config string      // the stamp of gitvend.yaml, "" without one
	envs   []*envUnits // the environments built, in gitvend.yaml's order
	rest   *unit       // the objects read outside the builds
	// restFiles are the files the objects of rest came from.
	restFiles map[string]bool
	counts    manifest.Counts // what reading the commit counted
}

// envUnits is the build of one environment, unit by unit.
type envUnits struct {
	env    config.Environment
	kfile  string         // the root's kustomization, relative
	units  []*unit        // in the root's order
	folder map[string]int // index into units by folder
	// refs holds the folder each entry of the root, as written, names.
	refs map[string]string
	ids  *idLayer // the folder of the unit holding each object id
}

// idLayer maps object ids to the folder of the unit holding them, as the
// layer below it does but for what it holds itself ("" for an id no
// longer held), so that a revision adds and removes the ids of the units
// it changes without copying those of the others.
type idLayer struct {
	ids   map[manifest.ID]string
	below *idLayer
	depth int
}

// maxIDLayers bounds the layers of ids, beyond which they are merged
// into one.
const maxIDLayers = 8

// get returns the folder holding id.
func (l *idLayer) get(id manifest.ID) (string, bool) {
	for ; l != nil; l = l.below {
		if f, ok := l.ids[id]; ok {
			return f, f != ""
		}
	}
	return "", false
}

// over returns an empty layer over l, or the ids of l merged into one
// layer when l has too many below it.
func (l *idLayer) over() *idLayer {
	if l.depth < maxIDLayers {
		return &idLayer{ids: map[manifest.ID]string{}, below: l, depth: l.depth + 1}
	}
	var layers []*idLayer
	for x := l; x != nil; x = x.below {
		layers = append(layers, x)
	}
	merged := make(map[manifest.ID]string, len(layers[len(layers)-1].ids))
	for k := len(layers) - 1; k >= 0; k-- {
		for id, f := range layers[k].ids {
			if f == "" {
				delete(merged, id)
			} else {
				merged[id] = f
			}
		}
	}
	return &idLayer{ids: merged}
}

// unit is one folder an environment's root lists, built on its own: its
// objects, files relative to the repository, and the subjects the check
// made of them (subj[i].Object is &objs[i]). A unit is never changed once
// kept.
type unit struct {
	folder string
	objs   []manifest.Object
	subj   []policy.Subject
	// facts are what judging worked out of subj besides the policies.
	facts *unitFacts
	// places caches where the objects lie in the base a check last
	// compared them with (see compareObjects).
	places atomic.Pointer[unitPlaces]
}

// unitPlaces are the places of a unit's objects among those of a base.
type unitPlaces struct {
	base uint64
	at   []int32
}

// units calls fn with every unit of t, in the order of its objects, and
// where its objects begin.
func (t *judgedTree) units(fn func(u *unit, from int)) {
	at := 0
	for _, eu := range t.envs {
		for _, u := range eu.units {
			fn(u, at)
			at += len(u.objs)
		}
	}
	fn(t.rest, at)
}

// knownPlaces returns the places in base of the tree's n objects that
// its units know (unknownPlace for the others).
func (t *judgedTree) knownPlaces(base uint64, n int) []int32 {
	known := make([]int32, n)
	t.units(func(u *unit, from int) {
		p := u.places.Load()
		if p != nil && p.base == base && from+len(p.at) <= n {
			copy(known[from:], p.at)
			return
		}
		for i := from; i < from+len(u.objs) && i < n; i++ {
			known[i] = unknownPlace
		}
	})
	return known
}

// keepPlaces keeps in each unit of the tree the places in base of its
// objects, from the places of all of them.
func (t *judgedTree) keepPlaces(base uint64, places []int32) {
	t.units(func(u *unit, from int) {
		if p := u.places.Load(); (p != nil && p.base == base) || from+len(u.objs) > len(places) {
			return
		}
		u.places.Store(&unitPlaces{base: base, at: slices.Clone(places[from : from+len(u.objs)])})
	})
}

// stampsWithChanges are stamps of a commit that can list the files that
// differ from an earlier commit (gitrepo.Index).
type stampsWithChanges interface {
	manifest.Stamps
	Commit() string
	ChangedSince(ctx context.Context, earlier interface{ Commit() string }) ([]string, bool)
}

// judgedKept is how many commits a caching Checker keeps the units of:
// the last few checked, which the next pull request head is compared to.
const judgedKept = 4

// treeMemo keeps the units of the last commits checked, newest last.
type treeMemo struct {
	mu      sync.Mutex
	trees   []*judgedTree
	revised int // checks assembled from a kept commit, for tests
}

func (m *treeMemo) latest() *judgedTree {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.trees) == 0 {
		return nil
	}
	return m.trees[len(m.trees)-1]
}

// add keeps t, counting it as revised from a kept commit when revised.
func (m *treeMemo) add(t *judgedTree, revised bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if revised {
		m.revised++
	}
	m.trees = slices.DeleteFunc(m.trees, func(k *judgedTree) bool { return k.commit == t.commit })
	m.trees = append(m.trees, t)
	if len(m.trees) > judgedKept {
		m.trees = slices.Delete(m.trees, 0, len(m.trees)-judgedKept)
	}
}

// assembly is what a whole load tells of how its objects came: the
// environments built, in order, with how many objects each added, and
// what the load counted.
type assembly struct {
	envs     []builtEnv
	distinct bool // the builds read no folder in common
	counts   manifest.Counts
}

type builtEnv struct {
	env config.Environment
	n   int
}

// openStamped opens the checkout of c as readRepo reads it with stamps.
func (c *Checker) openStamped(ctx context.Context) (*manifest.Tree, error) {
	repo, err := manifest.OpenTree(ctx, c.repoDir, manifest.Limits{})
	if err != nil {
		return nil, err
	}
	repo.UseCache(c.builds.folders)
	repo.UseStamps(c.stamps)
	repo.ReadOnly()
	return repo, nil
}

// judgeable returns the checker's stamps when its checks can be kept as
// units: a caching Checker with stamps that list changes, of a tree
// without links.
func (c *Checker) judgeable() (stampsWithChanges, bool) {
	if c.trees == nil || c.builds == nil || c.stamps == nil || c.stamps.Links() > 0 {
		return nil, false
	}
	s, ok := c.stamps.(stampsWithChanges)
	return s, ok
}

// record keeps the commit of c, loaded whole as asm tells and judged
// into subjects (whose Local is set), as units; nil when its builds
// cannot be split into units.
func (c *Checker) record(ctx context.Context, asm *assembly, subjects []policy.Subject) *judgedTree {
	s, ok := c.judgeable()
	if !ok || !asm.distinct {
		return nil
	}
	repo, err := c.openStamped(ctx)
	if err != nil {
		return nil
	}
	defer repo.Close()
	cfgStamp, _ := s.File(config.RepoFile)
	jt := &judgedTree{commit: s.Commit(), stamps: s, config: cfgStamp, counts: asm.counts}
	at := 0
	for _, b := range asm.envs {
		if at+b.n > len(subjects) {
			return nil
		}
		eu, ok := splitUnits(repo, s, b.env, subjects[at:at+b.n])
		if !ok {
			return nil
		}
		jt.envs = append(jt.envs, eu)
		at += b.n
	}
	jt.rest = keepUnit("", subjects[at:])
	jt.restFiles = map[string]bool{}
	for _, o := range jt.rest.objs {
		jt.restFiles[o.File] = true
	}
	return jt
}

// splitUnits splits the build of env, judged into subjects, into the
// folders its root lists; false when its root does more than list
// folders apart from each other, a folder's build reads outside it, or an
// object is not where its folder's turn puts it.
func splitUnits(repo *manifest.Tree, s manifest.Stamps, env config.Environment, subjects []policy.Subject) (*envUnits, bool) {
	kfile, raw, ok := rootList(repo, env)
	if !ok {
		return nil, false
	}
	folders, refs, ok := resolveEntries(s, env, raw)
	if !ok {
		return nil, false
	}
	for _, f := range folders {
		if !selfContained(repo, f) {
			return nil, false
		}
	}
	eu := &envUnits{env: env, kfile: kfile, folder: make(map[string]int, len(folders)), refs: refs,
		ids: &idLayer{ids: make(map[manifest.ID]string, len(subjects))}}
	u, from := 0, 0
	flush := func(to int) {
		eu.units = append(eu.units, keepUnit(folders[u], subjects[from:to]))
		eu.folder[folders[u]] = u
		from = to
		u++
	}
	for i, sub := range subjects {
		for u < len(folders) && !under(sub.Object.File, folders[u]) {
			flush(i)
		}
		if u == len(folders) {
			return nil, false
		}
		if _, dup := eu.ids.ids[sub.Object.ID]; dup {
			return nil, false
		}
		eu.ids.ids[sub.Object.ID] = folders[u]
	}
	for u < len(folders) {
		flush(len(subjects))
	}
	return eu, true
}

// rootList returns the kustomization of env's root and the paths it
// lists, as written; false unless it only lists paths.
func rootList(repo *manifest.Tree, env config.Environment) (string, []string, bool) {
	kfile, ok := repo.KustomizationFile(env.Root)
	if !ok {
		return "", nil, false
	}
	data, err := repo.ReadFile(kfile)
	if err != nil {
		return "", nil, false
	}
	entries, ok := manifest.Aggregates(data)
	return kfile, entries, ok
}

// resolve returns the folder of the repository the entry e of env's root
// names; false when it leaves the repository.
func resolve(env config.Environment, e string) (string, bool) {
	f := path.Join(path.Clean(env.Root), e)
	return f, f != "." && f != ".." && !strings.HasPrefix(f, "../")
}

// resolveEntries resolves the entries of env's root; false unless each
// is a folder of the commit s describes, none of them inside another. It
// returns the folders, and the folder of each entry as written.
func resolveEntries(s manifest.Stamps, env config.Environment, entries []string) ([]string, map[string]string, bool) {
	folders := make([]string, len(entries))
	refs := make(map[string]string, len(entries))
	for i, e := range entries {
		f, ok := resolve(env, e)
		if !ok {
			return nil, nil, false
		}
		if _, ok := s.Folder(f); !ok {
			return nil, nil, false
		}
		folders[i], refs[e] = f, f
	}
	sorted := slices.Clone(folders)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] || under(sorted[i], sorted[i-1]) {
			return nil, nil, false
		}
	}
	return folders, refs, true
}

// selfContained tells whether the build of folder f reads nothing
// outside f.
func selfContained(repo *manifest.Tree, f string) bool {
	fs, err := repo.Folders(f)
	if err != nil {
		return false
	}
	for _, d := range fs {
		if d != f && !under(d, f) {
			return false
		}
	}
	return true
}

// under tells whether the slash-separated path p lies inside folder dir.
func under(p, dir string) bool {
	return len(p) > len(dir) && p[len(dir)] == '/' && strings.HasPrefix(p, dir)
}

// keepUnit copies the objects of subjects into a unit of folder, with
// subjects pointing at the copies.
func keepUnit(folder string, subjects []policy.Subject) *unit {
	u := &unit{folder: folder, objs: make([]manifest.Object, len(subjects)), subj: slices.Clone(subjects)}
	for i := range subjects {
		u.objs[i] = *subjects[i].Object
		u.subj[i].Object = &u.objs[i]
	}
	u.facts = factsOf(u.subj)
	return u
}

// revision is a commit assembled from an earlier one: the subjects of
// its objects (those of new units to be worked out: no Digest), and its
// units, whose new ones get their subjects once judged (fill).
type revision struct {
	subjects []policy.Subject
	tree     *judgedTree
	fresh    []freshUnit
	kept     []keptFacts // of the units kept, in order
}

// freshUnit is a unit built for the revision, at its place among objs.
type freshUnit struct {
	u  *unit
	at int
}

// keep adds the subjects of the kept unit u, with its facts.
func (r *revision) keep(u *unit) {
	if u.facts != nil && len(u.subj) > 0 {
		r.kept = append(r.kept, keptFacts{at: len(r.subjects), facts: u.facts})
	}
	r.subjects = append(r.subjects, u.subj...)
}

// fill gives the revision's new units the subjects judged for them
// (which point at the units' own objects) and returns the tree to keep.
func (r *revision) fill() *judgedTree {
	for _, f := range r.fresh {
		f.u.subj = slices.Clone(r.subjects[f.at : f.at+len(f.u.objs)])
		f.u.facts = factsOf(f.u.subj)
	}
	return r.tree
}

// revise assembles the objects of c's checkout from prev and the files
// that differ since, as described above; false when it cannot be sure to
// find what the whole load finds, and the caller loads it whole.
func (c *Checker) revise(ctx context.Context, prev *judgedTree) (*revision, bool) {
	s, ok := c.judgeable()
	if !ok {
		return nil, false
	}
	if cfgStamp, _ := s.File(config.RepoFile); cfgStamp != prev.config || s.Commit() == "" {
		return nil, false
	}
	changed, ok := s.ChangedSince(ctx, prev.stamps)
	if !ok {
		return nil, false
	}
	repo, err := c.openStamped(ctx)
	if err != nil {
		return nil, false
	}
	defer repo.Close()
	if repo.Charge(prev.counts) != nil {
		return nil, false
	}
	rv := &reviser{prev: prev, head: s, repo: repo, toRel: c.relativizer(), roots: map[string]int{},
		touched: make([]map[string]bool, len(prev.envs)), built: map[*unit]bool{}}
	for i, eu := range prev.envs {
		rv.roots[eu.kfile] = i
		rv.touched[i] = map[string]bool{}
	}
	if !rv.classify(changed) {
		return nil, false
	}
	next := &judgedTree{commit: s.Commit(), stamps: s, config: prev.config, rest: prev.rest, restFiles: prev.restFiles}
	for i, eu := range prev.envs {
		neu, ok := rv.environment(i, eu)
		if !ok {
			return nil, false
		}
		next.envs = append(next.envs, neu)
	}
	if repo.Err() != nil {
		return nil, false
	}
	// The subjects in the order of the whole load: environment by
	// environment, unit by unit, then the rest.
	n, units := len(prev.rest.subj), 1
	for _, eu := range next.envs {
		units += len(eu.units)
		for _, u := range eu.units {
			n += len(u.objs)
		}
	}
	out := &revision{tree: next, subjects: subjectBuffers.get(n)[:0], kept: make([]keptFacts, 0, units)}
	for _, eu := range next.envs {
		for _, u := range eu.units {
			if rv.built[u] {
				out.fresh = append(out.fresh, freshUnit{u: u, at: len(out.subjects)})
				out.subjects = append(out.subjects, toJudge(u.objs)...)
				continue
			}
			out.keep(u)
		}
	}
	out.keep(prev.rest)
	next.counts = repo.Counted()
	return out, true
}

// reviser is one run of revise.
type reviser struct {
	prev  *judgedTree
	head  manifest.Stamps
	repo  *manifest.Tree
	toRel func(string) string
	// roots holds the environment of each root kustomization.
	roots map[string]int
	// entries are the folders listed by the roots that changed, by
	// environment; added those of them that are new.
	entries map[int][]string
	raw     map[int][]string // the same as written
	added   map[string]bool
	// touched holds, by environment, the units whose files changed.
	touched []map[string]bool
	// built are the units built anew, whose subjects are to be judged.
	built map[*unit]bool
}

// classify sorts the changed files: roots read again, units touched, and
// files read by no build, which must hold nothing the load would add.
func (rv *reviser) classify(changed []string) bool {
	rv.entries, rv.raw, rv.added = map[int][]string{}, map[int][]string{}, map[string]bool{}
	for _, p := range changed {
		if p == config.RepoFile {
			return false
		}
		i, ok := rv.roots[p]
		if !ok {
			continue
		}
		eu := rv.prev.envs[i]
		kfile, raw, ok := rootList(rv.repo, eu.env)
		if !ok || kfile != eu.kfile {
			return false
		}
		folders := make([]string, len(raw))
		for k, e := range raw {
			if f, known := eu.refs[e]; known {
				folders[k] = f
				continue
			}
			f, ok := resolve(eu.env, e)
			if !ok {
				return false
			}
			folders[k] = f
			if _, kept := eu.folder[f]; kept {
				continue
			}
			// A new unit is a folder of the head no build and no walk
			// read before, apart from every other.
			if _, exists := rv.head.Folder(f); !exists {
				return false
			}
			if _, existed := rv.prev.stamps.Folder(f); existed || rv.added[f] || rv.overlaps(f) {
				return false
			}
			rv.added[f] = true
		}
		rv.entries[i], rv.raw[i] = folders, raw
	}
	for _, p := range changed {
		if _, ok := rv.roots[p]; ok {
			continue
		}
		if i := rv.unitOf(p); i >= 0 {
			continue
		}
		if !rv.inAdded(p) && !rv.unread(p) {
			return false
		}
		if !rv.recordChanged(p) {
			return false
		}
	}
	return true
}

// keptAt returns the environment of the kept unit of folder d; -1 when
// there is none. A folder is the unit of one environment at most (the
// builds of a kept commit read no folder in common).
func (rv *reviser) keptAt(d string) int {
	for i, eu := range rv.prev.envs {
		if _, ok := eu.folder[d]; ok {
			return i
		}
	}
	return -1
}

// above calls fn with each folder holding p, the nearest first, until fn
// returns true.
func above(p string, fn func(d string) bool) {
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		if fn(d) {
			return
		}
	}
}

// keptUnder calls fn with the environment and folder of every kept unit
// inside folder f.
func (rv *reviser) keptUnder(f string, fn func(i int, folder string)) {
	for i, eu := range rv.prev.envs {
		for _, u := range eu.units {
			if under(u.folder, f) {
				fn(i, u.folder)
			}
		}
	}
}

// unitOf marks the kept unit holding the file p touched and returns its
// environment; -1 when no unit holds p.
func (rv *reviser) unitOf(p string) int {
	env := -1
	above(p, func(d string) bool {
		if env = rv.keptAt(d); env >= 0 {
			rv.touched[env][d] = true
		}
		return env >= 0
	})
	return env
}

// overlaps tells whether folder f holds or lies in a kept unit, or a
// unit added before it.
func (rv *reviser) overlaps(f string) bool {
	found := false
	above(f, func(d string) bool {
		found = rv.added[d] || rv.keptAt(d) >= 0
		return found
	})
	for a := range rv.added {
		found = found || under(a, f)
	}
	rv.keptUnder(f, func(int, string) { found = true })
	return found
}

// inAdded tells whether a new unit holds p.
func (rv *reviser) inAdded(p string) bool {
	found := false
	above(p, func(d string) bool { found = rv.added[d]; return found })
	return found
}

// unread tells whether the changed file p, read by no build, leaves the
// objects read outside the builds as they were: the walk passes over it,
// or it holds no object, lies in no kustomization's folder and held none
// before.
func (rv *reviser) unread(p string) bool {
	if !manifest.WalkReads(p) {
		return true
	}
	if rv.prev.restFiles[p] || strings.Count(p, "/") >= manifest.MaxFolderDepth {
		return false
	}
	for _, eu := range rv.prev.envs {
		if p == path.Clean(eu.env.Root) || under(p, path.Clean(eu.env.Root)) {
			return false
		}
	}
	for d := path.Dir(p); ; d = path.Dir(d) {
		if hasKustomization(rv.head, d) || hasKustomization(rv.prev.stamps, d) {
			return false
		}
		if d == "." {
			break
		}
	}
	if _, ok := rv.head.File(p); !ok {
		return true // gone, and it held nothing
	}
	l := manifest.NewLoader()
	l.Read(rv.repo, p)
	objs, err := l.Objects()
	return err == nil && len(objs) == 0
}

// hasKustomization tells whether the stamps know a kustomization file in
// folder dir.
func hasKustomization(s manifest.Stamps, dir string) bool {
	for _, name := range manifest.KustomizationFileNames() {
		if _, ok := s.File(path.Join(dir, name)); ok {
			return true
		}
	}
	return false
}

// recordChanged marks touched every kept unit whose objects may take
// their context from the request record p: the units at, above or under
// the request's folder; false when objects read outside the builds may
// take it (they are not worked out again).
func (rv *reviser) recordChanged(p string) bool {
	if !strings.HasPrefix(p, request.Dir+"/") {
		return true
	}
	dir := strings.TrimSuffix(p, path.Ext(p))
	for f := range rv.prev.restFiles {
		if f == p || under(f, dir) {
			return false
		}
	}
	// dir itself among the folders holding it: a file of dir stands for it.
	above(dir+"/.", func(d string) bool {
		if i := rv.keptAt(d); i >= 0 {
			rv.touched[i][d] = true
		}
		return false
	})
	rv.keptUnder(dir, func(i int, folder string) { rv.touched[i][folder] = true })
	return true
}

// environment assembles environment i from its kept units and builds the
// new ones (without subjects until judged); false when it cannot.
func (rv *reviser) environment(i int, eu *envUnits) (*envUnits, bool) {
	folders, listed := rv.entries[i]
	if !listed && len(rv.touched[i]) == 0 {
		return eu, true
	}
	if !listed {
		folders = make([]string, len(eu.units))
		for k, u := range eu.units {
			folders[k] = u.folder
		}
	}
	next := &envUnits{env: eu.env, kfile: eu.kfile, folder: make(map[string]int, len(folders)), refs: eu.refs, ids: eu.ids.over()}
	if raw, ok := rv.raw[i]; ok {
		next.refs = rootRefs(eu.refs, raw, folders)
	}
	keep := func(f string) (*unit, bool) {
		k, ok := eu.folder[f]
		if !ok || rv.touched[i][f] {
			return nil, false
		}
		return eu.units[k], true
	}
	for k, f := range folders {
		if _, twice := next.folder[f]; twice {
			return nil, false // a build of two copies fails, as the whole load says
		}
		next.folder[f] = k
	}
	for _, u := range eu.units {
		_, listedNow := next.folder[u.folder]
		if _, kept := keep(u.folder); kept && listedNow {
			continue
		}
		if !listedNow {
			// A folder dropped from the root must be gone, or the walk
			// would read it now.
			if _, still := rv.head.Folder(u.folder); still {
				return nil, false
			}
		}
		for _, o := range u.objs {
			next.ids.ids[o.ID] = ""
		}
	}
	for _, f := range folders {
		if u, ok := keep(f); ok {
			next.units = append(next.units, u)
			continue
		}
		u, ok := rv.build(f)
		if !ok {
			return nil, false
		}
		for _, o := range u.objs {
			if _, dup := next.ids.get(o.ID); dup {
				return nil, false
			}
			next.ids.ids[o.ID] = f
		}
		rv.built[u] = true
		next.units = append(next.units, u)
	}
	return next, true
}

// rootRefs returns the folders the entries raw of a root name (folders,
// in the same order), from those known for an earlier root: entries
// resolve the same way in every commit, so the known ones are copied
// and the new ones added, and a root that lost many is resolved afresh
// so that entries long gone are not kept.
func rootRefs(known map[string]string, raw, folders []string) map[string]string {
	if len(known) > len(raw)+len(raw)/4 {
		known = nil
	}
	refs := maps.Clone(known)
	if refs == nil {
		refs = make(map[string]string, len(raw))
	}
	for k, e := range raw {
		refs[e] = folders[k]
	}
	return refs
}

// build builds the unit of folder f on its own; false when it fails,
// reads outside f or yields an object from elsewhere.
func (rv *reviser) build(f string) (*unit, bool) {
	if !selfContained(rv.repo, f) {
		return nil, false
	}
	objs, err := rv.repo.Build(f)
	if err != nil {
		return nil, false
	}
	u := &unit{folder: f}
	for _, o := range objs {
		if manifest.IsGitvendKind(o.ID) {
			continue
		}
		o.File = rv.toRel(o.File)
		if !under(o.File, f) {
			return nil, false
		}
		u.objs = append(u.objs, o)
	}
	return u, true
}
