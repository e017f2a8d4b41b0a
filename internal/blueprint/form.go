package blueprint

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/schema"
)

// FormLabel is the GitHub label request issues carry.
const FormLabel = "gitvend"

// Labels of the request fields in issue forms; GitHub renders each as a
// "### <Label>" heading in the issue body.
const (
	LabelRequestName = "Request name"
	LabelEnv         = "Environment"
	LabelNamespace   = "Namespace"
	LabelOwnerField  = "Owner"
	LabelVersion     = "Blueprint version"
)

// NoResponse is what GitHub writes under a heading left empty.
const NoResponse = "_No response_"

// FormField maps a "### <Label>" section of an issue created from a form back
// to the request field it fills.
type FormField struct {
	// Label is the heading text.
	Label string
	// Key is the request field: "metadata.name", "spec.environment",
	// "spec.namespace", "spec.owner", "spec.blueprint.version" (a version
	// to pin) or "spec.parameters.<name>".
	Key string
	// Parameter is the parameter name for parameter fields, else "".
	Parameter string
}

// FormFields returns the fields of bp's issue form in form order: the
// request name, environment, namespace and owner, then one per parameter.
// Labels are unique (case-insensitively) within a blueprint.
func FormFields(bp *Blueprint) []FormField {
	out := []FormField{
		{Label: LabelRequestName, Key: "metadata.name"},
		{Label: LabelEnv, Key: "spec.environment"},
		{Label: LabelNamespace, Key: "spec.namespace"},
		{Label: LabelOwnerField, Key: "spec.owner"},
		{Label: LabelVersion, Key: "spec.blueprint.version"},
	}
	for _, p := range bp.Parameters {
		out = append(out, FormField{Label: p.Title, Key: "spec.parameters." + p.Name, Parameter: p.Name})
	}
	return out
}

// versionHelp describes the form's version field: what pinning does and
// what the current version changed.
func versionHelp(bp *Blueprint) string {
	s := fmt.Sprintf("Leave empty to follow the blueprint: when it changes, gitvend proposes the new render in a fan-out pull request. "+
		"A version number, such as %d, pins the request to that version of %s (written %s), and fan-out leaves it alone. Current version: %d",
		bp.Version, bp.Name, bp.Ref(), bp.Version)
	if bp.Changelog != "" {
		s += " (" + strings.TrimSuffix(bp.Changelog, ".") + ")"
	}
	return s + "."
}

// IssueFormSchema is the JSON Schema of GitHub issue forms that editors
// know from SchemaStore.
const IssueFormSchema = "https://json.schemastore.org/github-issue-forms.json"

// formHeader opens every form: editors check the form itself against
// GitHub's issue form schema, and the second comment names the schema of
// the record an issue from the form becomes.
var formHeader = "# yaml-language-server: $schema=" + IssueFormSchema + "\n" +
	"# An issue from this form becomes a Request record, requests/<environment>/<namespace>/<name>.yaml,\n" +
	"# whose schema is " + schema.URL(schema.Request) + "\n"

// FormTitle is the issue title prefix of bp's form.
func FormTitle(bp *Blueprint) string { return "[gitvend] " + bp.Name + ": " }

