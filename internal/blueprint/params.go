package blueprint

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
)

// Input is what a request asks a blueprint for.
type Input struct {
	// Name is the request's name, a DNS-1123 label; objects are named after it.
	Name string
	// Namespace is the namespace the objects go to.
	Namespace string
	// Environment is the environment the request targets.
	Environment string
	// Owner is the owning team's slug.
	Owner string
	// Parameters are the values asked for, by parameter name, as decoded
	// from YAML or JSON or as strings from a command ("3", "true").
	Parameters map[string]any
}

// validate checks the request fields every blueprint needs.
func (in Input) validate() error {
	var errs []error
	for _, f := range []struct{ field, value string }{
		{"metadata.name", in.Name}, {"spec.namespace", in.Namespace},
		{"spec.environment", in.Environment}, {"spec.owner", in.Owner},
	} {
		switch {
		case f.value == "":
			errs = append(errs, &field.Error{Field: f.field, Msg: "is required"})
		case !config.IsDNSLabel(f.value):
			errs = append(errs, &field.Error{Field: f.field, Msg: fmt.Sprintf("must be a DNS-1123 label: at most 63 lower case letters, digits and '-', starting and ending with a letter or digit; got %s", quote(f.value))})
		}
	}
	return errors.Join(errs...)
}

// Allowed describes the values the parameter accepts, for messages and
// forms: "an integer from 1 to 20", "one of small, large".
func (p *Parameter) Allowed() string {
	var b strings.Builder
	switch p.Type {
	case String:
		b.WriteString("a string")
		minLen := 0
		if p.MinLength != nil {
			minLen = *p.MinLength
		}
		maxLen := DefaultMaxLength
		if p.MaxLength != nil {
			maxLen = *p.MaxLength
		}
		if minLen > 0 {
			fmt.Fprintf(&b, " of %d to %d characters", minLen, maxLen)
		} else {
			fmt.Fprintf(&b, " of at most %d characters", maxLen)
		}
		if p.Pattern != "" {
			fmt.Fprintf(&b, " matching %s", p.Pattern)
		}
	case Integer:
		b.WriteString("an integer")
		switch {
		case p.Minimum != nil && p.Maximum != nil:
			fmt.Fprintf(&b, " from %d to %d", *p.Minimum, *p.Maximum)
		case p.Minimum != nil:
			fmt.Fprintf(&b, " of at least %d", *p.Minimum)
		case p.Maximum != nil:
			fmt.Fprintf(&b, " of at most %d", *p.Maximum)
		}
		if p.AtLeast != "" {
			fmt.Fprintf(&b, ", and at least %s", p.AtLeast)
		}
	case Boolean:
		b.WriteString("true or false")
	case Enum:
		b.WriteString("one of " + strings.Join(p.Options, ", "))
	case Quantity:
		b.WriteString("a quantity such as 500m or 2Gi")
		switch {
		case p.Min != "" && p.Max != "":
			fmt.Fprintf(&b, " from %s to %s", p.Min, p.Max)
		case p.Min != "":
			fmt.Fprintf(&b, " of at least %s", p.Min)
		case p.Max != "":
			fmt.Fprintf(&b, " of at most %s", p.Max)
		}
	}
	return b.String()
}

// Coerce converts v to the parameter's type and checks it against the
// parameter's bounds. v may be a value decoded from YAML or JSON or a string
// given in a command: "3" is accepted for an integer, "true" and "false"
// for a boolean. The result is a string (string, enum, quantity), an int64
// or a bool. A failure is a *field.Error naming "parameters.<name>".
func (p *Parameter) Coerce(v any) (any, error) {
	bad := func(hint string) error {
		return &field.Error{Field: "parameters." + p.Name, Msg: "must be " + p.Allowed() + ", got " + quote(v) + hint}
	}
	switch p.Type {
	case String:
		s, ok := text(v, false)
		if !ok {
			if _, isFloat := v.(float64); isFloat {
				return nil, bad(" (put the value in quotes)")
			}
			return nil, bad("")
		}
		if !utf8.ValidString(s) {
			return nil, &field.Error{Field: "parameters." + p.Name, Msg: "must be valid UTF-8 text"}
		}
		n := utf8.RuneCountInString(s)
		if (p.MinLength != nil && n < *p.MinLength) || (p.MaxLength != nil && n > *p.MaxLength) ||
			(p.MaxLength == nil && n > DefaultMaxLength) {
			if n > quoteLimit {
				return nil, bad("") // quote already gives the length
			}
			return nil, bad(fmt.Sprintf(" (%d characters)", n))
		}
		if p.pattern != nil && !p.pattern.MatchString(s) {
			return nil, bad("")
		}
		return s, nil
	case Integer:
		i, ok := integer(v)
		if !ok || (p.Minimum != nil && i < *p.Minimum) || (p.Maximum != nil && i > *p.Maximum) {
			return nil, bad("")
		}
		return i, nil
	case Boolean:
		switch t := v.(type) {
		case bool:
			return t, nil
		case string:
			if strings.EqualFold(t, "true") {
				return true, nil
			}
			if strings.EqualFold(t, "false") {
				return false, nil
			}
		}
		return nil, bad("")
	case Enum:
		s, ok := text(v, false)
		if ok && slices.Contains(p.Options, s) {
			return s, nil
		}
		return nil, bad("")
	case Quantity:
		s, ok := text(v, true)
		if !ok {
			return nil, bad("")
		}
		q, err := resource.ParseQuantity(s)
		if err != nil || (p.min != nil && q.Cmp(*p.min) < 0) || (p.max != nil && q.Cmp(*p.max) > 0) {
			return nil, bad("")
		}
		return s, nil
	}
	return nil, &field.Error{Field: "parameters." + p.Name, Msg: fmt.Sprintf("has unknown type %q", p.Type)}
}

