package check

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/sync/errgroup"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/delta"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/policy"
	"github.com/gitvend/gitvend/internal/quota"
)

// Problem is input that could not be checked, or a remark about it, at a
// file and line.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Report is the outcome of one check.
type Report struct {
	// Passed is false when a policy denies or some input could not be read.
	Passed bool `json:"passed"`
	// Violations are the policy findings that count, denials and warnings.
	Violations []policy.Violation `json:"violations"`
	// Excepted are findings waived by an exception in gitvend.yaml, with its reason.
	Excepted []policy.Violation `json:"excepted,omitempty"`
	// Errors are inputs that could not be read (bad YAML, broken kustomizations).
	Errors []Problem `json:"errors,omitempty"`
	// Notices are remarks, such as kinds whose scope gitvend cannot know.
	Notices []Problem `json:"notices,omitempty"`
	// Cost is the monthly estimate and its change against the base.
	Cost Cost `json:"cost"`
	// Budgets are gitvend.yaml's budgets held against the estimate.
	Budgets []cost.BudgetStatus `json:"budgets,omitempty"`
	// Objects is how many objects were checked.
	Objects int `json:"objects"`
	// Change is what the check changes against the base, when it had one.
	Change *Change `json:"change,omitempty"`
}

// Change counts the objects a pull request adds, changes and removes
// against its base, and those of the head in all.
type Change struct {
	Added   int `json:"added"`
	Changed int `json:"changed"`
	Removed int `json:"removed"`
	// Total is how many objects the head has; Environments is how many
	// environments they lie in.
	Total        int `json:"total"`
	Environments int `json:"environments"`
}

// Cost is the cost part of a report.
type Cost struct {
	Currency    string  `json:"currency"`
	Monthly     float64 `json:"monthly"`
	MonthlyMax  float64 `json:"monthly_max"`
	BaseMonthly float64 `json:"base_monthly"`
	Delta       float64 `json:"delta"`
	// HasBase tells whether a base was compared; without one everything is new.
	HasBase bool              `json:"has_base"`
	Objects []cost.ObjectCost `json:"objects"`
	// Change lists objects added, removed and changed against the base.
	Change      *cost.Change       `json:"change,omitempty"`
	ByOwner     map[string]float64 `json:"by_owner,omitempty"`
	ByNamespace map[string]float64 `json:"by_namespace,omitempty"`
	// Savings are what gitvend.yaml's sleep schedules save, by
	// environment and namespace of the objects checked.
	Savings []cost.Saving `json:"savings,omitempty"`
}

// Denied tells whether any violation is a denial.
func (r *Report) Denied() bool {
	for _, v := range r.Violations {
		if v.Severity == "deny" {
			return true
		}
	}
	return false
}

// Checker checks manifests of one desired-state repository. It is built
// once (the policy engine prepares its queries) and is safe for
// concurrent use.
type Checker struct {
	repoDir string
	cfg     *config.Repo
	engine  *policy.Engine
	judge   evaluator // judges in place of engine when set (see Impact)
	prices  func(environment string) cost.Prices
	bases   *baseMemo   // nil unless CachingBases
	builds  *buildCache // nil unless CachingBases
	records *recordMemo // nil unless CachingBases
	costs   *cost.Memo  // nil unless CachingBases
	quotas  *quota.Memo // nil unless CachingBases
	trees   *treeMemo   // nil unless CachingBases or KeepingCommits
	// quotaInputs keeps judged quotas; nil unless CachingBases.
	quotaInputs *quotaMemo
	stamps      manifest.Stamps // of repoDir, when it is a checkout (WithStamps)
	// shared are the content memories of CachingBases copies; nil unless
	// KeepingCommits.
	shared *contentMemos
}

// baseIDs numbers the bases estimated (base.id).
var baseIDs atomic.Uint64

// costMemoSize is how many objects' estimates, and what they use of
// quotas, a caching Checker remembers: the objects of a repository of
// 10,000 requests, with room for its pull requests' changes.
const costMemoSize = 100_000

// baseCacheSize is how many base estimates a caching Checker remembers.
const baseCacheSize = 32

