package blueprint

import (
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/kyaml/resid"

	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/request"
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
	// Version is the blueprint's version, 1 unless its spec says; a
	// request may pin it as name@version.
	Version int
	// Changelog is one line saying what changed in this version.
	Changelog string
	// Parameters are the blueprint's parameters in the order they are declared.
	Parameters []*Parameter
	// Components are the kustomize components under components/, sorted.
	Components []string
	// Source is the folder the blueprint was loaded from, such as
	// "builtin/web-service" or "blueprints/web-service".
	Source string

	file         string            // path of blueprint.yaml, for messages
	lines        field.Lines       // lines of blueprint.yaml's fields
	files        map[string][]byte // base/... and components/... by slash path
	baseIDs      []resid.ResId     // objects the base produces
	componentIDs map[string][]resid.ResId
	digest       string // of blueprint.yaml and the files (digestOf)
}

// Digest fingerprints the blueprint's files: two blueprints with the same
// digest render every request the same. It is empty for a blueprint not
// loaded from files.
func (b *Blueprint) Digest() string { return b.digest }

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
	Targets []FieldTarget
	// Component is the component a boolean switches on when true.
	Component string
	// Components maps enum options to the component each switches on.
	Components map[string]string

	pattern  *regexp.Regexp
	min, max *resource.Quantity
	defFmt   format // parsed string default
	field    string // "spec.parameters[i]"
}

// FieldTarget is a field a parameter's value is written to.
type FieldTarget struct {
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

// Ref is the blueprint's reference pinned to its version, such as
// web-service@2.
func (b *Blueprint) Ref() string { return request.BlueprintRef(b.Name, b.Version) }

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
