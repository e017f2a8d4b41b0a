package check

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/policy"
)

// evaluator judges a policy input: the checker's engine, or a sandbox
// holding a pull request's policies.
type evaluator interface {
	Evaluate(ctx context.Context, in policy.Input) (policy.Result, error)
}

// keepingEvaluator is an evaluator that also hands out what its local
// policies found about each subject (policy.Engine).
type keepingEvaluator interface {
	EvaluateKeeping(ctx context.Context, in policy.Input) (policy.Result, []*policy.Local, error)
}

// evaluator returns what judges the checker's objects.
func (c *Checker) evaluator() evaluator {
	if c.judge != nil {
		return c.judge
	}
	return c.engine
}

// What a pull request can change that changes how objects are judged.
const (
	RulesPolicies   = "policies/"
	RulesSettings   = "policy settings"
	RulesExceptions = "policy exceptions"
	RulesBlueprints = "blueprints/"
)

// RulesChanged lists what the repository checked out in headDir changes
// against baseDir in the rules that judge objects: the Rego files of
// policies/ (unit tests left out), the policy settings and the exceptions
// of gitvend.yaml, and blueprints/. Nothing listed means the head's rules
// judge every object as the base's do. A gitvend.yaml of the head that
// cannot be read counts as changed settings.
func RulesChanged(baseDir, headDir string) ([]string, error) {
	var out []string
	for _, d := range []struct {
		name, dir string
		rego      bool
	}{{RulesPolicies, "policies", true}, {RulesBlueprints, blueprint.RepoDir, false}} {
		b, err := treeFingerprint(filepath.Join(baseDir, d.dir), d.rego)
		if err != nil {
			return nil, err
		}
		h, err := treeFingerprint(filepath.Join(headDir, d.dir), d.rego)
		if err != nil {
			return nil, err
		}
		if b != h {
			out = append(out, d.name)
		}
	}
	base, err := config.LoadRepo(baseDir)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	head, err := headConfig(context.Background(), headDir)
	if err != nil {
		return append(out, RulesSettings), nil
	}
	if !reflect.DeepEqual(base.Policy.Policies, head.Policy.Policies) ||
		!slices.Equal(base.Policy.ClusterScopedKinds, head.Policy.ClusterScopedKinds) {
		out = append(out, RulesSettings)
	}
	if !reflect.DeepEqual(base.Policy.Exceptions, head.Policy.Exceptions) {
		out = append(out, RulesExceptions)
	}
	slices.Sort(out)
	return out, nil
}

// treeFingerprint hashes the files under dir (only the Rego files that are
// not unit tests when rego is set); "" when dir does not exist.
func treeFingerprint(dir string, rego bool) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if rego && (filepath.Ext(p) != ".rego" || strings.HasSuffix(p, "_test.rego")) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(p[len(dir):]), len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ImpactReport is what a pull request's rules change in how the base
// branch's desired state is judged.
type ImpactReport struct {
	// Passed is false when the head's rules newly deny an object, or
	// cannot be used at all.
	Passed bool `json:"passed"`
	// Changed lists what the head changes in the rules (see RulesChanged).
	Changed []string `json:"changed"`
	// Objects is how many objects of the base were judged.
	Objects int `json:"objects"`
	// Environments are the environments whose judgement changes, by name;
	// findings about no object (budgets) are under "".
	Environments []EnvironmentImpact `json:"environments"`
	// Errors are what is wrong with the head's rules: a Rego file that
	// does not parse or compile, wrong settings, an evaluation that ran out
	// of time or memory. With errors, nothing else is known.
	Errors []Problem `json:"errors,omitempty"`
}

// EnvironmentImpact is what changes in one environment.
type EnvironmentImpact struct {
	Environment string `json:"environment"`
	// NewlyDenied are denials of the head's rules that the base's rules
	// do not deny (absent, warned, or excepted there).
	NewlyDenied []policy.Violation `json:"newly_denied"`
	// NewlyWarned are warnings of the head's rules the base's rules do not
	// report at all.
	NewlyWarned []policy.Violation `json:"newly_warned"`
	// StoppedDenying are the base's denials the head's rules no longer
	// deny; Severity is the base's.
	StoppedDenying []policy.Violation `json:"stopped_denying"`
	// StoppedWarning are the base's warnings the head's rules no longer
	// report at all.
	StoppedWarning []policy.Violation `json:"stopped_warning"`
}

// NewlyDenied counts the denials the head's rules add.
func (r *ImpactReport) NewlyDenied() int {
	n := 0
	for _, e := range r.Environments {
		n += len(e.NewlyDenied)
	}
	return n
}

