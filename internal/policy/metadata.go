package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Severities a policy may have.
const (
	SeverityDeny = "deny" // a violation fails the check
	SeverityWarn = "warn" // a violation is reported, the check passes
	SeverityOff  = "off"  // the policy is not evaluated (settings only)
)

// Types of policy parameters.
const (
	TypeString      = "string"
	TypeInteger     = "integer"
	TypeNumber      = "number"
	TypeBoolean     = "boolean"
	TypeStringArray = "string-array"
)

var paramTypes = []string{TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeStringArray}

// Info describes one policy, for documentation and summaries.
type Info struct {
	// ID is the policy's stable id, such as "privileged-container".
	ID string `json:"id"`
	// Severity is the severity in effect: the setting of gitvend.yaml, or
	// the default.
	Severity string `json:"severity"`
	// DefaultSeverity is the severity the policy declares.
	DefaultSeverity string `json:"defaultSeverity"`
	// Title is a short name for the policy.
	Title string `json:"title"`
	// Description says what the policy checks and why.
	Description string `json:"description"`
	// Fix says in short how to fix a violation.
	Fix string `json:"fix"`
	// Params are the parameters the policy takes, sorted by name.
	Params []Param `json:"params,omitempty"`
	// Source is the file that defines the policy: "builtin/<file>" for the
	// built-in library, "policies/<file>" for a repository's own.
	Source string `json:"source"`
}

// Param describes one parameter of a policy.
type Param struct {
	// Name is the key under policy.policies.<id>.params.
	Name string `json:"name"`
	// Type is one of string, integer, number, boolean and string-array.
	Type string `json:"type"`
	// Default is the value used when gitvend.yaml does not set one.
	Default any `json:"default"`
	// Description says what the parameter does.
	Description string `json:"description"`
}

// metadata is what a policy declares in its metadata rule.
type metadata struct {
	ID          string               `json:"id"`
	Severity    string               `json:"severity"`
	Title       string               `json:"title"`
	Description string               `json:"description"`
	Fix         string               `json:"fix"`
	Params      map[string]paramSpec `json:"params"`
}

type paramSpec struct {
	Type        string `json:"type"`
	Default     any    `json:"default"`
	Description string `json:"description"`
}

// policyDef is one policy found in the compiled modules.
type policyDef struct {
	info metadata
	ref  ast.Ref // data.gitvend.policies.<name>
	file string
}

var policyName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// findPolicies returns the policies among srcs, by id, with their metadata
// read through the compiler c.
func findPolicies(ctx context.Context, c *ast.Compiler, srcs []source) (map[string]*policyDef, error) {
	byPkg := map[string]*policyDef{}
	var order []string
	var errs []string
	for _, s := range srcs {
		if !strings.HasPrefix(s.pkg+".", policyPackagePrefix) {
			continue
		}
		if _, seen := byPkg[s.pkg]; seen {
			continue
		}
		name := strings.TrimPrefix(s.pkg, policyPackagePrefix)
		if !policyName.MatchString(name) {
			errs = append(errs, fmt.Sprintf("%s: package %s: a policy must be in package gitvend.policies.<name>, where name is the policy id with '_' for '-' (lower case letters, digits and '_')", s.name, s.pkg))
			byPkg[s.pkg] = nil
			continue
		}
		byPkg[s.pkg] = &policyDef{ref: s.module.Package.Path, file: s.name}
		order = append(order, s.pkg)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("load policies: %s", strings.Join(errs, "; "))
	}
	var body bytes.Buffer
	for i, pkg := range order {
		d := byPkg[pkg]
		for _, rule := range []string{"metadata", "violation"} {
			if len(c.GetRulesExact(d.ref.Append(ast.StringTerm(rule)))) == 0 {
				errs = append(errs, fmt.Sprintf("%s: package %s has no %s rule", d.file, pkg, rule))
			}
		}
		if rules := c.GetRulesExact(d.ref.Append(ast.StringTerm("violation"))); len(rules) > 0 && rules[0].Head.RuleKind() != ast.MultiValue {
			errs = append(errs, fmt.Sprintf("%s: package %s: violation must be a set (violation contains finding if { ... })", d.file, pkg))
		}
		fmt.Fprintf(&body, "m%d = %s.metadata\n", i, d.ref)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("load policies: %s", strings.Join(errs, "; "))
	}
	out := map[string]*policyDef{}
	if len(order) == 0 {
		return out, nil
	}
	rs, err := rego.New(rego.Compiler(c), rego.Query(body.String())).Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("read policy metadata: %w", err)
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("read policy metadata: a metadata rule is undefined; metadata must be a constant object")
	}
	for i, pkg := range order {
		d := byPkg[pkg]
		md, err := decodeMetadata(rs[0].Bindings[fmt.Sprintf("m%d", i)])
		if err == nil {
			err = md.validate(strings.ReplaceAll(strings.TrimPrefix(pkg, policyPackagePrefix), "_", "-"))
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: package %s: metadata: %v", d.file, pkg, err))
			continue
		}
		d.info = md
		out[md.ID] = d
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("load policies: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// decodeMetadata reads a metadata value strictly: unknown keys are errors.
func decodeMetadata(v any) (metadata, error) {
	var md metadata
	data, err := json.Marshal(v)
	if err != nil {
		return md, fmt.Errorf("encode metadata: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&md); err != nil {
		return md, fmt.Errorf("must be an object with id, severity, title, description, fix and params: %w", err)
	}
	for name, p := range md.Params {
		p.Default = normalize(p.Default)
		md.Params[name] = p
	}
	return md, nil
}

// validate checks the metadata of the policy whose package gives wantID.
func (m metadata) validate(wantID string) error {
	var errs []string
	if m.ID != wantID {
		errs = append(errs, fmt.Sprintf("id must be %q to match the package name, got %q", wantID, m.ID))
	}
	if m.Severity != SeverityDeny && m.Severity != SeverityWarn {
		errs = append(errs, fmt.Sprintf("severity must be deny or warn, got %q", m.Severity))
	}
	for field, v := range map[string]string{"title": m.Title, "description": m.Description, "fix": m.Fix} {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, field+" is required")
		}
	}
	for _, name := range sortedKeys(m.Params) {
		p := m.Params[name]
		if !slices.Contains(paramTypes, p.Type) {
			errs = append(errs, fmt.Sprintf("params.%s.type must be one of %s, got %q", name, strings.Join(paramTypes, ", "), p.Type))
			continue
		}
		if msg := checkType(p.Type, p.Default); msg != "" {
			errs = append(errs, fmt.Sprintf("params.%s.default %s", name, msg))
		}
	}
	slices.Sort(errs)
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// infoOf describes the policy d under the severity in effect.
func infoOf(d *policyDef, severity string) Info {
	inf := Info{
		ID:              d.info.ID,
		Severity:        severity,
		DefaultSeverity: d.info.Severity,
		Title:           d.info.Title,
		Description:     d.info.Description,
		Fix:             d.info.Fix,
		Source:          d.file,
	}
	for _, name := range sortedKeys(d.info.Params) {
		p := d.info.Params[name]
		inf.Params = append(inf.Params, Param{Name: name, Type: p.Type, Default: p.Default, Description: p.Description})
	}
	return inf
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
