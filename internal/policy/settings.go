package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
)

// clusterScopedParam is the namespace-boundary parameter that
// config.Policy.ClusterScopedKinds feeds.
const (
	namespaceBoundary  = "namespace-boundary"
	clusterScopedParam = "clusterScopedKinds"
)

// settings are policy settings checked against the policies they name.
type settings struct {
	severity   map[string]string         // in effect, by policy id
	params     map[string]map[string]any // set in gitvend.yaml, by policy id
	exceptions []config.Exception
}

// checkSettings validates s against the policies defs and returns the
// settings in effect. Every problem is a *field.Error naming its
// field path in gitvend.yaml.
func checkSettings(s config.Policy, defs map[string]*policyDef) (settings, error) {
	out := settings{severity: map[string]string{}, params: map[string]map[string]any{}}
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &field.Error{Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	known := "known policies are " + strings.Join(sortedKeys(defs), ", ")
	for id, d := range defs {
		out.severity[id] = d.info.Severity
	}
	for _, id := range sortedKeys(s.Policies) {
		set := s.Policies[id]
		field := "policy.policies." + id
		d, ok := defs[id]
		if !ok {
			bad(field, "unknown policy %q; %s", id, known)
			continue
		}
		switch set.Severity {
		case "":
		case SeverityDeny, SeverityWarn, SeverityOff:
			out.severity[id] = set.Severity
		default:
			bad(field+".severity", "must be one of deny, warn, off, got %q", set.Severity)
		}
		for _, name := range sortedKeys(set.Params) {
			spec, ok := d.info.Params[name]
			if !ok {
				bad(field+".params."+name, "unknown parameter; %s", takes(id, d))
				continue
			}
			v := normalize(set.Params[name])
			if msg := checkType(spec.Type, v); msg != "" {
				bad(field+".params."+name, "%s", msg)
				continue
			}
			if out.params[id] == nil {
				out.params[id] = map[string]any{}
			}
			out.params[id][name] = v
		}
	}
	for i, x := range s.Exceptions {
		field := fmt.Sprintf("policy.exceptions[%d]", i)
		switch _, ok := defs[x.Policy]; {
		case x.Policy == "":
			bad(field+".policy", "is required; %s", known)
		case !ok:
			bad(field+".policy", "unknown policy %q; %s", x.Policy, known)
		}
		if x.Kind == "" && x.Namespace == "" && x.Name == "" {
			bad(field, "must match objects by at least one of kind, namespace or name")
		}
		if strings.TrimSpace(x.Reason) == "" {
			bad(field+".reason", "is required: say why the exception is safe; it is shown on the pull request")
		}
	}
	out.exceptions = s.Exceptions
	var kinds []any
	for i, k := range s.ClusterScopedKinds {
		if k == "" || strings.ContainsAny(k, "/ ") {
			bad(fmt.Sprintf("policy.clusterScopedKinds[%d]", i), "must be a kind such as ClusterRole, or Kind.group such as ClusterRole.rbac.authorization.k8s.io, got %q", k)
			continue
		}
		kinds = append(kinds, k)
	}
	if d, ok := defs[namespaceBoundary]; ok && len(kinds) > 0 {
		if _, takesKinds := d.info.Params[clusterScopedParam]; takesKinds {
			p := out.params[namespaceBoundary]
			if p == nil {
				p = map[string]any{}
				out.params[namespaceBoundary] = p
			}
			prev, _ := p[clusterScopedParam].([]any)
			p[clusterScopedParam] = append(append([]any{}, prev...), kinds...)
		}
	}
	return out, errors.Join(errs...)
}

// takes says which parameters the policy d takes.
func takes(id string, d *policyDef) string {
	if len(d.info.Params) == 0 {
		return id + " takes no parameters"
	}
	return id + " takes " + strings.Join(sortedKeys(d.info.Params), ", ")
}

// normalize turns the numbers and lists YAML and JSON decoders produce
// into int64, float64 and []any.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

// checkType returns "" when the normalized value v has type typ, and
// otherwise what is wrong, such as `must be an integer, got "ten"`.
func checkType(typ string, v any) string {
	ok := false
	switch typ {
	case TypeString:
		_, ok = v.(string)
	case TypeInteger:
		switch n := v.(type) {
		case int64:
			ok = true
		case float64:
			ok = n == math.Trunc(n) && math.Abs(n) < 1<<53
		}
	case TypeNumber:
		switch v.(type) {
		case int64, float64:
			ok = true
		}
	case TypeBoolean:
		_, ok = v.(bool)
	case TypeStringArray:
		var list []any
		list, ok = v.([]any)
		for i, e := range list {
			if _, isString := e.(string); !isString {
				return fmt.Sprintf("must be a list of strings, but item %d is %s", i, describe(e))
			}
		}
	}
	if ok {
		return ""
	}
	return fmt.Sprintf("must be %s, got %s", article(typ), describe(v))
}

func article(typ string) string {
	switch typ {
	case TypeInteger:
		return "an integer"
	case TypeStringArray:
		return "a list of strings"
	}
	return "a " + typ
}

// describe names the type and value of v for messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing (null)"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case int64, float64:
		return fmt.Sprintf("the number %v", x)
	case []any:
		return fmt.Sprintf("a list of %d items", len(x))
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("a value of type %T", v)
}
