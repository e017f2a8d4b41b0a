package policy

import (
	"fmt"
	"strconv"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/open-policy-agent/opa/v1/ast"
)

// quotaTermsSize is how many quotas an engine keeps converted: every
// namespace of a few environments of a large repository, before and after
// a few changes.
const quotaTermsSize = 8192

// quotaTerms converts the quotas of inputs into input.quotas, keeping
// what it converted by content: a check of a large repository hands the
// engine hundreds of quotas of which a change touches one or two, and
// each holds some twenty terms.
type quotaTerms struct {
	cache *lru.Cache[string, [][2]*ast.Term]
}

func newQuotaTerms() *quotaTerms {
	c, err := lru.New[string, [][2]*ast.Term](quotaTermsSize)
	if err != nil {
		panic(err) // only for a size below one
	}
	return &quotaTerms{cache: c}
}

// Keys of a quota's object in input.quotas, never changed once made.
var (
	keySubject     = ast.StringTerm("subject")
	keyEnvironment = ast.StringTerm("environment")
	keyNamespace   = ast.StringTerm("namespace")
	keyName        = ast.StringTerm("name")
	keyResources   = ast.StringTerm("resources")
	keyProblems    = ast.StringTerm("problems")
)

// value builds input.quotas; the amounts become numbers without passing
// through float64, so that policies compare them exactly. subjects is
// how many subjects the input has.
func (t *quotaTerms) value(quotas []QuotaInput, subjects int) (ast.Value, error) {
	terms := make([]*ast.Term, len(quotas))
	for i, q := range quotas {
		if q.Subject < 0 || q.Subject >= subjects {
			return nil, fmt.Errorf("build policy input: quotas[%d]: subject %d is not an index into the subjects", i, q.Subject)
		}
		key := quotaKey(q)
		rest, ok := t.cache.Get(key)
		if !ok {
			var err error
			if rest, err = quotaItems(q); err != nil {
				return nil, fmt.Errorf("build policy input: quotas[%d]%w", i, err)
			}
			t.cache.Add(key, rest)
		}
		items := make([][2]*ast.Term, 0, len(rest)+1)
		items = append(items, ast.Item(keySubject, ast.IntNumberTerm(q.Subject)))
		terms[i] = ast.ObjectTerm(append(items, rest...)...)
	}
	return ast.NewArray(terms...), nil
}

// quotaKey is everything of q but its subject, unambiguously: the
// lengths of the lists and a separator no quantity or name holds.
func quotaKey(q QuotaInput) string {
	var b strings.Builder
	field := func(s string) { b.WriteString(s); b.WriteByte(0) }
	field(q.Environment)
	field(q.Namespace)
	field(q.Name)
	field(strconv.Itoa(len(q.Resources)))
	for _, r := range q.Resources {
		for _, s := range []string{r.Name, r.Hard, r.Used, r.After, r.Share, r.HardText, r.UsedText, r.AfterText, r.ShareText, r.HeadroomText, strconv.FormatBool(r.Tightened)} {
			field(s)
		}
	}
	for _, p := range q.Problems {
		field(p)
	}
	return b.String()
}

// quotaItems converts all of q but its subject; an error names the field
// that is not a number, after the quota's index.
func quotaItems(q QuotaInput) ([][2]*ast.Term, error) {
	res := make([]*ast.Term, len(q.Resources))
	for j, r := range q.Resources {
		nums := make([]*ast.Term, 4)
		for k, n := range []string{r.Hard, r.Used, r.After, r.Share} {
			num := ast.Number(n)
			if _, ok := num.Float64(); !ok {
				return nil, fmt.Errorf(".resources[%d]: %q is not a number", j, n)
			}
			nums[k] = ast.NewTerm(num)
		}
		res[j] = ast.ObjectTerm(
			ast.Item(ast.StringTerm("name"), ast.StringTerm(r.Name)),
			ast.Item(ast.StringTerm("hard"), nums[0]),
			ast.Item(ast.StringTerm("used"), nums[1]),
			ast.Item(ast.StringTerm("after"), nums[2]),
			ast.Item(ast.StringTerm("share"), nums[3]),
			ast.Item(ast.StringTerm("tightened"), ast.BooleanTerm(r.Tightened)),
			ast.Item(ast.StringTerm("text"), ast.ObjectTerm(
				ast.Item(ast.StringTerm("hard"), ast.StringTerm(r.HardText)),
				ast.Item(ast.StringTerm("used"), ast.StringTerm(r.UsedText)),
				ast.Item(ast.StringTerm("after"), ast.StringTerm(r.AfterText)),
				ast.Item(ast.StringTerm("share"), ast.StringTerm(r.ShareText)),
				ast.Item(ast.StringTerm("headroom"), ast.StringTerm(r.HeadroomText)),
			)),
		)
	}
	problems := make([]*ast.Term, len(q.Problems))
	for j, p := range q.Problems {
		problems[j] = ast.StringTerm(p)
	}
	return [][2]*ast.Term{
		ast.Item(keyEnvironment, ast.StringTerm(q.Environment)),
		ast.Item(keyNamespace, ast.StringTerm(q.Namespace)),
		ast.Item(keyName, ast.StringTerm(q.Name)),
		ast.Item(keyResources, ast.ArrayTerm(res...)),
		ast.Item(keyProblems, ast.ArrayTerm(problems...)),
	}, nil
}