// text turns a scalar into a string; floats only when allowFloat.
func text(v any, allowFloat bool) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case float64:
		if allowFloat && !math.IsNaN(t) && !math.IsInf(t, 0) {
			return strconv.FormatFloat(t, 'f', -1, 64), true
		}
		return "", false
	}
	if i, ok := integer(v); ok {
		if _, isString := v.(string); !isString {
			return strconv.FormatInt(i, 10), true
		}
	}
	return "", false
}

// integer turns a whole number, or a decimal string of one, into an int64.
func integer(v any) (int64, bool) {
	switch t := v.(type) {
	case int:
		return int64(t), true
	case int8:
		return int64(t), true
	case int16:
		return int64(t), true
	case int32:
		return int64(t), true
	case int64:
		return t, true
	case uint:
		return int64(t), uint64(t) <= math.MaxInt64
	case uint8:
		return int64(t), true
	case uint16:
		return int64(t), true
	case uint32:
		return int64(t), true
	case uint64:
		return int64(t), t <= math.MaxInt64
	case float64:
		if t == math.Trunc(t) && t >= math.MinInt64 && t < math.MaxInt64 {
			return int64(t), true
		}
	case string:
		i, err := strconv.ParseInt(t, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// Resolve checks the input's request fields and parameters and returns the
// effective value of every parameter that has one (given or default), by
// name. Unknown and missing parameters and bad values are all reported,
// joined, each as a *field.Error naming its field.
func (b *Blueprint) Resolve(in Input) (map[string]any, error) {
	errs := []error{in.validate()}
	var unknown []string
	for k := range in.Parameters {
		if b.Parameter(k) == nil {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	allowed := "this blueprint has no parameters"
	if len(b.Parameters) > 0 {
		allowed = "allowed: " + strings.Join(b.ParameterNames(), ", ")
	}
	for _, k := range unknown {
		path := "parameters." + k
		if !paramName.MatchString(k) {
			path = "parameters[" + quote(k) + "]"
		}
		errs = append(errs, &field.Error{Field: path, Msg: "unknown parameter; " + allowed})
	}
	values := map[string]any{}
	var templated []*Parameter
	for _, p := range b.Parameters {
		v, given := in.Parameters[p.Name]
		switch {
		case given && v != nil:
			got, err := p.Coerce(v)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			values[p.Name] = got
		case p.Default != nil && p.defFmt != nil:
			templated = append(templated, p)
		case p.Default != nil:
			values[p.Name] = p.Default
		case p.Required:
			errs = append(errs, &field.Error{Field: "parameters." + p.Name, Msg: "is required"})
		}
	}
	// Defaults built from the request, such as a host name, only matter
	// when their targets are rendered: a preview without an Ingress does
	// not need a valid host.
	for _, p := range b.Parameters {
		v, ok1 := values[p.Name].(int64)
		floor, ok2 := values[p.AtLeast].(int64)
		if p.AtLeast != "" && ok1 && ok2 && v < floor {
			errs = append(errs, &field.Error{Field: "parameters." + p.Name, Msg: fmt.Sprintf("must be at least %s (%d), got %d", p.AtLeast, floor, v)})
		}
	}
	comps := b.components(values)
	for _, p := range templated {
		if !b.used(p, comps) {
			continue
		}
		s := p.defFmt.expand(in, nil, nil)
		got, err := p.Coerce(s)
		if err != nil {
			errs = append(errs, &field.Error{Field: "parameters." + p.Name, Msg: fmt.Sprintf("the default %s gives %s for this request, which is not allowed: %s; give a value", quote(p.Default), quote(s), err.(*field.Error).Msg)})
			continue
		}
		values[p.Name] = got
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return values, nil
}

// components returns the components the effective values switch on, sorted.
func (b *Blueprint) components(values map[string]any) []string {
	on := map[string]bool{}
	for _, p := range b.Parameters {
		v, ok := values[p.Name]
		if !ok {
			continue
		}
		if p.Component != "" && v == true {
			on[p.Component] = true
		}
		if c := p.Components[scalarString(v)]; c != "" {
			on[c] = true
		}
	}
	out := make([]string, 0, len(on))
	for c := range on {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// used tells whether a target of p matches an object of the base or of the
// given components.
func (b *Blueprint) used(p *Parameter, comps []string) bool {
	ids := b.ids(comps)
	for _, t := range p.Targets {
		for _, id := range ids {
			if id.Kind == t.Kind && (t.Name == "" || id.Name == t.Name) {
				return true
			}
		}
	}
	return false
}
