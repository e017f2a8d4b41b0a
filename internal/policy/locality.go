package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// reach says what of the input a policy may read, which decides how it
// can be evaluated (see Engine.judge).
type reach int

const (
	// reachLocal: every finding is about one subject and depends only on
	// that subject and input.params. Findings of a subject are remembered
	// and only subjects not seen before are evaluated.
	reachLocal reach = iota
	// reachAggregates: the policy never reads input.subjects (budget,
	// quota): it is evaluated on the input without its subjects.
	reachAggregates
	// reachWhole: anything else, evaluated on the whole input.
	reachWhole
)

// subjectCollections are rules of the built-in library whose value holds
// one element per pod spec or container of a subject, each element
// depending only on that subject and naming it in its "subject" field
// (see lib/kubernetes.rego). Iterating one of them once in a rule body is
// as local as iterating input.subjects; they count only while every rule
// at that path comes from the built-in file (a repository that replaces
// package gitvend.lib gets its rules analysed as any other).
var subjectCollections = []ast.Ref{
	ast.MustParseRef("data.gitvend.lib.pods"),
	ast.MustParseRef("data.gitvend.lib.containers"),
}

const builtinLibFile = builtinPrefix + "lib/kubernetes.rego"

var (
	inputSubjects = ast.MustParseRef("input.subjects")
	inputParams   = ast.MustParseRef("input.params")
	subjectKey    = ast.StringTerm("subject")
)

// analysis classifies policies from the compiled modules of c. The rules
// are compiled: comprehensions, calls and iterations are separate
// expressions (x = ref, f(args, out)), and refs are fully qualified.
type analysis struct {
	c           *ast.Compiler
	collections []ast.Ref // the subjectCollections that are built-in
	helpers     map[*ast.Rule]helperReach
}

// helperReach is what a rule reached from a policy reads.
type helperReach struct {
	done     bool
	subjects bool // input.subjects, a collection of them, or input whole
	other    bool // input other than params and subjects (cost, quotas...)
}

func newAnalysis(c *ast.Compiler) *analysis {
	a := &analysis{c: c, helpers: map[*ast.Rule]helperReach{}}
	for _, ref := range subjectCollections {
		rules := c.GetRules(ref)
		ok := len(rules) > 0
		for _, r := range rules {
			if r.Location == nil || r.Location.File != builtinLibFile {
				ok = false
			}
		}
		if ok {
			a.collections = append(a.collections, ref)
		}
	}
	return a
}

// classify tells how the policy at ref (data.gitvend.policies.<name>) can
// be evaluated.
func (a *analysis) classify(ref ast.Ref) reach {
	violation := ref.Append(ast.StringTerm("violation"))
	rules := a.c.GetRules(violation)
	local, aggregates := len(rules) > 0, true
	for _, r := range rules {
		h := a.helper(r)
		if h.subjects {
			aggregates = false
		}
		if !r.Path().Equal(violation) || len(r.Head.Args) > 0 || r.Else != nil || !a.localRule(r) {
			local = false
		}
	}
	switch {
	case aggregates:
		return reachAggregates
	case local:
		return reachLocal
	}
	return reachWhole
}

// helper reports what rule r, and every rule it can reach, reads of the
// input.
func (a *analysis) helper(r *ast.Rule) helperReach {
	if h := a.helpers[r]; h.done {
		return h
	}
	h := helperReach{done: true}
	a.helpers[r] = h // rules cannot recurse; this only guards the walk
	for rule := r; rule != nil; rule = rule.Else {
		inputs := 0
		ast.WalkTerms(rule, func(t *ast.Term) bool {
			if isInput(t) {
				inputs++
				return true
			}
			a.termReach(t, &h)
			if ref, isRef := t.Value.(ast.Ref); isRef {
				for _, k := range ref[1:] {
					ast.WalkTerms(k, func(t *ast.Term) bool {
						if isInput(t) {
							inputs++
							return true
						}
						a.termReach(t, &h)
						return false
					})
				}
				return true
			}
			return false
		})
		if inputs > paramReads(rule) {
			h.subjects, h.other = true, true // the whole input
		}
		ast.WalkExprs(rule, func(e *ast.Expr) bool {
			if len(e.With) > 0 {
				h.subjects, h.other = true, true
			}
			return false
		})
	}
	a.helpers[r] = h
	return h
}

