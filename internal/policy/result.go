package policy

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Result is the outcome of one evaluation.
type Result struct {
	// Violations are the findings that count, sorted by file, line, policy
	// and message.
	Violations []Violation `json:"violations"`
	// Excepted are findings that an exception of gitvend.yaml covers, with
	// the exception's reason, in the same order.
	Excepted []Violation `json:"excepted,omitempty"`
}

// Passed tells whether no violation has severity deny.
func (r Result) Passed() bool {
	for _, v := range r.Violations {
		if v.Severity == SeverityDeny {
			return false
		}
	}
	return true
}

// Violation is one finding of one policy.
type Violation struct {
	// Policy is the policy id.
	Policy string `json:"policy"`
	// Severity is deny or warn.
	Severity string `json:"severity"`
	// ID is the object the finding is about; empty for findings about no
	// single object (budget: Namespace or Name carry the budget's namespace
	// or team).
	manifest.ID
	// File and Line place the offending field; empty and 0 when unknown.
	File string `json:"file"`
	Line int    `json:"line"`
	// Message says what is wrong and how to fix it.
	Message string `json:"message"`
	// Exception is the reason of the exception that covers the finding.
	Exception string `json:"exception,omitempty"`
}

// compareViolations orders violations by file, line, policy, message and
// object.
func compareViolations(a, b Violation) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Policy, b.Policy),
		cmp.Compare(a.Message, b.Message),
		cmp.Compare(a.ID.String(), b.ID.String()),
		cmp.Compare(a.APIVersion, b.APIVersion),
	)
}

// finding is what a policy reports, before it becomes a Violation.
type finding struct {
	subject   int // index into Input.Subjects, -1 for none
	path      []any
	message   string
	namespace string // for findings without subject
	name      string
}

// decodeFindings reads the value of a policy's violation set.
func decodeFindings(id string, v any, subjects int) ([]finding, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("policy %s: violation must be a set of findings, got %T", id, v)
	}
	out := make([]finding, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("policy %s: a finding must be an object with subject, message and path, got %v", id, e)
		}
		f := finding{subject: -1}
		if f.message, ok = m["message"].(string); !ok || f.message == "" {
			return nil, fmt.Errorf("policy %s: finding %v has no message", id, m)
		}
		if s, present := m["subject"]; present {
			n, ok := toInt(s)
			if !ok || n < 0 || n >= subjects {
				return nil, fmt.Errorf("policy %s: finding %q: subject must be an index into input.subjects (0 to %d), got %v", id, f.message, subjects-1, s)
			}
			f.subject = n
		}
		if p, present := m["path"]; present {
			steps, ok := p.([]any)
			if !ok {
				return nil, fmt.Errorf("policy %s: finding %q: path must be a list of keys and indexes, got %v", id, f.message, p)
			}
			f.path = make([]any, len(steps))
			for i, step := range steps {
				if s, isString := step.(string); isString {
					f.path[i] = s
				} else if n, isInt := toInt(step); isInt {
					f.path[i] = n
				} else {
					return nil, fmt.Errorf("policy %s: finding %q: path[%d] must be a key or an index, got %v", id, f.message, i, step)
				}
			}
		}
		f.namespace, _ = m["namespace"].(string)
		f.name, _ = m["name"].(string)
		out = append(out, f)
	}
	return out, nil
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	}
	return 0, false
}

// violation places the finding f of policy id in its object.
func (f finding) violation(id, severity string, subjects []Subject) Violation {
	v := Violation{Policy: id, Severity: severity, Message: f.message}
	if f.subject < 0 {
		v.Namespace, v.Name = f.namespace, f.name
		return v
	}
	obj := subjects[f.subject].Object
	v.ID = obj.ID
	v.File = obj.File
	v.Line = obj.FieldLine(f.path...)
	return v
}

// exception returns the first exception that covers v.
func exception(v Violation, list []config.Exception) (config.Exception, bool) {
	for _, x := range list {
		if x.Policy != v.Policy {
			continue
		}
		if x.Kind != "" && x.Kind != v.Kind && x.Kind != v.GroupKind() {
			continue
		}
		if x.Namespace != "" && x.Namespace != v.Namespace {
			continue
		}
		if x.Name != "" && x.Name != v.Name {
			continue
		}
		return x, true
	}
	return config.Exception{}, false
}

// sortViolations sorts list in place and returns it.
func sortViolations(list []Violation) []Violation {
	slices.SortFunc(list, compareViolations)
	return list
}
