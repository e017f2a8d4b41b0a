package blueprint

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/request"
)

// specDoc is blueprint.yaml as written. field.Decode rejects unknown
// fields and mistyped values; parseSpec checks what the types cannot say.
type specDoc struct {
	APIVersion string `yaml:"apiVersion" field:"required"`
	Kind       string `yaml:"kind" field:"required"`
	Metadata   struct {
		Name string `yaml:"name" field:"required"`
	} `yaml:"metadata" field:"required"`
	Spec struct {
		Title       string     `yaml:"title"`
		Description string     `yaml:"description"`
		Version     *int64     `yaml:"version"`
		Changelog   string     `yaml:"changelog"`
		Parameters  []paramDoc `yaml:"parameters"`
	} `yaml:"spec" field:"required"`
}

// paramDoc is one parameter as written.
type paramDoc struct {
	Name        string            `yaml:"name" field:"required"`
	Title       string            `yaml:"title"`
	Description string            `yaml:"description"`
	Type        Type              `yaml:"type" field:"required"`
	Required    bool              `yaml:"required"`
	Default     yaml.Node         `yaml:"default"` // typed by its tag: string, integer or boolean
	Pattern     string            `yaml:"pattern"`
	MinLength   *int64            `yaml:"minLength"`
	MaxLength   *int64            `yaml:"maxLength"`
	Minimum     *int64            `yaml:"minimum"`
	Maximum     *int64            `yaml:"maximum"`
	AtLeast     string            `yaml:"atLeast"`
	Options     []yaml.Node       `yaml:"options"` // scalars of any type, read as text
	Min         string            `yaml:"min"`
	Max         string            `yaml:"max"`
	Targets     []targetDoc       `yaml:"targets"`
	Component   string            `yaml:"component"`
	Components  map[string]string `yaml:"components"` // by option
}

// targetDoc is one target of a parameter as written.
type targetDoc struct {
	Kind   string `yaml:"kind" field:"required"`
	Name   string `yaml:"name"`
	Path   string `yaml:"path" field:"required"`
	Format string `yaml:"format"`
}

// typeFields are the fields of a parameter that only one type allows, in
// the order they are declared.
var typeFields = []struct {
	name string
	only Type
}{
	{"pattern", String}, {"minLength", String}, {"maxLength", String},
	{"minimum", Integer}, {"maximum", Integer}, {"atLeast", Integer},
	{"options", Enum}, {"min", Quantity}, {"max", Quantity},
	{"component", Boolean}, {"components", Enum},
}

// specReader turns a decoded blueprint.yaml into a Blueprint, collecting
// every problem with its field path and line.
type specReader struct {
	file   string
	lines  field.Lines
	broken map[string]bool // fields the decoder refused
	errs   []error
}

// fail reports a problem at the line of path (or of its closest parent).
func (r *specReader) fail(path, format string, args ...any) {
	r.failAt(r.lines.Of(path), path, format, args...)
}