// paramReads counts the places where rule reads the input as a whole
// only to read input.params: object.get(input, ["params", ...], default),
// as lib.params does, directly or through a variable v = input that
// serves nothing else.
func paramReads(rule *ast.Rule) int {
	aliases := map[ast.Var]bool{} // v = input
	ast.WalkExprs(rule, func(e *ast.Expr) bool {
		if e.IsEquality() {
			if v, isVar := e.Operand(0).Value.(ast.Var); isVar && isInput(e.Operand(1)) {
				aliases[v] = true
			}
		}
		return false
	})
	n := 0
	paramUses := map[ast.Var]int{}
	ast.WalkExprs(rule, func(e *ast.Expr) bool {
		if !e.IsCall() || !e.Operator().Equal(objectGet) || len(e.Operands()) < 2 {
			return false
		}
		if arr, isArr := e.Operand(1).Value.(*ast.Array); isArr && arr.Len() > 0 && arr.Elem(0).Equal(ast.StringTerm("params")) {
			if isInput(e.Operand(0)) {
				n++
			}
			if v, isVar := e.Operand(0).Value.(ast.Var); isVar && aliases[v] {
				paramUses[v]++
			}
		}
		return false
	})
	// Terms may be shared between expressions, so uses are counted by
	// variable: every occurrence of an alias but its definition must be
	// such a call.
	uses := map[ast.Var]int{}
	ast.WalkVars(rule, func(v ast.Var) bool {
		if aliases[v] {
			uses[v]++
		}
		return false
	})
	for v := range aliases {
		if uses[v] == 1+paramUses[v] {
			n++ // the definition's input
		}
	}
	return n
}

// isInput tells whether t is the input document as a whole.
func isInput(t *ast.Term) bool {
	if ref, isRef := t.Value.(ast.Ref); isRef {
		return len(ref) == 1 && ref[0].Equal(ast.InputRootDocument)
	}
	return t.Value.Compare(ast.InputRootDocument.Value) == 0
}

var objectGet = ast.MustParseRef("object.get")

// termReach adds to h what the term t reads when it is a reference.
func (a *analysis) termReach(t *ast.Term, h *helperReach) {
	switch v := t.Value.(type) {
	case ast.Var:
		if v.Equal(ast.InputRootDocument.Value) {
			h.subjects, h.other = true, true
		}
	case ast.Ref:
		switch {
		case v.HasPrefix(inputParams):
		case v.HasPrefix(inputSubjects):
			h.subjects = true
		case v[0].Equal(ast.InputRootDocument):
			if len(v) < 2 || !ast.IsConstant(v[1].Value) {
				h.subjects = true
			}
			h.other = true
		case v[0].Equal(ast.DefaultRootDocument):
			if a.isCollection(v) != nil {
				h.subjects = true
				return
			}
			for _, r := range a.c.GetRules(v.GroundPrefix()) {
				sub := a.helper(r)
				h.subjects = h.subjects || sub.subjects
				h.other = h.other || sub.other
			}
		}
	}
}

// isCollection returns the subject collection ref starts with, or nil.
func (a *analysis) isCollection(ref ast.Ref) ast.Ref {
	for _, c := range a.collections {
		if ref.HasPrefix(c) {
			return c
		}
	}
	return nil
}

