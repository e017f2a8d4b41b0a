package policy

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/gitvend/gitvend/policies"
)

// TestResult is the outcome of one Rego unit test.
type TestResult struct {
	// Package is the test's package, such as
	// "data.gitvend.policies.privileged_container_test".
	Package string `json:"package"`
	// Name is the test rule's name.
	Name string `json:"name"`
	// File and Line place the test.
	File string `json:"file"`
	Line int    `json:"line"`
	// Passed tells whether the test passed; a skipped test did not.
	Passed bool `json:"passed"`
	// Skipped tells whether the test is marked todo_.
	Skipped bool `json:"skipped,omitempty"`
	// Failure says why the test failed: the error, or the cases of a
	// data-driven test that failed.
	Failure string `json:"failure,omitempty"`
	// Output is what the test printed.
	Output string `json:"output,omitempty"`
	// Duration is how long the test ran.
	Duration time.Duration `json:"duration"`
}

// String formats the result as one line: "file:line: package.name: PASS".
func (r TestResult) String() string {
	outcome := "PASS"
	switch {
	case r.Skipped:
		outcome = "SKIPPED"
	case !r.Passed:
		outcome = "FAIL: " + r.Failure
	}
	s := fmt.Sprintf("%s:%d: %s.%s: %s", r.File, r.Line, r.Package, r.Name, outcome)
	if !r.Passed && r.Output != "" {
		s += "\n" + strings.TrimRight(r.Output, "\n")
	}
	return s
}

// Test runs the Rego unit tests of the built-in library and of extra (a
// repository's policies/ directory, nil for none) against the same modules
// New would load: a repository module replaces the built-in modules of its
// package, and the built-in tests of that package are dropped with them.
// Results are sorted by file and line. The error is for policies that do
// not load or compile; failed tests are only in the results.
func Test(ctx context.Context, extra fs.FS) ([]TestResult, error) {
	var all [2][]source
	for i, set := range []struct {
		fsys    fs.FS
		prefix  string
		builtin bool
	}{{policies.Modules(), builtinPrefix, true}, {extra, extraPrefix, false}} {
		for _, tests := range []bool{false, true} {
			fsys := set.fsys
			if set.builtin && tests {
				fsys = policies.Tests()
			}
			srcs, err := parseFS(fsys, set.prefix, tests, set.builtin)
			if err != nil {
				return nil, fmt.Errorf("load policy tests: %w", err)
			}
			all[i] = append(all[i], srcs...)
		}
	}
	srcs, _ := merge(all[0], all[1])
	mods := make(map[string]*ast.Module, len(srcs))
	for _, s := range srcs {
		mods[s.name] = s.module
	}
	ch, err := tester.NewRunner().
		SetCompiler(newCompiler(true)).
		SetStore(inmem.New()).
		SetModules(mods).
		CapturePrintOutput(true).
		SetTimeout(time.Minute).
		RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("compile policy tests: %w", err)
	}
	dataDriven := map[string]bool{}
	for _, s := range srcs {
		for _, rule := range s.module.Rules {
			if rule.Head.DocKind() == ast.PartialObjectDoc {
				dataDriven[s.module.Package.Path.String()+"."+rule.Head.Ref().GroundPrefix().String()] = true
			}
		}
	}
	var out []TestResult
	for r := range ch {
		tr := testResult(r)
		if tr.Passed && dataDriven[r.Package+"."+r.Name] && len(r.SubResults) == 0 {
			tr.Passed = false
			tr.Failure = "no case ran: the collection the test iterates over is empty or undefined"
		}
		out = append(out, tr)
	}
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("run policy tests: %w", err)
	}
	slices.SortFunc(out, func(a, b TestResult) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

func testResult(r *tester.Result) TestResult {
	tr := TestResult{
		Package:  r.Package,
		Name:     r.Name,
		Passed:   r.Pass(),
		Skipped:  r.Skip,
		Output:   string(r.Output),
		Duration: r.Duration,
	}
	if r.Location != nil {
		tr.File, tr.Line = r.Location.File, r.Location.Row
	}
	switch {
	case r.Error != nil:
		tr.Failure = r.Error.Error()
	case r.Fail:
		var cases []string
		for name, sr := range r.SubResults.Iter {
			if sr.Fail && len(sr.SubResults) == 0 {
				cases = append(cases, strings.Join(name, "/"))
			}
		}
		if len(cases) > 0 {
			tr.Failure = "failed cases: " + strings.Join(cases, ", ")
		} else {
			tr.Failure = "the test is false or undefined"
		}
	}
	return tr
}
