package check

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/policy"
)

// place is where an object was read from.
type place struct {
	file string
	line int
}

// places returns where the object of each subject was read from, by
// placeKey; the index is made at the first question, which only findings
// about no object ask.
func places(subjects []policy.Subject) func(key string) (place, bool) {
	var where map[string]place
	return func(key string) (place, bool) {
		if where == nil {
			where = make(map[string]place, len(subjects))
			for _, s := range subjects {
				where[placeKey(s.Context.Environment, s.Object.ID)] = place{file: s.Object.File, line: s.Object.Line}
			}
		}
		p, ok := where[key]
		return p, ok
	}
}

// locate gives each finding that names no file one, so that every
// finding points somewhere a reader (and code scanning, which rejects a
// result without a location) can open: a budget's finding gets the
// budget's entry in gitvend.yaml; another finding about a namespace or a
// team without an object gets the object that spends most of it.
func (c *Checker) locate(vs []policy.Violation, budgets []cost.BudgetStatus, objects []cost.ObjectCost, where func(key string) (place, bool)) {
	var lines field.Lines
	linesRead := false
	for i := range vs {
		v := &vs[i]
		if v.File != "" || v.Kind != "" {
			continue
		}
		if b := budgetOf(*v, budgets); b >= 0 {
			if !linesRead {
				lines, linesRead = c.repoLines(), true
			}
			if lines != nil {
				v.File, v.Line = config.RepoFile, lines.Of(fmt.Sprintf("budgets[%d]", b))
				continue
			}
		}
		if p, ok := costliest(*v, objects, where); ok {
			v.File, v.Line = p.file, p.line
		}
	}
}

// budgetOf returns the index of the budget an object-less finding is
// about, or -1: an exceeded budget of the team (Name) or namespace
// (Namespace) it names, preferring the one whose environment the message
// names.
func budgetOf(v policy.Violation, budgets []cost.BudgetStatus) int {
	found := -1
	for i, b := range budgets {
		if !b.Exceeded {
			continue
		}
		match := (b.Scope == cost.ScopeOwner && v.Name == b.Name) ||
			(b.Scope == cost.ScopeNamespace && v.Name == "" && v.Namespace == b.Name)
		if !match {
			continue
		}
		if b.Environment != "" && strings.Contains(v.Message, " in "+b.Environment+",") {
			return i
		}
		if found < 0 {
			found = i
		}
	}
	return found
}

// costliest is the place of the object that spends most of the namespace
// or team the finding names.
func costliest(v policy.Violation, objects []cost.ObjectCost, where func(key string) (place, bool)) (place, bool) {
	var best place
	most := -1.0
	for _, o := range objects {
		switch {
		case v.Namespace != "" && o.Namespace != v.Namespace:
			continue
		case v.Namespace == "" && (v.Name == "" || o.Owner != v.Name):
			continue
		}
		p, ok := where(placeKey(o.Environment, o.ID))
		if ok && p.file != "" && o.Monthly > most {
			best, most = p, o.Monthly
		}
	}
	return best, most >= 0
}

// repoLines are the lines of the repository's gitvend.yaml, or nil when it
// has none or it cannot be read.
func (c *Checker) repoLines() field.Lines {
	data, err := os.ReadFile(filepath.Join(c.repoDir, config.RepoFile))
	if err != nil {
		return nil
	}
	var r config.Repo
	lines, err := field.Unmarshal(config.RepoFile, data, &r)
	if err != nil {
		return nil
	}
	return lines
}
