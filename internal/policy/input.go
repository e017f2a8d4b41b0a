package policy

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/gitvend/gitvend/internal/manifest"
)

// Input is what one evaluation checks.
type Input struct {
	// Subjects are the objects to check, each with where it comes from.
	Subjects []Subject
	// Cost is the cost estimate the budget policy checks; nil skips it.
	Cost *CostInput
	// Quotas are the ResourceQuotas the quota policy checks, each with
	// the use of its namespace; nil leaves input.quotas out.
	Quotas []QuotaInput
}

// QuotaInput is one ResourceQuota held against its namespace.
type QuotaInput struct {
	// Subject is the quota's index in Subjects.
	Subject     int
	Environment string
	Namespace   string
	Name        string
	// Resources are the hard values judged.
	Resources []QuotaResource
	// Problems are quantities that could not be read, so that the quota
	// cannot be judged on them.
	Problems []string
}

// QuotaResource is one hard value of a quota. Hard, Used, After and Share
// are exact decimal numbers in base units (cores, bytes, objects), which
// policies compare exactly; the Text fields print them as quantities.
type QuotaResource struct {
	Name                                     string
	Hard, Used, After, Share                 string
	HardText, UsedText, AfterText, ShareText string
	HeadroomText                             string
	// Tightened is set when the change brings this hard value: the
	// quota or the value is new, or lower than on the base.
	Tightened bool
}

// Subject is one object to check.
type Subject struct {
	// Object is the object, with the file and line it was read from.
	Object *manifest.Object
	// Context says where the object comes from.
	Context Context
	// Digest is a digest of Object.Content that changes whenever the
	// content does (such as a hash of its JSON), by which the findings
	// of subject-local policies are remembered; "" lets the engine
	// compute it.
	Digest string
	// Local, when set, is what the local policies found about this
	// subject in an earlier evaluation (Engine.EvaluateKeeping): the caller vouches
	// that the object's content and context are the same as then. An
	// engine other than the one that found it looks the subject up as
	// usual.
	Local *Local
}

// Local is what one engine's subject-local policies found about one
// subject, which an evaluation hands out (Engine.EvaluateKeeping) so that a later
// one of the same subject need not look it up or evaluate it again.
type Local struct {
	engine   string // the digest of the engine's policies and params
	findings []memoFinding
}

// Context says where an object comes from.
type Context struct {
	// Environment is the environment the object is rendered for.
	Environment string
	// Request is the name of the request that rendered the object, "" for
	// objects written by hand.
	Request string
	// Owner is the team that owns the object: the owner named by the
	// record of the request that rendered it or, for objects written by
	// hand, the team that claims the object's namespace in gitvend.yaml;
	// never the object's own label, which whoever writes it chooses. ""
	// when there is none.
	Owner string
	// Namespace is the namespace the object's request targets, "" when the
	// object is not from a request.
	Namespace string
	// AllowedNamespaces are the namespaces the owner may use (a trailing
	// "*" matches a prefix); nil when the owner is not a team of
	// gitvend.yaml, which the namespace-boundary policy denies.
	AllowedNamespaces []string
}

// CostInput is the monthly cost estimate of the objects, per budget.
type CostInput struct {
	// Currency of every amount, such as "USD".
	Currency string
	// Budgets are the budgets of gitvend.yaml with the estimate they cover.
	Budgets []BudgetInput
}

// BudgetInput is one budget and the estimate it covers.
type BudgetInput struct {
	// Scope is "owner" (a team's budget) or "namespace".
	Scope string
	// Name is the team or the namespace.
	Name string
	// Environment limits the budget to one environment; "" for all.
	Environment string
	// Monthly is the estimated monthly cost.
	Monthly float64
	// Limit is the budget's monthly amount.
	Limit float64
}

// Budget scopes.
const (
	ScopeOwner     = "owner"
	ScopeNamespace = "namespace"
)

// Scopes an object may have, as policies see them in input.subjects[_].scope.
const (
	scopeNamespaced = "namespaced"
	scopeCluster    = "cluster"
	scopeUnknown    = ""
)