// ImpactOptions configure Impact.
type ImpactOptions struct {
	// Limits bound the evaluation of the head's policies.
	Limits policy.Limits
	// Logger receives what the checkers load; nil discards it.
	Logger *slog.Logger
}

// Impact judges the desired state of the base checked out in baseDir
// twice: with the base's policies and settings, in process, and with the
// head's (headDir's policies/, the policy settings and exceptions of its
// gitvend.yaml), in a policy.Sandbox; when the head changes blueprints/,
// the head's judgement is of the base's requests rendered again with the
// head's blueprints. Everything else (teams, budgets, prices) is the
// base's. The report lists, per environment, what the head's rules newly
// deny or warn and what they stop denying or warning.
func Impact(ctx context.Context, baseDir, headDir string, opts ImpactOptions) (*ImpactReport, error) {
	changed, err := RulesChanged(baseDir, headDir)
	if err != nil {
		return nil, err
	}
	base, err := New(ctx, baseDir, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	rep := &ImpactReport{Changed: changed, Environments: []EnvironmentImpact{}}
	if changed == nil {
		rep.Changed = []string{}
	}
	before, err := base.Check(ctx, []string{baseDir}, "")
	if err != nil {
		return nil, fmt.Errorf("judge the base with its rules: %w", err)
	}
	rep.Objects = before.Objects

	headCfg, err := headConfig(ctx, headDir)
	if err != nil {
		rep.Errors = rulesProblems(err, config.RepoFile)
		return rep, nil
	}
	var extra fs.FS
	if info, err := os.Lstat(filepath.Join(headDir, "policies")); err == nil && info.IsDir() {
		extra = os.DirFS(filepath.Join(headDir, "policies"))
	}
	sandbox, err := policy.NewSandbox(extra, headCfg.Policy, opts.Limits)
	if err != nil {
		rep.Errors = rulesProblems(err, "")
		return rep, nil
	}
	judged := base.For(baseDir)
	judged.judge = sandbox
	if slices.Contains(changed, RulesBlueprints) {
		dir, cleanup, problems, err := rerender(ctx, baseDir, headDir, base.cfg)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		if len(problems) > 0 {
			rep.Errors = problems
			return rep, nil
		}
		judged = judged.For(dir)
	}
	after, err := judged.Check(ctx, []string{judged.repoDir}, "")
	var rules *policy.RulesError
	if errors.As(err, &rules) {
		for _, p := range rules.Problems {
			rep.Errors = append(rep.Errors, Problem{File: p.File, Line: p.Line, Message: p.Message})
		}
		return rep, nil
	}
	if err != nil {
		return nil, fmt.Errorf("judge the base with the head's rules: %w", err)
	}
	rep.Environments = compareJudgements(base.cfg, before.Violations, after.Violations)
	rep.Passed = rep.NewlyDenied() == 0
	return rep, nil
}

// headConfig reads the gitvend.yaml of the head checked out in dir through
// a confined view of it, so that a link cannot make it read another file.
func headConfig(ctx context.Context, dir string) (*config.Repo, error) {
	tree, err := manifest.OpenTree(ctx, dir, manifest.Limits{})
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	return repoConfig(tree)
}

// rulesProblems turns an error about the head's rules into problems, in
// file when the error names none.
func rulesProblems(err error, file string) []Problem {
	var out []Problem
	var rules *policy.RulesError
	if errors.As(err, &rules) {
		for _, p := range rules.Problems {
			out = append(out, Problem{File: p.File, Line: p.Line, Message: p.Message})
		}
		return out
	}
	for _, e := range fieldErrors(err) {
		out = append(out, Problem{File: cmp.Or(e.File, file), Line: e.Line, Message: e.Message})
	}
	return out
}

// fieldErrors are the field errors of err, or err itself as one problem.
func fieldErrors(err error) []Problem {
	var out []Problem
	for _, e := range field.All(err) {
		msg := e.Msg
		if e.Field != "" {
			msg = e.Field + ": " + msg
		}
		out = append(out, Problem{File: e.File, Line: e.Line, Message: msg})
	}
	if len(out) == 0 {
		out = append(out, Problem{Message: err.Error()})
	}
	return out
}

// rerender copies the base checked out in baseDir (without .git) and
// renders every request there again with the blueprints of headDir. It
// returns the copy, and problems for requests that no longer render.
func rerender(ctx context.Context, baseDir, headDir string, cfg *config.Repo) (string, func(), []Problem, error) {
	dir, err := os.MkdirTemp("", "gitvend-impact-")
	if err != nil {
		return "", nil, nil, fmt.Errorf("re-render: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	if err := copyTree(baseDir, dir); err != nil {
		cleanup()
		return "", nil, nil, fmt.Errorf("re-render: %w", err)
	}
	// The head's blueprints are copied without links first: a link could
	// make a blueprint render a file from outside the repository.
	headBlueprints := filepath.Join(dir+"-head", blueprint.RepoDir)
	cleanup = func() { _ = os.RemoveAll(dir); _ = os.RemoveAll(dir + "-head") }
	if err := copyTree(filepath.Join(headDir, blueprint.RepoDir), headBlueprints); err != nil && !errors.Is(err, fs.ErrNotExist) {
		cleanup()
		return "", nil, nil, fmt.Errorf("re-render: %w", err)
	}
	cat, err := blueprint.Load(ctx, blueprint.RepoSources(filepath.Dir(headBlueprints))...)
	if err != nil {
		cleanup()
		return "", nil, rulesProblems(err, blueprint.RepoDir), nil
	}
	plan, err := desired.Build(ctx, dir, cfg, cat)
	if err != nil {
		cleanup()
		return "", nil, rulesProblems(err, ""), nil
	}
	if _, err := desired.Write(ctx, dir, plan); err != nil {
		cleanup()
		return "", nil, rulesProblems(err, ""), nil
	}
	return dir, cleanup, nil, nil
}

// copyTree copies the regular files and folders under src to dst, leaving
// out .git and links.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

// findingKey names a finding by policy, object and place, not by its
// message: rules that only reword a message change nothing.
func findingKey(v policy.Violation) string {
	return strings.Join([]string{v.Policy, v.ID.String(), v.File, fmt.Sprint(v.Line)}, "\x00")
}

// compareJudgements sorts what changes between the findings before (the
// base's rules) and after (the head's) into environments, in name order.
// Findings with the same key are matched one to one.
func compareJudgements(cfg *config.Repo, before, after []policy.Violation) []EnvironmentImpact {
	index := func(vs []policy.Violation, sev string) map[string]int {
		m := map[string]int{}
		for _, v := range vs {
			if sev == "" || v.Severity == sev {
				m[findingKey(v)]++
			}
		}
		return m
	}
	envs := map[string]*EnvironmentImpact{}
	env := func(v policy.Violation) *EnvironmentImpact {
		name := ""
		if v.File != "" {
			name = desired.Locate(cfg, v.File).Environment
		}
		e, ok := envs[name]
		if !ok {
			e = &EnvironmentImpact{Environment: name, NewlyDenied: []policy.Violation{}, NewlyWarned: []policy.Violation{},
				StoppedDenying: []policy.Violation{}, StoppedWarning: []policy.Violation{}}
			envs[name] = e
		}
		return e
	}
	// take reports whether m still holds key, and uses one of it up.
	take := func(m map[string]int, key string) bool {
		if m[key] > 0 {
			m[key]--
			return true
		}
		return false
	}
	// missing files each finding of from that other does not hold (a deny
	// against other's denials, a warning against all its findings) under
	// the list denied or warned picks.
	missing := func(from, other []policy.Violation, denied, warned func(*EnvironmentImpact) *[]policy.Violation) {
		deny, all := index(other, policy.SeverityDeny), index(other, "")
		for _, v := range from {
			k := findingKey(v)
			switch {
			case v.Severity == policy.SeverityDeny && !take(deny, k):
				list := denied(env(v))
				*list = append(*list, v)
			case v.Severity != policy.SeverityDeny && !take(all, k):
				list := warned(env(v))
				*list = append(*list, v)
			}
		}
	}
	missing(after, before, func(e *EnvironmentImpact) *[]policy.Violation { return &e.NewlyDenied },
		func(e *EnvironmentImpact) *[]policy.Violation { return &e.NewlyWarned })
	missing(before, after, func(e *EnvironmentImpact) *[]policy.Violation { return &e.StoppedDenying },
		func(e *EnvironmentImpact) *[]policy.Violation { return &e.StoppedWarning })
	out := make([]EnvironmentImpact, 0, len(envs))
	for _, name := range sortedNames(envs) {
		out = append(out, *envs[name])
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ImpactFormats lists the formats WriteImpact accepts.
var ImpactFormats = []string{"text", "json", "markdown"}

// WriteImpact writes rep in format: text, json or markdown.
func WriteImpact(w io.Writer, rep *ImpactReport, format string) error {
	var buf bytes.Buffer
	switch format {
	case "json":
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write impact: %w", err)
		}
	case "markdown":
		buf.WriteString(ImpactMarkdown(rep))
	case "text":
		writeImpactText(&buf, rep)
	default:
		return fmt.Errorf("unknown format %q; allowed: %s", format, strings.Join(ImpactFormats, ", "))
	}
	_, err := w.Write(buf.Bytes())
	return err
}