// baseMemo remembers the most recently used base estimates by base
// directory and paths.
type baseMemo struct {
	mu  sync.Mutex // held while an estimate is made, so each is made once
	lru *simplelru.LRU[string, base]
}

// base is what a check keeps of its base: the estimate, a fingerprint
// of each object by place (see placeKey), and what each namespace uses of
// the resources quotas limit.
type base struct {
	id      uint64 // names the base among those estimated, 0 for none
	est     cost.Estimate
	ledger  *cost.Ledger // of est, when the checker caches
	objects placeIndex
	use     quota.Usage
	quotas  *quota.Ledger // of use, when the checker caches
}

func newBaseMemo(size int) *baseMemo {
	l, err := simplelru.NewLRU[string, base](size, nil)
	if err != nil {
		panic(fmt.Sprintf("base estimate cache of size %d: %v", size, err))
	}
	return &baseMemo{lru: l}
}

// get returns the estimate remembered for key, or makes it with estimate
// and remembers it, forgetting the least recently used one when full.
func (m *baseMemo) get(key string, estimate func() (base, error)) (base, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if est, ok := m.lru.Get(key); ok {
		return est, nil
	}
	est, err := estimate()
	if err != nil {
		return est, err
	}
	m.lru.Add(key, est)
	return est, nil
}

// CachingBases returns a Checker (sharing the prepared policies) that
// estimates each base directory and set of paths once and remembers it,
// with ledgers of what each base object costs and uses of quotas, which
// the check of a head revises from the objects it changes; and that keeps
// builds, request owners, estimates and quota uses by content: for bases
// that never change, such as commits checked out once.
func (c *Checker) CachingBases() *Checker {
	cp := *c
	cp.bases = newBaseMemo(baseCacheSize)
	m := c.shared
	if m == nil {
		m = newContentMemos()
	}
	cp.builds, cp.records, cp.costs, cp.quotas, cp.quotaInputs = m.builds, m.records, m.costs, m.quotas, m.quotaInputs
	if cp.trees == nil {
		cp.trees = &treeMemo{}
	}
	return &cp
}

// contentMemos are what a caching Checker remembers by content: builds,
// request owners, estimates and quota uses, the same for any commit
// checked with the same rules.
type contentMemos struct {
	builds      *buildCache
	records     *recordMemo
	costs       *cost.Memo
	quotas      *quota.Memo
	quotaInputs *quotaMemo
}

func newContentMemos() *contentMemos {
	return &contentMemos{builds: newBuildCache(buildCacheSize), records: newRecordMemo(recordMemoSize),
		costs: cost.NewMemo(costMemoSize), quotas: quota.NewMemo(costMemoSize), quotaInputs: newQuotaMemo(quotaMemoSize)}
}

// KeepingCommits returns a Checker (sharing the prepared policies) whose
// caching copies (CachingBases) share one memory of the commits they
// checked, by which a commit is checked from the one before as it changed
// (see units.go), and what they remember by content, so that the first
// check on a new base (after a merge) builds and judges only what the
// merge changed: for the copies made for each base commit of one
// repository with the same rules.
func (c *Checker) KeepingCommits() *Checker {
	cp := *c
	cp.trees = &treeMemo{}
	cp.shared = newContentMemos()
	return &cp
}

// New reads the repository's gitvend.yaml and its own policies/ (when
// present) in repoDir and prepares the policy engine.
func New(ctx context.Context, repoDir string, logger *slog.Logger) (*Checker, error) {
	cfg, err := config.LoadRepo(repoDir)
	if err != nil {
		return nil, err
	}
	opts := policy.Options{Settings: cfg.Policy, Logger: logger}
	if info, err := os.Stat(filepath.Join(repoDir, "policies")); err == nil && info.IsDir() {
		opts.Extra = os.DirFS(filepath.Join(repoDir, "policies"))
	}
	engine, err := policy.New(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(repoDir, config.RepoFile), err)
	}
	return NewWith(repoDir, cfg, engine), nil
}

// NewWith builds a Checker from a configuration and an engine made already.
func NewWith(repoDir string, cfg *config.Repo, engine *policy.Engine) *Checker {
	return &Checker{repoDir: repoDir, cfg: cfg, engine: engine, prices: cost.RepoPrices(cfg)}
}