// inputValue builds the policies' input directly as an OPA value, without
// a JSON round trip, all but input.quotas (see quotaTerms). params is the
// constant parameter object.
func inputValue(in Input, params *ast.Term) (ast.Value, error) {
	subjects, err := subjectTerms(in.Subjects)
	if err != nil {
		return nil, err
	}
	items := [][2]*ast.Term{
		ast.Item(ast.StringTerm("subjects"), ast.ArrayTerm(subjects...)),
		ast.Item(ast.StringTerm("params"), params),
	}
	if in.Cost != nil {
		budgets := make([]any, len(in.Cost.Budgets))
		for i, b := range in.Cost.Budgets {
			if b.Scope != ScopeOwner && b.Scope != ScopeNamespace {
				return nil, fmt.Errorf("build policy input: cost.budgets[%d].scope must be %q or %q, got %q", i, ScopeOwner, ScopeNamespace, b.Scope)
			}
			budgets[i] = map[string]any{
				"scope": b.Scope, "name": b.Name, "environment": b.Environment,
				"monthly": b.Monthly, "limit": b.Limit,
			}
		}
		v, err := ast.InterfaceToValue(map[string]any{"currency": in.Cost.Currency, "budgets": budgets})
		if err != nil {
			return nil, fmt.Errorf("build policy input: cost: %w", err)
		}
		items = append(items, ast.Item(ast.StringTerm("cost"), ast.NewTerm(v)))
	}
	return ast.NewObject(items...), nil
}

// chunk is how many subjects one goroutine converts at a time.
const chunk = 128

// subjectTerms converts the subjects, in parallel on large inputs: the
// conversion is a fair part of an evaluation and needs no coordination.
func subjectTerms(subjects []Subject) ([]*ast.Term, error) {
	out := make([]*ast.Term, len(subjects))
	workers := min(runtime.GOMAXPROCS(0), (len(subjects)+chunk-1)/chunk)
	if workers <= 1 {
		return out, convertRange(subjects, out, 0, len(subjects))
	}
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= len(subjects) {
					return
				}
				if err := convertRange(subjects, out, start, min(start+chunk, len(subjects))); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// convertRange converts subjects[start:end] into out[start:end].
func convertRange(subjects []Subject, out []*ast.Term, start, end int) error {
	for i := start; i < end; i++ {
		s := subjects[i]
		if s.Object == nil {
			return fmt.Errorf("build policy input: subjects[%d]: object is missing", i)
		}
		var content ast.Value = ast.NewObject()
		if s.Object.Content != nil {
			v, err := ast.InterfaceToValue(s.Object.Content)
			if err != nil {
				return fmt.Errorf("build policy input: %s: %w", s.Object.Position(), err)
			}
			content = v
		}
		out[i] = ast.ObjectTerm(
			ast.Item(ast.StringTerm("object"), ast.NewTerm(content)),
			ast.Item(ast.StringTerm("groupKind"), ast.StringTerm(s.Object.GroupKind())),
			ast.Item(ast.StringTerm("scope"), ast.StringTerm(scopeOf(s.Object.ID))),
			ast.Item(ast.StringTerm("context"), contextTerm(s.Context)),
		)
	}
	return nil
}

func contextTerm(c Context) *ast.Term {
	allowed := ast.NullTerm()
	if c.AllowedNamespaces != nil {
		ns := make([]*ast.Term, len(c.AllowedNamespaces))
		for i, n := range c.AllowedNamespaces {
			ns[i] = ast.StringTerm(n)
		}
		allowed = ast.ArrayTerm(ns...)
	}
	return ast.ObjectTerm(
		ast.Item(ast.StringTerm("environment"), ast.StringTerm(c.Environment)),
		ast.Item(ast.StringTerm("request"), ast.StringTerm(c.Request)),
		ast.Item(ast.StringTerm("owner"), ast.StringTerm(c.Owner)),
		ast.Item(ast.StringTerm("namespace"), ast.StringTerm(c.Namespace)),
		ast.Item(ast.StringTerm("allowedNamespaces"), allowed),
	)
}

// scopeOf tells policies whether the kind of id is namespaced.
func scopeOf(id manifest.ID) string {
	namespaced, known := manifest.Scope(id)
	switch {
	case !known:
		return scopeUnknown
	case namespaced:
		return scopeNamespaced
	}
	return scopeCluster
}
