package request

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"sort"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/schema"
)

// Kind is the kind of a Request record.
const Kind = "Request"

// Dir is the folder of the repository that holds requests.
const Dir = "requests"

// Request is one provisioned thing: a blueprint, where it goes, who owns it
// and the parameters it was asked with.
type Request struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`
	Spec       Spec     `yaml:"spec"`
}

// Metadata names a request.
type Metadata struct {
	// Name is a DNS-1123 label, unique within its environment and namespace.
	Name string `yaml:"name"`
}

// Spec is what was asked for.
type Spec struct {
	Blueprint   string         `yaml:"blueprint"`
	Environment string         `yaml:"environment"`
	Namespace   string         `yaml:"namespace"`
	Owner       string         `yaml:"owner"`
	Parameters  map[string]any `yaml:"parameters,omitempty"`
	// TTL, when set, is how long the thing may live, as a duration such as
	// 168h or 7d.
	TTL string `yaml:"ttl,omitempty"`
}

// Parse decodes and validates one Request document. Unknown fields are
// rejected. Every problem is a *field.Error with its field path and, when
// the document shows it, its line; problems of the file as a whole name
// the field "request".
func Parse(data []byte) (*Request, error) {
	var r Request
	lines, err := field.Unmarshal("", data, &r)
	if err != nil {
		for _, e := range field.All(err) {
			if e.Field == "" {
				e.Field = "request"
			}
		}
		return nil, err
	}
	if err := r.Validate(); err != nil {
		lines.Locate(err)
		return nil, err
	}
	return &r, nil
}

// Validate checks the record's fields (not its parameters, which only the
// blueprint can judge) and returns every problem.
func (r *Request) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &field.Error{Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	if r.APIVersion != config.APIVersion {
		bad("apiVersion", "must be %q, got %q", config.APIVersion, r.APIVersion)
	}
	if r.Kind != Kind {
		bad("kind", "must be %q, got %q", Kind, r.Kind)
	}
	label := func(path, v string) {
		switch {
		case v == "":
			bad(path, "is required")
		case !config.IsDNSLabel(v):
			bad(path, "must be a DNS-1123 label: at most 63 lower case letters, digits and '-', starting and ending with a letter or digit; got %q", v)
		}
	}
	label("metadata.name", r.Metadata.Name)
	if r.Spec.Blueprint == "" {
		bad("spec.blueprint", "is required")
	} else if _, _, err := SplitBlueprint(r.Spec.Blueprint); err != nil {
		bad("spec.blueprint", "%v", err)
	}
	label("spec.environment", r.Spec.Environment)
	label("spec.namespace", r.Spec.Namespace)
	label("spec.owner", r.Spec.Owner)
	if r.Spec.TTL != "" {
		if _, err := ParseTTL(r.Spec.TTL); err != nil {
			bad("spec.ttl", "%v", err)
		}
	}
	return errors.Join(errs...)
}

// ParseTTL reads a duration such as 90m, 168h or 7d; it must be positive.
func ParseTTL(s string) (time.Duration, error) { return config.ParseDuration(s) }

// Path is where the record lives in the repository:
// requests/<environment>/<namespace>/<name>.yaml.
func (r *Request) Path() string {
	return path.Join(Dir, r.Spec.Environment, r.Spec.Namespace, r.Metadata.Name+".yaml")
}

// RenderDir is the folder, next to the record, that holds its rendered
// manifests.
func (r *Request) RenderDir() string {
	return path.Join(Dir, r.Spec.Environment, r.Spec.Namespace, r.Metadata.Name)
}

// Encode writes the record as YAML with a stable field order, parameters
// sorted by name, after a comment that points YAML editors at the
// Request schema.
func (r *Request) Encode() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(schema.Comment(schema.Request) + "\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(r.node()); err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	return buf.Bytes(), nil
}

func (r *Request) node() *yaml.Node {
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	m := func(kv ...*yaml.Node) *yaml.Node {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: kv}
	}
	spec := m(str("blueprint"), str(r.Spec.Blueprint), str("environment"), str(r.Spec.Environment),
		str("namespace"), str(r.Spec.Namespace), str("owner"), str(r.Spec.Owner))
	if len(r.Spec.Parameters) > 0 {
		keys := make([]string, 0, len(r.Spec.Parameters))
		for k := range r.Spec.Parameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		params := m()
		for _, k := range keys {
			var v yaml.Node
			if err := v.Encode(r.Spec.Parameters[k]); err != nil {
				v = *str(fmt.Sprint(r.Spec.Parameters[k]))
			}
			params.Content = append(params.Content, str(k), &v)
		}
		spec.Content = append(spec.Content, str("parameters"), params)
	}
	if r.Spec.TTL != "" {
		spec.Content = append(spec.Content, str("ttl"), str(r.Spec.TTL))
	}
	return m(str("apiVersion"), str(r.APIVersion), str("kind"), str(r.Kind),
		str("metadata"), m(str("name"), str(r.Metadata.Name)), str("spec"), spec)
}

// New returns a Request with apiVersion and kind set.
func New(name string, spec Spec) *Request {
	return &Request{APIVersion: config.APIVersion, Kind: Kind, Metadata: Metadata{Name: name}, Spec: spec}
}