// For returns a Checker with the same configuration and prepared policies
// that checks the repository checked out in repoDir. Pull requests are
// checked this way with their base branch's settings, so a change to
// gitvend.yaml or policies/ never judges itself.
func (c *Checker) For(repoDir string) *Checker {
	cp := *c
	cp.repoDir = repoDir
	return &cp
}

// WithStamps returns a Checker like c that trusts s for what its
// repository folder holds (see manifest.Stamps): s must describe exactly
// the checkout in the folder For gave, such as the index of the commit it
// was exported from. Only a caching Checker uses them.
func (c *Checker) WithStamps(s manifest.Stamps) *Checker {
	cp := *c
	cp.stamps = s
	return &cp
}

// Config returns the repository configuration the checker uses.
func (c *Checker) Config() *config.Repo { return c.cfg }

// Check loads the objects under paths and checks them. Every environment
// of the checked repository's own gitvend.yaml whose root lies under paths
// is built as apply builds it (desired.BuildEnvironment), from the roots
// that gitvend.yaml names, and judged with the checker's settings and
// policies; everything else under paths is read file by file (see
// manifest.Loader). When baseDir is not empty, the same paths (relative to
// the repository) are read under baseDir to compute the cost change;
// paths missing there count as new.
func (c *Checker) Check(ctx context.Context, paths []string, baseDir string) (*Report, error) {
	var inside, outside []string
	for _, p := range paths {
		if rel, ok := c.inside(p); ok {
			inside = append(inside, rel)
		} else {
			outside = append(outside, p)
		}
	}
	var (
		subjects []policy.Subject
		loadErr  error
		rev      *revision
		asm      *assembly
	)
	wholeRepo := len(outside) == 0 && len(inside) == 1 && inside[0] == "."
	if prev := c.trees.latest(); prev != nil && wholeRepo {
		rev, _ = c.revise(ctx, prev)
	}
	if rev != nil {
		subjects = rev.subjects
	} else {
		if _, ok := c.judgeable(); ok && wholeRepo {
			asm = &assembly{}
		}
		var objs []manifest.Object
		objs, loadErr = c.load(ctx, c.repoDir, c.stamps, inside, outside, asm)
		subjects = toJudge(objs)
	}
	rep := &Report{Violations: []policy.Violation{}, Objects: len(subjects)}
	for _, e := range field.All(loadErr) {
		msg := e.Msg
		if e.Field != "" {
			msg = e.Field + ": " + msg
		}
		rep.Errors = append(rep.Errors, Problem{File: c.rel(e.File), Line: e.Line, Message: msg})
	}
	if loadErr != nil && (len(rep.Errors) == 0 || ctx.Err() != nil) {
		return nil, fmt.Errorf("load manifests: %w", loadErr)
	}
	var b *base
	if baseDir != "" {
		est, err := c.baseEstimate(ctx, paths, baseDir)
		if err != nil {
			return nil, err
		}
		b = &est
	}
	// The places in the base of the objects a check of the same base
	// placed before.
	byBase := b != nil && b.id != 0
	var known []int32
	if rev != nil && byBase {
		known = rev.tree.knownPlaces(b.id, len(subjects))
	}
	var facts []keptFacts
	if rev != nil {
		facts = rev.kept
	}
	rep, places, err := c.judgeObjects(ctx, subjects, rep, b, known, facts)
	if err != nil {
		return nil, err
	}
	// A commit read without a problem is kept for the next check to
	// start from, with the places of its objects in the base.
	var kept *judgedTree
	switch {
	case len(rep.Errors) > 0:
	case rev != nil:
		kept = rev.fill()
		c.trees.add(kept, true)
	case asm != nil:
		if kept = c.record(ctx, asm, subjects); kept != nil {
			c.trees.add(kept, false)
		}
	}
	if kept != nil && places != nil && byBase {
		kept.keepPlaces(b.id, places)
	}
	if rev != nil {
		subjectBuffers.put(rev.subjects)
	}
	return rep, nil
}

