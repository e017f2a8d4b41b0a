package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/policies"
)

// Options configure an Engine.
type Options struct {
	// Settings are the policy settings of gitvend.yaml.
	Settings config.Policy
	// Extra holds a repository's own policies (its policies/ directory);
	// nil for none. Its modules replace built-in modules of the same
	// package; its _test.rego files are ignored here (see Test).
	Extra fs.FS
	// Logger receives what the engine loaded; nil discards it.
	Logger *slog.Logger
	// Memo remembers the findings of subject-local policies between
	// evaluations; nil gives the engine a memo of its own.
	Memo *Memo
	// Sandboxed restricts the policies further, to what a policy that is
	// not trusted may call (see Sandbox).
	Sandboxed bool

	// wholeOnly evaluates every policy on the whole input, as before
	// policies were classified; tests compare both ways with it.
	wholeOnly bool
}

// Engine evaluates the policy library. It is built once and is safe for
// concurrent use: every evaluation reuses the same prepared query.
type Engine struct {
	defs     map[string]*policyDef
	settings settings
	params   *ast.Term
	// groups are the enabled policies by what they read (see reach):
	// local ones on the subjects not remembered, aggregate ones on the
	// input without subjects, the others on the whole input.
	groups [3]group
	memo   *Memo
	quotas *quotaTerms
	digest string // of the policies, settings and params, for the memo
	log    *slog.Logger
}

// group is the enabled policies of one reach and their prepared query.
type group struct {
	ids   []string // in query order
	query *rego.PreparedEvalQuery
}

// New loads and compiles the built-in policies and opts.Extra, reads every
// policy's metadata, validates opts.Settings against it and prepares the
// evaluation query. Settings errors are *field.Error values (joined)
// naming the field, such as "policy.policies.<id>.params.<name>".
func New(ctx context.Context, opts Options) (*Engine, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	builtin, err := parseFS(policies.Modules(), builtinPrefix, false, true)
	if err != nil {
		return nil, fmt.Errorf("load built-in policies: %w", err)
	}
	extra, err := parseFS(opts.Extra, extraPrefix, false, false)
	if err != nil {
		return nil, fmt.Errorf("load repository policies: %w", err)
	}
	srcs, replaced := merge(builtin, extra)
	for _, pkg := range replaced {
		log.InfoContext(ctx, "repository policy replaces built-in package", "package", pkg)
	}
	caps := capabilities()
	if opts.Sandboxed {
		caps = sandboxCapabilities()
	}
	c, err := compileWith(srcs, false, caps)
	if err != nil {
		return nil, err
	}
	defs, err := findPolicies(ctx, c, srcs)
	if err != nil {
		return nil, err
	}
	set, err := checkSettings(opts.Settings, defs)
	if err != nil {
		return nil, err
	}
	params, err := ast.InterfaceToValue(toAnyMap(set.params))
	if err != nil {
		return nil, fmt.Errorf("encode policy params: %w", err)
	}
	e := &Engine{defs: defs, settings: set, params: ast.NewTerm(params), log: log, memo: opts.Memo, quotas: newQuotaTerms()}
	if e.memo == nil {
		e.memo = NewMemo()
	}
	an := newAnalysis(c)
	digest := sha256.New()
	for _, s := range srcs {
		fmt.Fprintf(digest, "%s\x00%s\x00", s.name, s.module.String())
	}
	fmt.Fprintf(digest, "%v\x00%s\x00", opts.Sandboxed, e.params.String())
	var bodies [3]strings.Builder
	for _, id := range sortedKeys(defs) {
		if set.severity[id] == SeverityOff {
			continue
		}
		g := reachWhole
		if !opts.wholeOnly {
			g = an.classify(defs[id].ref)
		}
		fmt.Fprintf(&bodies[g], "p%d = %s.violation\n", len(e.groups[g].ids), defs[id].ref)
		e.groups[g].ids = append(e.groups[g].ids, id)
		fmt.Fprintf(digest, "%s=%d\x00", id, g)
	}
	e.digest = hex.EncodeToString(digest.Sum(nil))
	for g := range e.groups {
		if len(e.groups[g].ids) == 0 {
			continue
		}
		pq, err := rego.New(rego.Compiler(c), rego.Query(bodies[g].String())).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("prepare policy query: %w", err)
		}
		e.groups[g].query = &pq
	}
	log.DebugContext(ctx, "policies loaded", "policies", len(defs), "local", len(e.groups[reachLocal].ids), "aggregates", len(e.groups[reachAggregates].ids), "whole", len(e.groups[reachWhole].ids), "modules", len(srcs))
	return e, nil
}