// localRule tells whether the violation rule r is subject-local: its body
// iterates input.subjects (or a subject collection) once, with a variable
// that only ever names the finding's subject, reads nothing of the input
// but that subject and input.params, and every finding names that subject.
func (a *analysis) localRule(r *ast.Rule) bool {
	var (
		index   ast.Var                  // the iteration's variable
		overAll bool                     // it iterates input.subjects, not a collection
		elems   = map[ast.Var]bool{}     // elements of a subject collection
		names   = map[ast.Var]bool{}     // variables that hold the subject's index
		iters   = map[ast.Var]struct{}{} // iteration variables seen
		kinds   = map[bool]struct{}{}    // overAll of each iteration seen
	)
	ok := true
	ast.WalkRefs(r.Body, func(ref ast.Ref) bool {
		var key *ast.Term
		if ref.HasPrefix(inputSubjects) {
			if len(ref) < 3 {
				ok = false
				return false
			}
			key, overAll = ref[2], true
		} else if c := a.isCollection(ref); c != nil && len(ref) > len(c) {
			key, overAll = ref[len(c)], false
		} else {
			return false
		}
		v, isVar := key.Value.(ast.Var)
		if !isVar {
			ok = false
			return false
		}
		iters[v], kinds[overAll] = struct{}{}, struct{}{}
		index = v
		return false
	})
	if !ok || len(iters) != 1 || len(kinds) != 1 {
		return false
	}
	if overAll {
		names[index] = true
	}
	for _, e := range r.Body {
		if !e.IsEquality() || e.Negated || overAll {
			continue
		}
		lhs, rhs := e.Operand(0), e.Operand(1)
		for range 2 {
			if v, isVar := lhs.Value.(ast.Var); isVar && a.isElement(rhs, index) {
				elems[v] = true
			}
			lhs, rhs = rhs, lhs
		}
	}
	vs := &vars{names: names, elems: elems, key: index}
	for changed := true; changed; {
		changed = false
		for _, e := range r.Body {
			if !e.IsEquality() || e.Negated {
				continue
			}
			lhs, rhs := e.Operand(0), e.Operand(1)
			for range 2 {
				if v, isVar := lhs.Value.(ast.Var); isVar && !names[v] && !elems[v] && a.holdsIndex(rhs, vs) {
					names[v], changed = true, true
				}
				lhs, rhs = rhs, lhs
			}
		}
	}
	head := r.Head.Key
	if head == nil {
		return false
	}
	findingVar, _ := head.Value.(ast.Var)
	// Second pass: every use of an index or element must be one of the
	// allowed forms.
	named := false
	if obj, isObj := head.Value.(ast.Object); isObj {
		if !a.namesSubject(obj, vs) {
			return false
		}
		named = true
	} else if findingVar == "" {
		return false
	}
	for _, e := range r.Body {
		if len(e.With) > 0 {
			return false
		}
		if e.IsEquality() && !e.Negated {
			lhs, rhs := e.Operand(0), e.Operand(1)
			if v, isVar := lhs.Value.(ast.Var); !isVar || (!names[v] && !elems[v] && !v.Equal(findingVar)) {
				lhs, rhs = rhs, lhs
			}
			if v, isVar := lhs.Value.(ast.Var); isVar {
				switch {
				case names[v] && a.holdsIndex(rhs, vs):
					continue
				case elems[v] && a.isElement(rhs, index):
					continue
				case v.Equal(findingVar):
					obj, isObj := rhs.Value.(ast.Object)
					if !isObj || !a.namesSubject(obj, vs) {
						return false
					}
					named = true
					continue
				}
			}
		}
		if e.IsCall() && !e.Negated {
			if !a.cleanCall(e, vs) {
				return false
			}
			continue
		}
		if !a.clean(e, vs) {
			return false
		}
	}
	return named
}

// isElement tells whether t is collection[index] for a subject collection.
func (a *analysis) isElement(t *ast.Term, index ast.Var) bool {
	ref, isRef := t.Value.(ast.Ref)
	if !isRef {
		return false
	}
	c := a.isCollection(ref)
	return c != nil && len(ref) == len(c)+1 && ref[len(c)].Value.Compare(index) == 0
}