// objectFacts is what judging works out of a subject besides the
// policies: its place and digest, its cost item and, for a kind gitvend
// does not know, a notice.
func objectFacts(s *policy.Subject) (placed, cost.Item, *Problem) {
	o, env := s.Object, s.Context.Environment
	var notice *Problem
	if _, known := manifest.Scope(o.ID); !known {
		notice = &Problem{File: o.File, Line: o.Line, Message: fmt.Sprintf(
			"%s (%s) is not a built-in Kubernetes kind: gitvend checks it as a cluster-scoped object unless it has a namespace", o.Kind, o.APIVersion)}
	}
	return placedAt(env, o.ID, s.Digest), cost.Item{Object: o, Environment: env}, notice
}

// unitFacts are the facts (objectFacts) of a unit's judged subjects, in
// order, with the environments they name, kept with the unit so that a
// check that keeps the unit copies them instead of reading every object.
type unitFacts struct {
	head    []placed
	items   []cost.Item
	notices []Problem
	envs    []string
}

// factsOf works out the facts of judged subjects.
func factsOf(subjects []policy.Subject) *unitFacts {
	f := &unitFacts{head: make([]placed, len(subjects)), items: make([]cost.Item, len(subjects))}
	for i := range subjects {
		var notice *Problem
		f.head[i], f.items[i], notice = objectFacts(&subjects[i])
		if notice != nil {
			f.notices = append(f.notices, *notice)
		}
		if env := subjects[i].Context.Environment; !slices.Contains(f.envs, env) {
			f.envs = append(f.envs, env)
		}
	}
	return f
}

// keptFacts are the facts of a kept unit whose subjects begin at at.
type keptFacts struct {
	at    int
	facts *unitFacts
}

// toJudge makes the subjects of objs for judgeObjects to work out.
func toJudge(objs []manifest.Object) []policy.Subject {
	subjects := make([]policy.Subject, len(objs))
	for i := range objs {
		subjects[i].Object = &objs[i]
	}
	return subjects
}