func toAnyMap(m map[string]map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Evaluate checks every subject of in against every policy that is not off
// in one query, and applies severities and exceptions.
func (e *Engine) Evaluate(ctx context.Context, in Input) (Result, error) {
	res, _, err := e.EvaluateKeeping(ctx, in)
	return res, err
}

// EvaluateKeeping is Evaluate that also returns, for each subject in
// input order, what the local policies found about it, to give back with
// the same subject in a later evaluation (Subject.Local); nil when no
// policy is local.
func (e *Engine) EvaluateKeeping(ctx context.Context, in Input) (Result, []*Local, error) {
	found, locals, err := e.judgeWith(ctx, in)
	if err != nil {
		return Result{Violations: []Violation{}}, nil, err
	}
	return result(found, in.Subjects), locals, nil
}

// judged is one finding with its severity and exception applied, and the
// subject and path it points at, so that it can be placed in its file by
// whoever holds the objects' sources (see result).
type judged struct {
	Violation Violation `json:"violation"`
	Subject   int       `json:"subject"` // -1 for findings about no object
	Path      []any     `json:"path,omitempty"`
	Excepted  bool      `json:"excepted,omitempty"`
}

// judge evaluates in and returns its findings, unplaced and unsorted.
func (e *Engine) judge(ctx context.Context, in Input) ([]judged, error) {
	found, _, err := e.judgeWith(ctx, in)
	return found, err
}

// judgeWith is judge that also returns what the local policies found
// about each subject (nil when the engine has none).
func (e *Engine) judgeWith(ctx context.Context, in Input) ([]judged, []*Local, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("evaluate policies: %w", err)
	}
	start := time.Now()
	var out []judged
	excepted := 0
	add := func(id string, f finding) {
		j := judged{Violation: f.violation(id, e.settings.severity[id], in.Subjects), Subject: f.subject, Path: f.path}
		if x, ok := exception(j.Violation, e.settings.exceptions); ok {
			j.Violation.Exception, j.Excepted = x.Reason, true
			excepted++
		}
		out = append(out, j)
	}
	locals, err := e.judgeLocal(ctx, in, add)
	if err != nil {
		return nil, nil, err
	}
	for g, sub := range map[reach]Input{reachAggregates: {Cost: in.Cost, Quotas: in.Quotas}, reachWhole: in} {
		if e.groups[g].query == nil {
			continue
		}
		found, err := e.eval(ctx, e.groups[g], sub, in.Subjects, len(in.Subjects))
		if err != nil {
			return nil, nil, err
		}
		for i, fs := range found {
			for _, f := range fs {
				add(e.groups[g].ids[i], f)
			}
		}
	}
	e.log.DebugContext(ctx, "policies evaluated", "subjects", len(in.Subjects),
		"violations", len(out)-excepted, "excepted", excepted, "duration", time.Since(start))
	return out, locals, nil
}

// eval evaluates the policies of g on in, whose subjects are subjects
// (the input may leave them out: policies of g never read them), and
// returns the findings of each policy.
func (e *Engine) eval(ctx context.Context, g group, in Input, subjects []Subject, n int) ([][]finding, error) {
	value, err := inputValue(in, e.params)
	if err != nil {
		return nil, err
	}
	if in.Quotas != nil {
		v, err := e.quotas.value(in.Quotas, len(subjects))
		if err != nil {
			return nil, err
		}
		value.(ast.Object).Insert(ast.StringTerm("quotas"), ast.NewTerm(v))
	}
	rs, err := g.query.Eval(ctx, rego.EvalParsedInput(value))
	if err != nil {
		return nil, fmt.Errorf("evaluate policies: %w", err)
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("evaluate policies: expected one result, got %d", len(rs))
	}
	out := make([][]finding, len(g.ids))
	for i, id := range g.ids {
		if out[i], err = decodeFindings(id, rs[0].Bindings[fmt.Sprintf("p%d", i)], n); err != nil {
			return nil, fmt.Errorf("evaluate policies: %w", err)
		}
	}
	return out, nil
}

