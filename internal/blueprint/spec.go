package blueprint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/kyaml/resid"

	"github.com/gitvend/gitvend/internal/config"
)

// SpecFile is the name of the file that describes a blueprint.
const SpecFile = "blueprint.yaml"

// Kind is the kind of a blueprint.yaml document.
const Kind = "Blueprint"

// Type is the type of a parameter.
type Type string

// Parameter types.
const (
	String   Type = "string"   // text, bounded by minLength, maxLength and pattern
	Integer  Type = "integer"  // a whole number, bounded by minimum and maximum
	Boolean  Type = "boolean"  // true or false
	Enum     Type = "enum"     // one of a list of options
	Quantity Type = "quantity" // a Kubernetes quantity such as 500m or 2Gi, bounded by min and max
)

// types lists the parameter types in the order messages name them.
var types = []Type{String, Integer, Boolean, Enum, Quantity}

// DefaultMaxLength bounds string parameters that set no maxLength.
const DefaultMaxLength = 253

// maxMaxLength is the largest maxLength a blueprint may allow.
const maxMaxLength = 1 << 20

// Blueprint is one loaded blueprint. It is immutable and safe for
// concurrent use.
type Blueprint struct {
	// Name is the blueprint's DNS-1123 name, equal to its folder name.
	Name string
	// Title is a short human name, such as "Web service".
	Title string
	// Description says what the blueprint provides.
	Description string
	// Parameters are the blueprint's parameters in the order they are declared.
	Parameters []*Parameter
	// Components are the kustomize components under components/, sorted.
	Components []string
	// Source is the folder the blueprint was loaded from, such as
	// "builtin/web-service" or "blueprints/web-service".
	Source string

	file         string            // path of blueprint.yaml, for messages
	files        map[string][]byte // base/... and components/... by slash path
	baseIDs      []resid.ResId     // objects the base produces
	componentIDs map[string][]resid.ResId
}

// Parameter is one input a blueprint accepts.
type Parameter struct {
	// Name is a lowerCamel identifier such as minReplicas.
	Name string
	// Title labels the parameter in forms; derived from Name when not given.
	Title string
	// Description tells people what the parameter does.
	Description string
	// Type is the parameter's type.
	Type Type
	// Required parameters must be given; they have no default.
	Required bool
	// Default is the value used when none is given: a string, int64 or
	// bool, nil when there is none. A string default may use the
	// placeholders {name}, {namespace}, {environment} and {owner}.
	Default any
	// Pattern is a regular expression (RE2) a string must match.
	Pattern string
	// MinLength and MaxLength bound a string's length in characters;
	// MaxLength defaults to DefaultMaxLength.
	MinLength, MaxLength *int
	// Minimum and Maximum bound an integer.
	Minimum, Maximum *int64
	// AtLeast names another integer parameter this one may not be below,
	// such as maxReplicas at least minReplicas.
	AtLeast string
	// Options are the values an enum allows.
	Options []string
	// Min and Max bound a quantity; empty when unbounded.
	Min, Max string
	// Targets are the fields the value is written to.
	Targets []Target
	// Component is the component a boolean switches on when true.
	Component string
	// Components maps enum options to the component each switches on.
	Components map[string]string

	pattern  *regexp.Regexp
	min, max *resource.Quantity
	defFmt   format         // parsed string default
	field    string         // "spec.parameters[i]"
	line     int            // line of the parameter
	lines    map[string]int // lines of title, component and components.<option>
}

// Target is a field a parameter's value is written to.
type Target struct {
	// Kind is the kind of the objects to set, such as Deployment.
	Kind string
	// Name, when set, limits the target to the base object of that name.
	Name string
	// Path is a kyaml field path such as
	// spec.template.spec.containers.[name=app].image.
	Path string
	// Format, when set, builds a string from placeholders: {value},
	// {name}, {namespace}, {environment}, {owner} and {param:<other>}.
	Format string

	steps  []step
	format format
	field  string // "spec.parameters[i].targets[j]"
	line   int
}

