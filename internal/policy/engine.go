package policy

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/gitvend/gitvend/internal/config"
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
	// Sandboxed restricts the policies further, to what a policy that is
	// not trusted may call (see Sandbox).
	Sandboxed bool
}

// Engine evaluates the policy library. It is built once and is safe for
// concurrent use: every evaluation reuses the same prepared query.
type Engine struct {
	defs     map[string]*policyDef
	settings settings
	enabled  []string // ids evaluated, in query order
	params   *ast.Term
	query    *rego.PreparedEvalQuery
	log      *slog.Logger
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
	e := &Engine{defs: defs, settings: set, params: ast.NewTerm(params), log: log}
	var body strings.Builder
	for _, id := range sortedKeys(defs) {
		if set.severity[id] == SeverityOff {
			continue
		}
		fmt.Fprintf(&body, "p%d = %s.violation\n", len(e.enabled), defs[id].ref)
		e.enabled = append(e.enabled, id)
	}
	if len(e.enabled) > 0 {
		pq, err := rego.New(rego.Compiler(c), rego.Query(body.String())).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("prepare policy query: %w", err)
		}
		e.query = &pq
	}
	log.DebugContext(ctx, "policies loaded", "policies", len(defs), "enabled", len(e.enabled), "modules", len(srcs))
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
	found, err := e.judge(ctx, in)
	if err != nil {
		return Result{Violations: []Violation{}}, err
	}
	return result(found, in.Subjects), nil
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
	if e.query == nil {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluate policies: %w", err)
	}
	start := time.Now()
	value, err := inputValue(in, e.params)
	if err != nil {
		return nil, err
	}
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(value))
	if err != nil {
		return nil, fmt.Errorf("evaluate policies: %w", err)
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("evaluate policies: expected one result, got %d", len(rs))
	}
	var out []judged
	excepted := 0
	for i, id := range e.enabled {
		found, err := decodeFindings(id, rs[0].Bindings[fmt.Sprintf("p%d", i)], len(in.Subjects))
		if err != nil {
			return nil, fmt.Errorf("evaluate policies: %w", err)
		}
		for _, f := range found {
			j := judged{Violation: f.violation(id, e.settings.severity[id], in.Subjects), Subject: f.subject, Path: f.path}
			if x, ok := exception(j.Violation, e.settings.exceptions); ok {
				j.Violation.Exception, j.Excepted = x.Reason, true
				excepted++
			}
			out = append(out, j)
		}
	}
	e.log.DebugContext(ctx, "policies evaluated", "subjects", len(in.Subjects),
		"violations", len(out)-excepted, "excepted", excepted, "duration", time.Since(start))
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