// namesSubject tells whether the finding obj names the iterated subject
// in its "subject" field and uses the index nowhere else.
func (a *analysis) namesSubject(obj ast.Object, vs *vars) bool {
	v, isVar := subjVar(obj.Get(subjectKey))
	if !isVar || !vs.names[v] {
		return false
	}
	clean := true
	obj.Foreach(func(k, val *ast.Term) {
		if !k.Equal(subjectKey) && !a.clean(val, vs) {
			clean = false
		}
	})
	return clean
}

func subjVar(t *ast.Term) (ast.Var, bool) {
	if t == nil {
		return "", false
	}
	v, ok := t.Value.(ast.Var)
	return v, ok
}

// vars are what a local rule's body binds to its iteration.
type vars struct {
	names map[ast.Var]bool // variables that hold the subject's index
	elems map[ast.Var]bool // elements of a subject collection
	key   ast.Var          // the iteration's variable
}

// holdsIndex tells whether t is a variable holding the index, or the
// "subject" field of a collection element.
func (a *analysis) holdsIndex(t *ast.Term, vs *vars) bool {
	names, elems := vs.names, vs.elems
	switch v := t.Value.(type) {
	case ast.Var:
		return names[v]
	case ast.Ref:
		base, isVar := v[0].Value.(ast.Var)
		return isVar && elems[base] && len(v) == 2 && v[1].Equal(subjectKey)
	}
	return false
}

// clean tells whether x uses no index and no element but in the allowed
// ways: an index only as the key of input.subjects (or a collection), an
// element only through one of its fields other than "subject"; and reads
// nothing of the input but input.params, input.subjects[index] and the
// collections, with every rule it reaches reading none of the subjects.
func (a *analysis) clean(x any, vs *vars) bool {
	names, elems := vs.names, vs.elems
	ok := true
	var visit func(x any)
	visit = func(x any) {
		ast.NewGenericVisitor(func(n any) bool {
			if !ok {
				return true
			}
			switch n := n.(type) {
			case *ast.Expr:
				if len(n.With) > 0 {
					ok = false
				}
			case ast.Var:
				if names[n] || elems[n] || n.Equal(vs.key) || n.Equal(ast.InputRootDocument.Value) {
					ok = false
				}
			case ast.Ref:
				ok = a.cleanRef(n, vs)
				for _, t := range n[1:] {
					if _, isVar := t.Value.(ast.Var); !isVar {
						visit(t) // composite keys
					}
				}
				return true
			case *ast.ArrayComprehension, *ast.SetComprehension, *ast.ObjectComprehension, *ast.Every:
				// A closure sees the subject through the rule's
				// variables only: it may not iterate the subjects.
				ast.WalkRefs(n, func(r ast.Ref) bool {
					if r.HasPrefix(inputSubjects) || a.isCollection(r) != nil {
						ok = false
					}
					return false
				})
			}
			return false
		}).Walk(x)
	}
	visit(x)
	return ok
}

// cleanRef checks one reference read by a local rule.
func (a *analysis) cleanRef(ref ast.Ref, vs *vars) bool {
	names, elems := vs.names, vs.elems
	head := ref[0]
	if v, isVar := head.Value.(ast.Var); isVar {
		switch {
		case v.Equal(ast.InputRootDocument.Value):
			if ref.HasPrefix(inputParams) {
				break
			}
			if !ref.HasPrefix(inputSubjects) || len(ref) < 3 {
				return false
			}
			key, isVar := ref[2].Value.(ast.Var)
			if !isVar || !names[key] {
				return false
			}
			return refKeysClean(ref[3:], vs)
		case v.Equal(ast.DefaultRootDocument.Value):
			if c := a.isCollection(ref); c != nil {
				key, isVar := ref[len(c)].Value.(ast.Var)
				if len(ref) > len(c)+1 {
					if _, isString := ref[len(c)+1].Value.(ast.String); !isString || ref[len(c)+1].Equal(subjectKey) {
						return false
					}
				}
				return isVar && key.Equal(vs.key) && !names[key] && refKeysClean(ref[len(c)+1:], vs)
			}
			for _, r := range a.c.GetRules(ref.GroundPrefix()) {
				if h := a.helper(r); h.subjects || h.other {
					return false
				}
			}
		case elems[v]:
			if len(ref) < 2 || ref[1].Equal(subjectKey) {
				return false
			}
			if _, isString := ref[1].Value.(ast.String); !isString {
				return false
			}
		case names[v]:
			return false
		}
	}
	return refKeysClean(ref[1:], vs)
}

