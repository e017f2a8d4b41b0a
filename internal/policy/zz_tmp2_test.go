package policy

import (
	"context"
	"fmt"
	"testing"

	"github.com/open-policy-agent/opa/v1/profiler"
	"github.com/open-policy-agent/opa/v1/rego"
)

func TestTmpProfile(t *testing.T) {
	ctx := context.Background()
	e, _ := New(ctx, Options{})
	in := Input{Subjects: subjectsOf(typicalObjects(t, 1000))}
	v, _ := inputValue(in, e.params)
	p := profiler.New()
	_, err := e.query.Eval(ctx, rego.EvalParsedInput(v), rego.EvalQueryTracer(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.ReportTopNResults(0, []string{"num_eval"}) {
		fmt.Printf("%8d %6dus  %s\n", s.NumEval, s.ExprTimeNs/1000, s.Location)
	}
	var total int
	byFile := map[string]int{}
	for _, s := range p.ReportTopNResults(100000, []string{"num_eval"}) {
		total += s.NumEval
		byFile[s.Location.File] += s.NumEval
	}
	fmt.Println("total evals", total)
	for f, n := range byFile {
		fmt.Printf("%7d %s\n", n, f)
	}
}