// judgeObjects checks the objects of subjects, loaded into rep, against
// the base b (nil for none): their cost, budgets and quotas, what they
// change and the policies. A subject without a Digest is worked out: its
// object's file made relative to the repository, its context and digest
// found; one with a Digest is the same as in an earlier check, which
// worked it out. Every subject is left with what the local policies
// found about it (Local). known, when not nil, tells compareObjects the
// places in the base of objects compared with it before; the places of
// all are returned for the next check (nil without a base).
func (c *Checker) judgeObjects(ctx context.Context, subjects []policy.Subject, rep *Report, b *base, known []int32, kept []keptFacts) (*Report, []int32, error) {
	items := itemBuffers.get(len(subjects))
	defer itemBuffers.put(items)
	own := c.owners()
	defer own.close()
	toRel := c.relativizer()
	head := placedBuffers.get(len(subjects))
	defer placedBuffers.put(head)
	envs := map[string]bool{}
	lastEnv := ""
	for i, next := 0, 0; i < len(subjects); {
		if next < len(kept) && kept[next].at == i {
			// A kept unit: its facts as worked out when it was judged.
			f := kept[next].facts
			copy(head[i:], f.head)
			copy(items[i:], f.items)
			rep.Notices = append(rep.Notices, f.notices...)
			for _, env := range f.envs {
				envs[env] = true
			}
			i += len(f.head)
			next++
			continue
		}
		s := &subjects[i]
		if s.Digest == "" {
			s.Object.File = toRel(s.Object.File)
			s.Context, s.Digest = own.context(s.Object), s.Object.Digest()
		}
		var notice *Problem
		head[i], items[i], notice = objectFacts(s)
		if env := s.Context.Environment; i == 0 || env != lastEnv {
			envs[env], lastEnv = true, env
		}
		if notice != nil {
			rep.Notices = append(rep.Notices, *notice)
		}
		i++
	}
	// hint names the base object at the place of each head object, for
	// the ledgers to find without looking up.
	var hint []int
	var baseAt []int32
	if b != nil {
		rep.Change, hint, baseAt = compareObjects(b.objects, head, len(envs), known)
	}
	var est cost.Estimate
	var change *cost.Change
	// The head matched once against the base's ledgers, which share an
	// index.
	matched := delta.NewHead(len(items), cost.ItemObjects(items), hint)
	if b != nil && b.ledger != nil {
		// Priced and compared from what changed.
		var ch cost.Change
		est, ch = c.costs.Revise(b.ledger, items, c.prices, matched)
		change = &ch
	} else {
		est = c.costs.Compute(items, c.prices)
	}
	budgets := cost.CheckBudgets(est, c.cfg.Budgets)
	rep.Budgets = budgets
	rep.Cost = Cost{Currency: est.Currency, Monthly: est.Monthly, MonthlyMax: est.MonthlyMax, Delta: est.Monthly,
		Objects: est.Objects, ByOwner: est.ByOwner, ByNamespace: est.ByNamespace, Savings: cost.Savings(est, c.cfg)}
	if rep.Cost.Objects == nil {
		rep.Cost.Objects = []cost.ObjectCost{}
	}
	var baseUse quota.Usage // nil without a base
	if b != nil {
		baseUse = b.use
		if baseUse == nil {
			baseUse = quota.Usage{}
		}
		budgets = cost.CompareBudgets(b.est, est, c.cfg.Budgets)
		rep.Budgets = budgets
		if change == nil {
			ch := cost.Compare(b.est, est)
			change = &ch
		}
		rep.Cost.HasBase, rep.Cost.BaseMonthly, rep.Cost.Delta, rep.Cost.Change = true, change.BaseMonthly, change.Delta, change
	}
	in := policy.Input{Subjects: subjects, Cost: &policy.CostInput{Currency: est.Currency}}
	measure := c.quotas.Measure
	if b != nil && b.quotas != nil {
		measure = func(items []quota.Item) quota.Usage { return c.quotas.Revise(b.quotas, items, matched) }
	}
	in.Quotas, rep.Notices = quotaInput(measure, items, baseUse, rep.Notices, c.quotaInputs)
	for _, b := range budgets {
		in.Cost.Budgets = append(in.Cost.Budgets, policy.BudgetInput{Scope: b.Scope, Name: b.Name,
			Environment: b.Environment, Monthly: b.Monthly, Limit: b.Limit})
	}
	var res policy.Result
	var locals []*policy.Local
	var err error
	if k, ok := c.evaluator().(keepingEvaluator); ok {
		res, locals, err = k.EvaluateKeeping(ctx, in)
	} else {
		res, err = c.evaluator().Evaluate(ctx, in)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("evaluate policies: %w", err)
	}
	if len(locals) == len(subjects) {
		for i := range subjects {
			subjects[i].Local = locals[i]
		}
	}
	rep.Violations = append(rep.Violations, res.Violations...)
	rep.Excepted = res.Excepted
	where := places(subjects)
	c.locate(rep.Violations, budgets, est.Objects, where)
	c.locate(rep.Excepted, budgets, est.Objects, where)
	rep.Passed = !rep.Denied() && len(rep.Errors) == 0
	return rep, baseAt, nil
}

// rel makes a file path relative to the repository, slash-separated, when
// it lies inside it.
func (c *Checker) rel(file string) string { return c.relativizer()(file) }

// relativizer returns rel with the repository's absolute path found
// once, for the many files of one check.
func (c *Checker) relativizer() func(string) string {
	root, rootErr := filepath.Abs(c.repoDir)
	prefix := root + string(filepath.Separator)
	return func(file string) string {
		if file == "" {
			return ""
		}
		if rootErr != nil {
			return file
		}
		// Files the tree names are clean and absolute: most need no more
		// than cutting the repository off.
		if rel, ok := strings.CutPrefix(file, prefix); ok && filepath.IsAbs(file) && filepath.Clean(file) == file {
			return filepath.ToSlash(rel)
		}
		abs, err := filepath.Abs(file)
		if err != nil {
			return file
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(file)
		}
		return filepath.ToSlash(rel)
	}
}