// judgeLocal gives add the findings of the subject-local policies: those
// a subject brings (Subject.Local) or the memo remembers, the others'
// from one evaluation of the subjects not known, which are remembered in
// turn. It returns what was found about each subject, nil when the engine
// has no local policies.
func (e *Engine) judgeLocal(ctx context.Context, in Input, add func(id string, f finding)) ([]*Local, error) {
	g := e.groups[reachLocal]
	if g.query == nil {
		return nil, nil
	}
	out := make([]*Local, len(in.Subjects))
	// Only the subjects without what they found are looked up: their
	// index among the subjects and key.
	var ask []int
	var keys []memoKey
	batch := map[memoKey]int{} // key to index in missing
	// Subjects of one request come one after the other with one context:
	// its key is written once for them.
	var last Context
	var lastKey string
	var missing []Subject
	e.memo.mu.Lock()
	for i, s := range in.Subjects {
		if s.Object == nil {
			e.memo.mu.Unlock()
			return nil, fmt.Errorf("build policy input: subjects[%d]: object is missing", i)
		}
		if s.Local != nil && s.Local.engine == e.digest {
			out[i] = s.Local
			continue
		}
		content := s.Digest
		if content == "" {
			content = manifest.ContentDigest(s.Object.Content)
		}
		if !sameContext(last, s.Context) || lastKey == "" {
			last, lastKey = s.Context, contextKey(s.Context)
		}
		key := subjectKeyOf(e.digest, s, content, lastKey)
		if fs, ok := e.memo.get(key); ok {
			out[i] = &Local{engine: e.digest, findings: fs}
			e.memo.hits++
			continue
		}
		ask, keys = append(ask, i), append(keys, key)
		if _, queued := batch[key]; !queued {
			batch[key] = len(missing)
			missing = append(missing, s)
			e.memo.misses++
		}
	}
	e.memo.mu.Unlock()
	if len(missing) > 0 {
		fresh := make([][]memoFinding, len(missing))
		found, err := e.eval(ctx, g, Input{Subjects: missing}, missing, len(missing))
		if err != nil {
			return nil, err
		}
		for p, fs := range found {
			for _, f := range fs {
				if f.subject < 0 {
					return nil, fmt.Errorf("evaluate policies: policy %s: a finding names no subject", g.ids[p])
				}
				fresh[f.subject] = append(fresh[f.subject], memoFinding{policy: p, path: f.path, message: f.message})
			}
		}
		e.memo.mu.Lock()
		for k, b := range batch {
			e.memo.put(k, fresh[b])
		}
		e.memo.mu.Unlock()
		for a, i := range ask {
			out[i] = &Local{engine: e.digest, findings: fresh[batch[keys[a]]]}
		}
	}
	for i, l := range out {
		for _, f := range l.findings {
			add(g.ids[f.policy], finding{subject: i, path: f.path, message: f.message})
		}
	}
	return out, nil
}

// result places every finding at its file and line among subjects and
// sorts them into a Result.
func result(found []judged, subjects []Subject) Result {
	res := Result{Violations: []Violation{}}
	for _, j := range found {
		v := j.Violation
		if j.Subject >= 0 && j.Subject < len(subjects) && subjects[j.Subject].Object != nil {
			obj := subjects[j.Subject].Object
			v.File, v.Line = obj.File, obj.FieldLine(j.Path...)
		}
		if j.Excepted {
			res.Excepted = append(res.Excepted, v)
		} else {
			res.Violations = append(res.Violations, v)
		}
	}
	sortViolations(res.Violations)
	sortViolations(res.Excepted)
	return res
}

// Policies describes every policy the engine knows, off ones included,
// sorted by id, with the severity in effect.
func (e *Engine) Policies() []Info {
	out := make([]Info, 0, len(e.defs))
	for _, id := range sortedKeys(e.defs) {
		out = append(out, infoOf(e.defs[id], e.settings.severity[id]))
	}
	return out
}