// Form writes a GitHub issue form (YAML) asking for bp. envs are the
// environments to offer; with none, the environment is a free-text field.
func Form(bp *Blueprint, envs []string) ([]byte, error) {
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	boolean := func(v bool) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}
	}
	mapping := func(kv ...*yaml.Node) *yaml.Node {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: kv}
	}
	seq := func(items ...string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, it := range items {
			n.Content = append(n.Content, str(it))
		}
		return n
	}
	for i, e := range envs {
		if e == "" || strings.ContainsAny(e, "\r\n") {
			return nil, &field.Error{Field: fmt.Sprintf("environments[%d]", i), Msg: fmt.Sprintf("must be a non-empty single-line name, got %s", quote(e))}
		}
	}
	field := func(kind, id, label, description, placeholder string, options []string, def int, required bool) *yaml.Node {
		attrs := mapping(str("label"), str(label))
		if description != "" {
			attrs.Content = append(attrs.Content, str("description"), str(description))
		}
		if kind == "dropdown" {
			attrs.Content = append(attrs.Content, str("options"), seq(options...))
			if def >= 0 {
				attrs.Content = append(attrs.Content, str("default"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(def)})
			}
		} else if placeholder != "" {
			attrs.Content = append(attrs.Content, str("placeholder"), str(placeholder))
		}
		return mapping(str("type"), str(kind), str("id"), str(id), str("attributes"), attrs,
			str("validations"), mapping(str("required"), boolean(required)))
	}

	var intro strings.Builder
	fmt.Fprintf(&intro, "Ask gitvend for a **%s** (blueprint `%s`).\n", bp.Title, bp.Name)
	if bp.Description != "" {
		fmt.Fprintf(&intro, "\n%s\n", bp.Description)
	}
	intro.WriteString("\ngitvend renders the manifests and opens a pull request with a policy check and a cost estimate. " +
		"Fields left empty take their defaults. To change a value later, comment `/provision set key=value` on this issue.\n")
	intro.WriteString("To have it expire, comment `/provision set ttl=72h` (counted from the merge); " +
		"`/provision extend ttl=…` on this issue keeps it longer.\n")
	intro.WriteString("Where the environment sleeps outside working hours, `/provision wake for=2h` on this issue wakes it; " +
		"`/provision help` lists every command that applies here.\n")
	intro.WriteString("Where the environment needs approvals (`approvals:` in gitvend.yaml), the pull request is applied only once " +
		"enough members of the named teams, other than you, approved its latest commit.\n")

	body := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	body.Content = append(body.Content,
		mapping(str("type"), str("markdown"), str("attributes"), mapping(str("value"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: intro.String(), Style: yaml.LiteralStyle})),
		field("input", "request-name", LabelRequestName, "A DNS-1123 label naming this request, such as payments-api; the objects are named after it.", "", nil, -1, true))
	if len(envs) > 0 {
		body.Content = append(body.Content, field("dropdown", "environment", LabelEnv, "The environment to provision in.", "", envs, -1, true))
	} else {
		body.Content = append(body.Content, field("input", "environment", LabelEnv, "The environment to provision in, such as dev.", "", nil, -1, true))
	}
	body.Content = append(body.Content,
		field("input", "namespace", LabelNamespace, "The Kubernetes namespace the objects go to; your team must be allowed to use it.", "", nil, -1, true),
		field("input", "owner", LabelOwnerField, "The owning team's slug; objects are labelled with it for cost allocation.", "", nil, -1, true),
		field("input", "blueprint-version", LabelVersion, versionHelp(bp), "", nil, -1, false))
	for _, p := range bp.Parameters {
		desc := p.Description
		if desc != "" && !strings.HasSuffix(desc, ".") {
			desc += "."
		}
		desc = strings.TrimSpace(desc + " Allowed: " + p.Allowed() + ".")
		id := "parameter-" + p.Name
		switch p.Type {
		case Boolean, Enum:
			options := p.Options
			if p.Type == Boolean {
				options = []string{"true", "false"}
			}
			def := -1
			if p.Default != nil {
				for i, o := range options {
					if o == scalarString(p.Default) {
						def = i
					}
				}
			}
			body.Content = append(body.Content, field("dropdown", id, p.Title, desc, "", options, def, p.Required))
		default:
			placeholder := ""
			if p.Default != nil {
				placeholder = scalarString(p.Default)
				if p.defFmt != nil {
					desc += " Default: " + placeholder + ", with the request's values filled in."
				}
			}
			body.Content = append(body.Content, field("input", id, p.Title, desc, placeholder, nil, -1, p.Required))
		}
	}
	description := bp.Title
	if bp.Description != "" {
		description = strings.SplitN(bp.Description, "\n", 2)[0]
	}
	doc := mapping(
		str("name"), str(bp.Title),
		str("description"), str(description),
		str("title"), str(FormTitle(bp)),
		str("labels"), seq(FormLabel),
		str("body"), body,
	)
	var buf bytes.Buffer
	buf.WriteString(formHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode issue form: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode issue form: %w", err)
	}
	return buf.Bytes(), nil
}