// inside returns the path p (a trailing "/..." is accepted) relative to
// the repository, slash-separated, when it lies inside it.
func (c *Checker) inside(p string) (string, bool) {
	p = strings.TrimSuffix(p, "/...")
	if p == "..." {
		p = "."
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	root, err := filepath.Abs(c.repoDir)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// load reads the paths rels of the repository checked out in dir (see
// readRepo; stamps, when not nil, describe dir), and then the paths outside it: a folder holding a
// gitvend.yaml, such as the checkout of a pull request's head, is read as
// a repository of its own, with its own roots; any other path is read
// through a view of its own.
func (c *Checker) load(ctx context.Context, dir string, stamps manifest.Stamps, rels, outside []string, asm *assembly) ([]manifest.Object, error) {
	l := manifest.NewLoader()
	if len(rels) > 0 {
		if err := readRepo(ctx, l, dir, rels, c.builds, stamps, asm); err != nil {
			return nil, err
		}
	}
	for _, p := range outside {
		p = strings.TrimSuffix(p, "/...")
		if info, err := os.Stat(filepath.Join(p, config.RepoFile)); err == nil && info.Mode().IsRegular() {
			if err := readRepo(ctx, l, p, []string{"."}, c.builds, nil, nil); err != nil {
				return nil, err
			}
			continue
		}
		l.ReadPath(ctx, p)
	}
	return l.Objects()
}

// readRepo reads the paths rels of the repository checked out in dir
// through one confined, bounded view of it: first every environment of
// dir's own gitvend.yaml whose root lies under rels, built as apply builds
// it, then the rest of rels, leaving out the folders the builds read
// (their objects are the builds'). Builds are remembered in builds, when
// not nil, by the files they read, or by stamps, when not nil, which
// describe dir. asm, when not nil, is told how the objects came.
func readRepo(ctx context.Context, l *manifest.Loader, dir string, rels []string, builds *buildCache, stamps manifest.Stamps, asm *assembly) error {
	repo, err := manifest.OpenTree(ctx, dir, manifest.Limits{})
	if err != nil {
		return err
	}
	defer repo.Close()
	if builds != nil {
		repo.UseCache(builds.folders)
		repo.UseStamps(stamps)
		repo.ReadOnly() // a check reads objects and never changes them
	}
	cfg, err := repoConfig(repo)
	if err != nil {
		l.Fail(placeConfigErrors(err, repo.Path(config.RepoFile)))
		cfg = &config.Repo{}
	}
	// Environments are built in parallel (a Tree is safe for that) and
	// added in gitvend.yaml's order, so the report does not depend on
	// which build ends first.
	type built struct {
		objs    []manifest.Object
		folders []string
		err     error
	}
	var envs []config.Environment
	for _, env := range cfg.Environments {
		if covers(rels, env.Root) && repo.IsKustomization(env.Root) {
			envs = append(envs, env)
		}
	}
	out := make([]built, len(envs))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, env := range envs {
		g.Go(func() error {
			b := &out[i]
			b.objs, b.folders, b.err = buildEnvironment(repo, env, builds)
			return nil
		})
	}
	_ = g.Wait() // every build reports its own error
	// Builds that read no folder in common hold distinct objects, which
	// nothing else reads (the folders are skipped below).
	folders := make([][]string, len(out))
	for i := range out {
		folders[i] = out[i].folders
	}
	distinct := disjoint(folders)
	for i, env := range envs {
		l.Fail(out[i].err)
		if distinct && out[i].err == nil {
			l.AddDistinct(out[i].objs)
		} else {
			l.Add(out[i].objs)
		}
		l.Skip(repo.Path(env.Root))
		for _, f := range out[i].folders {
			l.Skip(repo.Path(f))
		}
	}
	for _, rel := range rels {
		l.Read(repo, rel)
	}
	if asm != nil {
		asm.distinct = distinct
		for i, env := range envs {
			asm.envs = append(asm.envs, builtEnv{env: env, n: len(out[i].objs)})
		}
		asm.counts = repo.Counted()
	}
	return nil
}

// disjoint tells whether no folder is in two of the lists of folders
// builds read; a build without its list (nil) may share any.
func disjoint(builds [][]string) bool {
	seen := map[string]bool{}
	for _, fs := range builds {
		if fs == nil {
			return false
		}
		for _, f := range fs {
			if seen[f] {
				return false
			}
			seen[f] = true
		}
	}
	return true
}

// repoConfig reads the gitvend.yaml of repo through it, so that a link
// cannot make it read one from elsewhere; a repository without one gets
// config.DefaultRepo.
func repoConfig(repo *manifest.Tree) (*config.Repo, error) {
	data, err := repo.ReadFile(config.RepoFile)
	if errors.Is(err, fs.ErrNotExist) {
		return config.DefaultRepo(), nil
	}
	if err != nil {
		return nil, err
	}
	return config.ParseRepo(data)
}

// placeConfigErrors names file in the field errors of gitvend.yaml, which
// the configuration reports without it; the checks show them as
// problems of the pull request.
func placeConfigErrors(err error, file string) error {
	fes := field.All(err)
	if len(fes) == 0 {
		return err
	}
	out := make([]error, len(fes))
	for i, e := range fes {
		cp := *e
		if cp.File == "" {
			cp.File = file
		}
		out[i] = &cp
	}
	return errors.Join(out...)
}

// covers tells whether the repository path root lies at or under one of rels.
func covers(rels []string, root string) bool {
	root = path.Clean(root)
	for _, r := range rels {
		if r == "." || r == root || strings.HasPrefix(root, r+"/") {
			return true
		}
	}
	return false
}

// placeKey names an object by environment and identity.
func placeKey(env string, id manifest.ID) string { return env + "\x00" + id.String() }

// baseEstimate estimates the same paths under baseDir.
func (c *Checker) baseEstimate(ctx context.Context, paths []string, baseDir string) (base, error) {
	if c.bases == nil {
		return c.estimateBase(ctx, paths, baseDir)
	}
	var rels []string
	for _, p := range paths {
		rels = append(rels, c.rel(p))
	}
	key := baseDir + "\x00" + strings.Join(rels, "\x00")
	return c.bases.get(key, func() (base, error) { return c.estimateBase(ctx, paths, baseDir) })
}

// estimateBase estimates the same paths under baseDir and fingerprints
// their objects.
func (c *Checker) estimateBase(ctx context.Context, paths []string, baseDir string) (base, error) {
	var rels []string
	for _, p := range paths {
		rel, ok := c.inside(p)
		if !ok {
			return base{}, fmt.Errorf("path %s: with --base, paths must lie inside the repository %s", p, c.repoDir)
		}
		if _, err := os.Stat(filepath.Join(baseDir, filepath.FromSlash(rel))); errors.Is(err, os.ErrNotExist) {
			continue
		}
		rels = append(rels, rel)
	}
	if len(rels) == 0 {
		return base{est: cost.Estimate{Currency: cost.DefaultPrices().Currency}}, nil
	}
	// Problems of the base are not the pull request's; only a check that
	// was stopped has no estimate (and none is remembered).
	objs, _ := c.load(ctx, baseDir, nil, rels, nil, nil)
	if err := ctx.Err(); err != nil {
		return base{}, fmt.Errorf("estimate base: %w", err)
	}
	for i := range objs {
		if rel, err := filepath.Rel(baseDir, objs[i].File); err == nil {
			objs[i].File = filepath.ToSlash(rel)
		}
	}
	return c.baseOf(objs), nil
}

// baseOf estimates and fingerprints the objects of a base, whose files
// are relative to the repository.
func (c *Checker) baseOf(objs []manifest.Object) base {
	items := make([]cost.Item, len(objs))
	places := make([]placed, len(objs))
	for i := range objs {
		o := &objs[i]
		env := desired.Locate(c.cfg, o.File).Environment
		items[i] = cost.Item{Object: o, Environment: env}
		places[i] = placedAt(env, o.ID, o.Digest())
	}
	b := base{id: baseIDs.Add(1), objects: indexPlaces(places)}
	if c.costs != nil {
		b.ledger = c.costs.Ledger(items, c.prices)
		b.est = b.ledger.Estimate()
		b.quotas = c.quotas.LedgerIndexed(items, b.ledger.Index())
		b.use = b.quotas.Usage()
	} else {
		b.est = cost.Compute(items, c.prices)
		b.use = quota.Measure(items)
	}
	return b
}

// Policies describes the policies the checker evaluates.
func (c *Checker) Policies() []policy.Info { return c.engine.Policies() }