var (
	paramName = regexp.MustCompile(`^[a-z][a-zA-Z0-9]{0,62}$`)
	kindName  = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,62}$`)
)

// Parameter returns the parameter called name, or nil.
func (b *Blueprint) Parameter(name string) *Parameter {
	for _, p := range b.Parameters {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// ParameterNames returns the names of the blueprint's parameters, sorted.
func (b *Blueprint) ParameterNames() []string {
	names := make([]string, len(b.Parameters))
	for i, p := range b.Parameters {
		names[i] = p.Name
	}
	sort.Strings(names)
	return names
}

// reader decodes blueprint.yaml strictly, collecting every problem with its
// field path and line.
type reader struct {
	bp, file string
	errs     []error
}

func (r *reader) fail(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	r.failLine(line, field, format, args...)
}

func (r *reader) failLine(line int, field, format string, args ...any) {
	r.errs = append(r.errs, &Error{Blueprint: r.bp, File: r.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// fields checks that n is a mapping holding only the allowed keys and
// returns its values by key.
func (r *reader) fields(n *yaml.Node, path string, allowed ...string) map[string]*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		r.fail(n, path, "must be a mapping with the fields %s", strings.Join(allowed, ", "))
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := join(path, k.Value)
		switch {
		case !contains(allowed, k.Value):
			r.fail(k, field, "unknown field; allowed: %s", strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			r.fail(k, field, "is given twice")
		default:
			out[k.Value] = v
		}
	}
	return out
}

func (r *reader) str(n *yaml.Node, field string) string {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" || n.ShortTag() == "!!map" || n.ShortTag() == "!!seq" {
		r.fail(n, field, "must be a string")
		return ""
	}
	return n.Value
}

func (r *reader) integer(n *yaml.Node, field string) (int64, bool) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		var v int64
		if err := n.Decode(&v); err == nil {
			return v, true
		}
	}
	r.fail(n, field, "must be an integer, got %s", describeNode(n))
	return 0, false
}

func (r *reader) boolean(n *yaml.Node, field string) bool {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var v bool
		if err := n.Decode(&v); err == nil {
			return v
		}
	}
	r.fail(n, field, "must be true or false, got %s", describeNode(n))
	return false
}

func (r *reader) list(n *yaml.Node, field string) []*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		r.fail(n, field, "must be a list")
		return nil
	}
	return n.Content
}

// scalar returns a scalar node's typed value: string, int64, bool or nil.
func (r *reader) scalar(n *yaml.Node, field string) (any, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		r.fail(n, field, "must be a single value, not %s", describeNode(n))
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
	if n.ShortTag() == "!!null" {
		return "null"
	}
	return quote(n.Value)
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// parseSpec decodes blueprint.yaml. name is the folder name the blueprint
// must carry and file the path used in messages. Every problem is returned,
// joined.
func parseSpec(name, file string, data []byte) (*Blueprint, error) {
	r := &reader{bp: name, file: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Blueprint: name, File: file, Msg: "file is empty"}
		}
		return nil, &Error{Blueprint: name, File: file, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &Error{Blueprint: name, File: file, Line: extra.Line, Msg: "must hold exactly one YAML document"}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{Blueprint: name, File: file, Msg: "file is empty"}
	}
	b := &Blueprint{Name: name, file: file}
	top := r.fields(doc.Content[0], "", "apiVersion", "kind", "metadata", "spec")
	if top == nil {
		return nil, errors.Join(r.errs...)
	}
	r.required(top, doc.Content[0], "", "apiVersion", "kind", "metadata", "spec")
	if n := top["apiVersion"]; n != nil {
		if v := r.str(n, "apiVersion"); v != "" && v != config.APIVersion {
			r.fail(n, "apiVersion", "must be %q, got %q", config.APIVersion, v)
		}
	}
	if n := top["kind"]; n != nil {
		if v := r.str(n, "kind"); v != "" && v != Kind {
			r.fail(n, "kind", "must be %q, got %q", Kind, v)
		}
	}
	if n := top["metadata"]; n != nil {
		md := r.fields(n, "metadata", "name")
		r.required(md, n, "metadata", "name")
		if nn := md["name"]; nn != nil {
			switch v := r.str(nn, "metadata.name"); {
			case v == "":
			case !config.IsDNSLabel(v):
				r.fail(nn, "metadata.name", "must be a DNS-1123 label (lower case letters, digits and '-', at most 63 characters), got %q", v)
			case v != name:
				r.fail(nn, "metadata.name", "must equal the folder name %q, got %q", name, v)
			}
		}
	}
	if n := top["spec"]; n != nil {
		r.spec(b, n)
	}
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return b, nil
}

// required reports the keys of want that m lacks.
func (r *reader) required(m map[string]*yaml.Node, n *yaml.Node, path string, want ...string) {
	if m == nil {
		return
	}
	for _, k := range want {
		if m[k] == nil {
			r.fail(n, join(path, k), "is required")
		}
	}
}

func (r *reader) spec(b *Blueprint, n *yaml.Node) {
	spec := r.fields(n, "spec", "title", "description", "parameters")
	if spec == nil {
		return
	}
	if t := spec["title"]; t != nil {
		b.Title = r.str(t, "spec.title")
		if strings.ContainsAny(b.Title, "\r\n") {
			r.fail(t, "spec.title", "must be a single line")
		}
	}
	if b.Title == "" {
		b.Title = b.Name
	}
	if d := spec["description"]; d != nil {
		b.Description = strings.TrimSpace(r.str(d, "spec.description"))
	}
	pn := spec["parameters"]
	if pn == nil {
		return
	}
	seen := map[string]bool{}
	titles := map[string]bool{}
	for _, l := range FormFields(&Blueprint{}) {
		titles[strings.ToLower(l.Label)] = true
	}
	for i, item := range r.list(pn, "spec.parameters") {
		field := fmt.Sprintf("spec.parameters[%d]", i)
		p := r.parameter(item, field)
		if p == nil {
			continue
		}
		if seen[p.Name] {
			r.fail(item, field+".name", "parameter %q is declared twice", p.Name)
			continue
		}
		seen[p.Name] = true
		if titles[strings.ToLower(p.Title)] {
			line := p.lines["title"]
			if line == 0 {
				line = p.line
			}
			r.failLine(line, field+".title", "%q is used twice as a form label; give the parameter a distinct title", p.Title)
		}
		titles[strings.ToLower(p.Title)] = true
		b.Parameters = append(b.Parameters, p)
	}
	// atLeast must name another integer parameter.
	for _, p := range b.Parameters {
		if p.AtLeast == "" {
			continue
		}
		switch other := b.Parameter(p.AtLeast); {
		case p.AtLeast == p.Name:
			r.failLine(p.lines["atLeast"], p.field+".atLeast", "must name another parameter, not %s itself", p.Name)
		case other == nil || other.Type != Integer:
			r.failLine(p.lines["atLeast"], p.field+".atLeast", "must name an integer parameter of this blueprint, got %q", p.AtLeast)
		}
	}
	// {param:x} must name another parameter.
	for _, p := range b.Parameters {
		for _, t := range p.Targets {
			for _, ref := range t.format.params() {
				if !seen[ref] {
					r.failLine(t.line, t.field+".format", "{param:%s} names no parameter; parameters: %s", ref, strings.Join(b.ParameterNames(), ", "))
				} else if ref == p.Name {
					r.failLine(t.line, t.field+".format", "use {value} for the parameter's own value, not {param:%s}", ref)
				}
			}
		}
	}
}

var paramFields = []string{"name", "title", "description", "type", "required", "default",
	"pattern", "minLength", "maxLength", "minimum", "maximum", "atLeast", "options", "min", "max",
	"targets", "component", "components"}

// typeFields lists the fields that only some types allow.
var typeFields = map[string][]Type{
	"pattern": {String}, "minLength": {String}, "maxLength": {String},
	"minimum": {Integer}, "maximum": {Integer}, "atLeast": {Integer},
	"options": {Enum}, "components": {Enum},
	"min": {Quantity}, "max": {Quantity},
	"component": {Boolean},
}

func (r *reader) parameter(n *yaml.Node, field string) *Parameter {
	m := r.fields(n, field, paramFields...)
	if m == nil {
		return nil
	}
	before := len(r.errs)
	p := &Parameter{field: field, line: deref(n).Line, lines: map[string]int{}}
	r.required(m, n, field, "name", "type")
	if v := m["name"]; v != nil {
		p.Name = r.str(v, field+".name")
		if p.Name != "" && !paramName.MatchString(p.Name) {
			r.fail(v, field+".name", "must be a lowerCamel identifier (a lower case letter, then letters and digits, at most 63 characters), got %q", p.Name)
		}
	}
	if v := m["type"]; v != nil {
		p.Type = Type(r.str(v, field+".type"))
		if p.Type != "" && !containsType(p.Type) {
			r.fail(v, field+".type", "must be one of %s, got %q", typeList(), p.Type)
			p.Type = ""
		}
	}
	if v := m["title"]; v != nil {
		p.Title = r.str(v, field+".title")
		p.lines["title"] = deref(v).Line
		if strings.ContainsAny(p.Title, "\r\n#") || strings.TrimSpace(p.Title) != p.Title {
			r.fail(v, field+".title", "must be a single line without '#' or surrounding spaces")
		}
	}
	if p.Title == "" {
		p.Title = titleOf(p.Name)
	}
	if v := m["description"]; v != nil {
		p.Description = strings.TrimSpace(r.str(v, field+".description"))
	}
	if v := m["required"]; v != nil {
		p.Required = r.boolean(v, field+".required")
	}
	for _, key := range paramFields {
		allowed, limited := typeFields[key]
		if v := m[key]; v != nil && limited && p.Type != "" && !containsTypeIn(allowed, p.Type) {
			r.fail(v, field+"."+key, "is only allowed for type %s, not %s", allowed[0], p.Type)
		}
	}
	if v := m["pattern"]; v != nil && p.Type == String {
		p.Pattern = r.str(v, field+".pattern")
		re, err := regexp.Compile(p.Pattern)
		if err != nil {
			r.fail(v, field+".pattern", "is not a valid regular expression: %v", err)
		}
		p.pattern = re
	}
	r.lengths(p, m, field)
	r.bounds(p, m, field)
	if v := m["options"]; v != nil && p.Type == Enum {
		seen := map[string]bool{}
		for i, o := range r.list(v, field+".options") {
			s, ok := r.scalar(o, fmt.Sprintf("%s.options[%d]", field, i))
			opt := scalarString(s)
			switch {
			case !ok:
			case s == nil || opt == "" || strings.ContainsAny(opt, "\r\n"):
				r.fail(o, fmt.Sprintf("%s.options[%d]", field, i), "must be a non-empty single-line value")
			case seen[opt]:
				r.fail(o, fmt.Sprintf("%s.options[%d]", field, i), "option %q is listed twice", opt)
			default:
				seen[opt] = true
				p.Options = append(p.Options, opt)
			}
		}
	}
	if p.Type == Enum && len(p.Options) == 0 && m["options"] == nil {
		r.fail(n, field+".options", "is required for an enum: list the allowed values")
	}
	if v := m["atLeast"]; v != nil && p.Type == Integer {
		p.AtLeast = r.str(v, field+".atLeast")
		p.lines["atLeast"] = deref(v).Line
	}
	if v := m["component"]; v != nil && p.Type == Boolean {
		p.Component = r.str(v, field+".component")
		p.lines["component"] = deref(v).Line
	}
	if v := m["components"]; v != nil && p.Type == Enum {
		comps := r.fields(v, field+".components", p.Options...)
		p.Components = map[string]string{}
		for _, opt := range p.Options {
			c := comps[opt]
			if c == nil {
				continue
			}
			p.Components[opt] = r.str(c, field+".components."+opt)
			p.lines["components."+opt] = deref(c).Line
		}
	}
	if v := m["targets"]; v != nil {
		for i, t := range r.list(v, field+".targets") {
			if tg := r.target(t, fmt.Sprintf("%s.targets[%d]", field, i)); tg != nil {
				p.Targets = append(p.Targets, *tg)
			}
		}
	}
	if m["targets"] == nil && m["component"] == nil && m["components"] == nil {
		r.fail(n, field, "parameter %q sets nothing: give it targets, or a component to switch on", p.Name)
	}
	if v := m["default"]; v != nil && len(r.errs) == before {
		r.defaultValue(p, v, field+".default")
	}
	if p.Required && p.Default != nil {
		r.fail(m["required"], field+".required", "a required parameter cannot have a default")
	}
	if len(r.errs) > before {
		return nil
	}
	return p
}

func (r *reader) lengths(p *Parameter, m map[string]*yaml.Node, field string) {
	if p.Type != String {
		return
	}
	get := func(key string) *int {
		v := m[key]
		if v == nil {
			return nil
		}
		n, ok := r.integer(v, field+"."+key)
		if !ok {
			return nil
		}
		if n < 0 || n > maxMaxLength {
			r.fail(v, field+"."+key, "must be from 0 to %d, got %d", maxMaxLength, n)
			return nil
		}
		i := int(n)
		return &i
	}
	p.MinLength, p.MaxLength = get("minLength"), get("maxLength")
	if p.MaxLength == nil {
		d := DefaultMaxLength
		p.MaxLength = &d
	}
	if p.MinLength != nil && *p.MinLength > *p.MaxLength {
		r.fail(m["minLength"], field+".minLength", "must not exceed maxLength (%d), got %d", *p.MaxLength, *p.MinLength)
	}
}

func (r *reader) bounds(p *Parameter, m map[string]*yaml.Node, field string) {
	switch p.Type {
	case Integer:
		get := func(key string) *int64 {
			if v := m[key]; v != nil {
				if n, ok := r.integer(v, field+"."+key); ok {
					return &n
				}
			}
			return nil
		}
		p.Minimum, p.Maximum = get("minimum"), get("maximum")
		if p.Minimum != nil && p.Maximum != nil && *p.Minimum > *p.Maximum {
			r.fail(m["minimum"], field+".minimum", "must not exceed maximum (%d), got %d", *p.Maximum, *p.Minimum)
		}
	case Quantity:
		get := func(key string) (string, *resource.Quantity) {
			v := m[key]
			if v == nil {
				return "", nil
			}
			s, _ := r.scalar(v, field+"."+key)
			text := scalarString(s)
			q, err := resource.ParseQuantity(text)
			if err != nil {
				r.fail(v, field+"."+key, "must be a quantity such as 500m or 2Gi, got %s", quote(text))
				return "", nil
			}
			return text, &q
		}
		p.Min, p.min = get("min")
		p.Max, p.max = get("max")
		if p.min != nil && p.max != nil && p.min.Cmp(*p.max) > 0 {
			r.fail(m["min"], field+".min", "must not exceed max (%s), got %s", p.Max, p.Min)
		}
	}
}

var targetFields = []string{"kind", "name", "path", "format"}

func (r *reader) target(n *yaml.Node, field string) *Target {
	m := r.fields(n, field, targetFields...)
	if m == nil {
		return nil
	}
	before := len(r.errs)
	t := &Target{field: field, line: deref(n).Line}
	r.required(m, n, field, "kind", "path")
	if v := m["kind"]; v != nil {
		t.Kind = r.str(v, field+".kind")
		if t.Kind != "" && !kindName.MatchString(t.Kind) {
			r.fail(v, field+".kind", "must be a Kubernetes kind such as Deployment, got %q", t.Kind)
		}
	}
	if v := m["name"]; v != nil {
		t.Name = r.str(v, field+".name")
	}
	if v := m["path"]; v != nil {
		t.Path = r.str(v, field+".path")
		steps, err := parsePath(t.Path)
		if err != nil {
			r.fail(v, field+".path", "%v", err)
		}
		t.steps = steps
	}
	if v := m["format"]; v != nil {
		t.Format = r.str(v, field+".format")
		f, err := parseFormat(t.Format, true)
		if err != nil {
			r.fail(v, field+".format", "%v", err)
		}
		t.format = f
	}
	if len(r.errs) > before {
		return nil
	}
	return t
}

// sampleInput fills default placeholders when defaults are checked at load.
var sampleInput = Input{Name: "example", Namespace: "example", Environment: "dev", Owner: "example"}

func (r *reader) defaultValue(p *Parameter, n *yaml.Node, field string) {
	raw, ok := r.scalar(n, field)
	if !ok || raw == nil {
		if ok {
			r.fail(n, field, "must not be null; leave the default out instead")
		}
		return
	}
	if s, isString := raw.(string); isString && p.Type == String && strings.ContainsAny(s, "{}") {
		f, err := parseFormat(s, false)
		if err != nil {
			r.fail(n, field, "%v", err)
			return
		}
		p.defFmt = f
		if _, err := p.Coerce(f.expand(sampleInput, nil, nil)); err != nil {
			r.fail(n, field, "is invalid with the example request %q: %s", sampleInput.Name, err.(*Error).Msg)
			return
		}
		p.Default = s
		return
	}
	v, err := p.Coerce(raw)
	if err != nil {
		r.fail(n, field, "is invalid: %s", err.(*Error).Msg)
		return
	}
	p.Default = v
}

func containsType(t Type) bool { return containsTypeIn(types, t) }

func containsTypeIn(list []Type, t Type) bool {
	for _, e := range list {
		if e == t {
			return true
		}
	}
	return false
}

func typeList() string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// titleOf turns a lowerCamel name into a label: minReplicas → "Min replicas".
func titleOf(name string) string {
	var b strings.Builder
	for i, c := range name {
		switch {
		case i == 0:
			b.WriteString(strings.ToUpper(string(c)))
		case c >= 'A' && c <= 'Z':
			b.WriteByte(' ')
			b.WriteString(strings.ToLower(string(c)))
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