func (r *specReader) failAt(line int, path, format string, args ...any) {
	r.errs = append(r.errs, &field.Error{File: r.file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// set tells whether the file gives path a value the decoder accepted.
func (r *specReader) set(path string) bool { return r.lines.Has(path) && !r.broken[path] }

// failed tells whether the decoder refused path or a field inside it, or
// problems were reported after the first n.
func (r *specReader) failed(path string, n int) bool {
	if len(r.errs) > n {
		return true
	}
	for f := range r.broken {
		if f == path || strings.HasPrefix(f, path+".") || strings.HasPrefix(f, path+"[") {
			return true
		}
	}
	return false
}

// parseSpec decodes blueprint.yaml. name is the folder name the blueprint
// must carry and file the path used in messages. Every problem is returned,
// joined, each a *field.Error.
func parseSpec(name, file string, data []byte) (*Blueprint, error) {
	var doc specDoc
	lines, err := field.Unmarshal(file, data, &doc)
	if lines == nil {
		return nil, err
	}
	r := &specReader{file: file, lines: lines, broken: map[string]bool{}}
	for _, e := range field.All(err) {
		r.broken[e.Field] = true
		r.errs = append(r.errs, e)
	}
	if doc.APIVersion != "" && doc.APIVersion != config.APIVersion {
		r.fail("apiVersion", "must be %q, got %q", config.APIVersion, doc.APIVersion)
	}
	if doc.Kind != "" && doc.Kind != Kind {
		r.fail("kind", "must be %q, got %q", Kind, doc.Kind)
	}
	switch v := doc.Metadata.Name; {
	case v == "":
	case !config.IsDNSLabel(v):
		r.fail("metadata.name", "must be a DNS-1123 label (lower case letters, digits and '-', at most 63 characters), got %q", v)
	case v != name:
		r.fail("metadata.name", "must equal the folder name %q, got %q", name, v)
	}
	b := &Blueprint{Name: name, file: file, lines: lines}
	b.Title = doc.Spec.Title
	if strings.ContainsAny(b.Title, "\r\n") {
		r.fail("spec.title", "must be a single line")
	}
	if b.Title == "" {
		b.Title = b.Name
	}
	b.Description = strings.TrimSpace(doc.Spec.Description)
	r.version(b, doc.Spec.Version, doc.Spec.Changelog)
	r.parameters(b, doc.Spec.Parameters)
	if err := errors.Join(r.errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// MaxChangelog bounds a blueprint's changelog line, in characters.
const MaxChangelog = 300

// version reads the blueprint's version (1 when not given) and the one
// line that says what changed in it.
func (r *specReader) version(b *Blueprint, v *int64, changelog string) {
	b.Version = 1
	if v != nil {
		if *v < 1 || *v > request.MaxBlueprintVersion {
			r.fail("spec.version", "must be a whole number from 1 to %d, got %d", request.MaxBlueprintVersion, *v)
		} else {
			b.Version = int(*v)
		}
	}
	b.Changelog = strings.TrimSpace(changelog)
	switch {
	case strings.ContainsAny(b.Changelog, "\r\n"):
		r.fail("spec.changelog", "must be a single line saying what changed in this version")
	case utf8.RuneCountInString(b.Changelog) > MaxChangelog:
		r.fail("spec.changelog", "must be at most %d characters, got %d", MaxChangelog, utf8.RuneCountInString(b.Changelog))
	}
}

// parameters reads the parameters and checks what they say of each other.
func (r *specReader) parameters(b *Blueprint, docs []paramDoc) {
	seen := map[string]bool{}
	titles := map[string]bool{}
	for _, l := range FormFields(&Blueprint{}) {
		titles[strings.ToLower(l.Label)] = true
	}
	for i := range docs {
		path := fmt.Sprintf("spec.parameters[%d]", i)
		p := r.parameter(&docs[i], path)
		if p == nil {
			continue
		}
		if seen[p.Name] {
			r.failAt(r.lines.Of(path), path+".name", "parameter %q is declared twice", p.Name)
			continue
		}
		seen[p.Name] = true
		if titles[strings.ToLower(p.Title)] {
			r.fail(path+".title", "%q is used twice as a form label; give the parameter a distinct title", p.Title)
		}
		titles[strings.ToLower(p.Title)] = true
		b.Parameters = append(b.Parameters, p)
	}
	for _, p := range b.Parameters {
		switch other := b.Parameter(p.AtLeast); {
		case p.AtLeast == "":
		case p.AtLeast == p.Name:
			r.fail(p.field+".atLeast", "must name another parameter, not %s itself", p.Name)
		case other == nil || other.Type != Integer:
			r.fail(p.field+".atLeast", "must name an integer parameter of this blueprint, got %q", p.AtLeast)
		}
		for _, t := range p.Targets {
			for _, ref := range t.format.params() {
				if !seen[ref] {
					r.failAt(t.line, t.field+".format", "{param:%s} names no parameter; parameters: %s", ref, strings.Join(b.ParameterNames(), ", "))
				} else if ref == p.Name {
					r.failAt(t.line, t.field+".format", "use {value} for the parameter's own value, not {param:%s}", ref)
				}
			}
		}
	}
}

// parameter reads one parameter; it returns nil when the parameter has
// problems, which are reported.
func (r *specReader) parameter(d *paramDoc, path string) *Parameter {
	before := len(r.errs)
	p := &Parameter{Name: d.Name, Type: d.Type, Title: d.Title, Description: strings.TrimSpace(d.Description),
		Required: d.Required, AtLeast: d.AtLeast, Component: d.Component, field: path}
	if p.Name != "" && !paramName.MatchString(p.Name) {
		r.fail(path+".name", "must be a lowerCamel identifier (a lower case letter, then letters and digits, at most 63 characters), got %q", p.Name)
	}
	if p.Type != "" && !containsType(p.Type) {
		r.fail(path+".type", "must be one of %s, got %q", typeList(), p.Type)
		p.Type = ""
	}
	if r.lines.Has(path+".title") && (strings.ContainsAny(p.Title, "\r\n#") || strings.TrimSpace(p.Title) != p.Title) {
		r.fail(path+".title", "must be a single line without '#' or surrounding spaces")
	}
	if p.Title == "" {
		p.Title = titleOf(p.Name)
	}
	for _, f := range typeFields {
		if p.Type != "" && p.Type != f.only && r.lines.Has(path+"."+f.name) {
			r.fail(path+"."+f.name, "is only allowed for type %s, not %s", f.only, p.Type)
		}
	}
	r.limits(p, d, path)
	r.options(p, d, path)
	for i := range d.Targets {
		if t := r.target(&d.Targets[i], fmt.Sprintf("%s.targets[%d]", path, i)); t != nil {
			p.Targets = append(p.Targets, *t)
		}
	}
	if !r.lines.Has(path+".targets") && !r.lines.Has(path+".component") && !r.lines.Has(path+".components") {
		r.fail(path, "parameter %q sets nothing: give it targets, or a component to switch on", p.Name)
	}
	if d.Default.Kind != 0 && !r.failed(path, before) {
		r.defaultValue(p, &d.Default, path+".default")
	}
	if p.Required && p.Default != nil {
		r.fail(path+".required", "a required parameter cannot have a default")
	}
	if r.failed(path, before) {
		return nil
	}
	return p
}

// limits reads what bounds a string, an integer or a quantity.
func (r *specReader) limits(p *Parameter, d *paramDoc, path string) {
	switch p.Type {
	case String:
		if r.set(path + ".pattern") {
			p.Pattern = d.Pattern
			re, err := regexp.Compile(p.Pattern)
			if err != nil {
				r.fail(path+".pattern", "is not a valid regular expression: %v", err)
			}
			p.pattern = re
		}
		length := func(key string, v *int64) *int {
			if v == nil {
				return nil
			}
			if *v < 0 || *v > maxMaxLength {
				r.fail(path+"."+key, "must be from 0 to %d, got %d", maxMaxLength, *v)
				return nil
			}
			n := int(*v)
			return &n
		}
		p.MinLength, p.MaxLength = length("minLength", d.MinLength), length("maxLength", d.MaxLength)
		if p.MaxLength == nil {
			n := DefaultMaxLength
			p.MaxLength = &n
		}
		if p.MinLength != nil && *p.MinLength > *p.MaxLength {
			r.fail(path+".minLength", "must not exceed maxLength (%d), got %d", *p.MaxLength, *p.MinLength)
		}
	case Integer:
		p.Minimum, p.Maximum = d.Minimum, d.Maximum
		if p.Minimum != nil && p.Maximum != nil && *p.Minimum > *p.Maximum {
			r.fail(path+".minimum", "must not exceed maximum (%d), got %d", *p.Maximum, *p.Minimum)
		}
	case Quantity:
		quantity := func(key, text string) (string, *resource.Quantity) {
			if !r.set(path + "." + key) {
				return "", nil
			}
			q, err := resource.ParseQuantity(text)
			if err != nil {
				r.fail(path+"."+key, "must be a quantity such as 500m or 2Gi, got %s", quote(text))
				return "", nil
			}
			return text, &q
		}
		p.Min, p.min = quantity("min", d.Min)
		p.Max, p.max = quantity("max", d.Max)
		if p.min != nil && p.max != nil && p.min.Cmp(*p.max) > 0 {
			r.fail(path+".min", "must not exceed max (%s), got %s", p.Max, p.Min)
		}
	}
}

// options reads an enum's options and the components they switch on.
func (r *specReader) options(p *Parameter, d *paramDoc, path string) {
	if p.Type != Enum {
		return
	}
	seen := map[string]bool{}
	for i := range d.Options {
		o, at := deref(&d.Options[i]), fmt.Sprintf("%s.options[%d]", path, i)
		s, ok := r.scalar(o, at)
		opt := scalarString(s)
		switch {
		case !ok:
		case s == nil || opt == "" || strings.ContainsAny(opt, "\r\n"):
			r.failAt(o.Line, at, "must be a non-empty single-line value")
		case seen[opt]:
			r.failAt(o.Line, at, "option %q is listed twice", opt)
		default:
			seen[opt] = true
			p.Options = append(p.Options, opt)
		}
	}
	if !r.lines.Has(path + ".options") {
		r.fail(path+".options", "is required for an enum: list the allowed values")
	}
	if d.Components == nil {
		return
	}
	p.Components = map[string]string{}
	for _, opt := range sortedKeys(d.Components) {
		if !seen[opt] {
			r.fail(path+".components."+opt, "unknown field; allowed: %s", strings.Join(p.Options, ", "))
			continue
		}
		p.Components[opt] = d.Components[opt]
	}
}

// target reads one target; it returns nil when the target has problems,
// which are reported.
func (r *specReader) target(d *targetDoc, path string) *FieldTarget {
	before := len(r.errs)
	t := &FieldTarget{Kind: d.Kind, Name: d.Name, Path: d.Path, Format: d.Format, field: path, line: r.lines.Of(path)}
	if t.Kind != "" && !kindName.MatchString(t.Kind) {
		r.fail(path+".kind", "must be a Kubernetes kind such as Deployment, got %q", t.Kind)
	}
	if r.set(path + ".path") {
		steps, err := parsePath(t.Path)
		if err != nil {
			r.fail(path+".path", "%v", err)
		}
		t.steps = steps
	}
	if r.set(path + ".format") {
		f, err := parseFormat(t.Format, true)
		if err != nil {
			r.fail(path+".format", "%v", err)
		}
		t.format = f
	}
	if r.failed(path, before) {
		return nil
	}
	return t
}

// sampleInput fills default placeholders when defaults are checked at load.
var sampleInput = Input{Name: "example", Namespace: "example", Environment: "dev", Owner: "example"}

// defaultValue reads a parameter's default and checks it as a value.
func (r *specReader) defaultValue(p *Parameter, n *yaml.Node, path string) {
	n = deref(n)
	raw, ok := r.scalar(n, path)
	switch {
	case !ok:
		return
	case raw == nil:
		r.failAt(n.Line, path, "must not be null; leave the default out instead")
		return
	}
	if s, isString := raw.(string); isString && p.Type == String && strings.ContainsAny(s, "{}") {
		f, err := parseFormat(s, false)
		if err != nil {
			r.failAt(n.Line, path, "%v", err)
			return
		}
		p.defFmt = f
		if _, err := p.Coerce(f.expand(sampleInput, nil, nil)); err != nil {
			r.failAt(n.Line, path, "is invalid with the example request %q: %s", sampleInput.Name, err.(*field.Error).Msg)
			return
		}
		p.Default = s
		return
	}
	v, err := p.Coerce(raw)
	if err != nil {
		r.failAt(n.Line, path, "is invalid: %s", err.(*field.Error).Msg)
		return
	}
	p.Default = v
}

// scalar returns a scalar node's typed value: string, int64, bool, float64
// or nil.
func (r *specReader) scalar(n *yaml.Node, path string) (any, bool) {
	if n.Kind != yaml.ScalarNode {
		r.failAt(n.Line, path, "must be a single value, not %s", describeNode(n))
		return nil, false
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!int":
		var v int64
		if err := n.Decode(&v); err == nil {
			return v, true
		}
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err == nil {
			return v, true
		}
	case "!!float":
		var v float64
		if err := n.Decode(&v); err == nil {
			return v, true
		}
	}
	return n.Value, true
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return quote(n.Value)
}