// refKeysClean tells whether no key of a reference is an index or an
// element.
func refKeysClean(keys ast.Ref, vs *vars) bool {
	names, elems := vs.names, vs.elems
	for _, k := range keys {
		if v, isVar := k.Value.(ast.Var); isVar && (names[v] || elems[v] || v.Equal(vs.key)) {
			return false
		}
	}
	return true
}

// cleanCall checks a call of a local rule: an element may be passed whole
// to a function of the policies that reads only its fields other than
// "subject"; everything else must be clean.
func (a *analysis) cleanCall(e *ast.Expr, vs *vars) bool {
	elems := vs.elems
	op := e.Operator()
	var fns []*ast.Rule
	if op[0].Equal(ast.DefaultRootDocument) {
		fns = a.c.GetRulesExact(op)
		if len(fns) == 0 {
			return false
		}
	}
	for i, arg := range e.Operands() {
		v, isVar := arg.Value.(ast.Var)
		if isVar && elems[v] {
			if len(fns) == 0 {
				return false // a built-in function sees the whole element
			}
			for _, fn := range fns {
				if !a.readsFieldsOnly(fn, i) {
					return false
				}
			}
			continue
		}
		if !a.clean(arg, vs) {
			return false
		}
	}
	for _, fn := range fns {
		if h := a.helper(fn); h.subjects || h.other {
			return false
		}
	}
	return true
}

// readsFieldsOnly tells whether the function rule fn uses its argument
// at pos only through fields other than "subject".
func (a *analysis) readsFieldsOnly(fn *ast.Rule, pos int) bool {
	for r := fn; r != nil; r = r.Else {
		if pos >= len(r.Head.Args) {
			return false
		}
		param, isVar := r.Head.Args[pos].Value.(ast.Var)
		if !isVar {
			return false
		}
		ok := true
		allowed := map[*ast.Term]bool{}
		ast.WalkRefs(r, func(ref ast.Ref) bool {
			if ref[0].Value.Compare(param) == 0 {
				if len(ref) < 2 || ref[1].Equal(subjectKey) {
					ok = false
				} else if _, isString := ref[1].Value.(ast.String); !isString {
					ok = false
				}
				allowed[ref[0]] = true
			}
			return false
		})
		// Passed whole to a function of the policies that itself reads
		// only other fields.
		ast.WalkExprs(r, func(e *ast.Expr) bool {
			if !e.IsCall() || e.Negated || !e.Operator()[0].Equal(ast.DefaultRootDocument) {
				return false
			}
			for i, arg := range e.Operands() {
				if arg.Value.Compare(param) != 0 {
					continue
				}
				fns := a.c.GetRulesExact(e.Operator())
				for _, f := range fns {
					if f == fn || !a.readsFieldsOnly(f, i) {
						return false
					}
				}
				if len(fns) > 0 {
					allowed[arg] = true
				}
			}
			return false
		})
		ast.WalkTerms(r, func(t *ast.Term) bool {
			if t.Value.Compare(param) == 0 && !allowed[t] && t != r.Head.Args[pos] {
				ok = false
			}
			return false
		})
		if !ok {
			return false
		}
	}
	return true
}
