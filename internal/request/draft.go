package request

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/gitvend/gitvend/internal/field"
)

// NoResponse is what GitHub writes under a form field left empty.
const NoResponse = "_No response_"

// MaxBodyBytes bounds the issue body gitvend reads a form from.
const MaxBodyBytes = 64 << 10

// Draft is a request as people ask for it, before a blueprint has judged its
// parameters: the fields of an issue form and of /provision commands, all
// as text. Commands apply to a draft in order; Request turns it into a
// record.
type Draft struct {
	Blueprint   string
	Name        string
	Environment string
	Namespace   string
	Owner       string
	TTL         string
	// Parameters hold the values given, as written; a blueprint coerces
	// them to their types.
	Parameters map[string]string
	// Destroy is set when the last word was /provision destroy: the thing
	// is to be removed rather than provisioned.
	Destroy bool
}

// FormField maps a form section heading to the request field it fills:
// "metadata.name", "spec.environment", "spec.namespace", "spec.owner",
// "spec.ttl" or "spec.parameters.<name>".
type FormField struct {
	Label string
	Key   string
}

var titleBlueprint = regexp.MustCompile(`^\s*\[gitvend\]\s*([a-z0-9]([-a-z0-9]*[a-z0-9])?)\s*:`)

// BlueprintFromTitle reads the blueprint a form's issue title names
// ("[gitvend] web-service: …"), or "" when the title does not name one.
func BlueprintFromTitle(title string) string {
	if m := titleBlueprint.FindStringSubmatch(title); m != nil {
		return m[1]
	}
	return ""
}

// FormSections reads the "### Label" sections GitHub renders from an issue
// form, by label, each value trimmed; a section left empty reads as "".
// Text before the first heading is ignored.
func FormSections(body string) (map[string]string, error) {
	if len(body) > MaxBodyBytes {
		return nil, &field.Error{Field: "issue body", Msg: fmt.Sprintf("is %d bytes; at most %d", len(body), MaxBodyBytes)}
	}
	sections := map[string]string{}
	label := ""
	var value []string
	flush := func() {
		if label != "" {
			v := strings.TrimSpace(strings.Join(value, "\n"))
			if v == NoResponse {
				v = ""
			}
			sections[label] = v
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			flush()
			label, value = strings.TrimSpace(h), nil
			continue
		}
		value = append(value, line)
	}
	flush()
	return sections, nil
}

// DraftFromForm builds a draft from the sections of an issue created from
// blueprint's form. Sections the form does not know are ignored; fields
// left empty take their defaults later.
func DraftFromForm(blueprint string, sections map[string]string, fields []FormField) (*Draft, error) {
	d := &Draft{Blueprint: blueprint, Parameters: map[string]string{}}
	for _, f := range fields {
		v, ok := sections[f.Label]
		if !ok || v == "" {
			continue
		}
		if err := d.setKey(f.Key, v); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// setKey sets the field a form key ("spec.parameters.replicas") names.
func (d *Draft) setKey(key, value string) error {
	switch key {
	case "metadata.name":
		d.Name = value
	case "spec.environment":
		d.Environment = value
	case "spec.namespace":
		d.Namespace = value
	case "spec.owner":
		d.Owner = value
	case "spec.ttl":
		d.TTL = value
	case "spec.blueprint":
		d.Blueprint = value
	case "spec.blueprint.version":
		name, _, _ := strings.Cut(d.Blueprint, "@")
		ref := name + "@" + value
		if _, _, err := SplitBlueprint(ref); err != nil {
			return &field.Error{Field: "spec.blueprint", Msg: err.Error()}
		}
		d.Blueprint = ref
	default:
		p, ok := strings.CutPrefix(key, "spec.parameters.")
		if !ok || p == "" {
			return &field.Error{Field: key, Msg: "is not a request field"}
		}
		d.Parameters[p] = value
	}
	return nil
}

// Apply changes the draft as cmd asks. A Create command replaces the draft;
// Set changes the fields it names (and takes back a Destroy); Destroy marks
// the draft for removal. Other verbs leave the draft as it is.
func (d *Draft) Apply(cmd Command) {
	switch cmd.Verb {
	case Create:
		*d = Draft{Blueprint: cmd.Blueprint, Parameters: map[string]string{}}
	case Set:
		d.Destroy = false
	case Destroy:
		d.Destroy = true
		return
	default:
		return
	}
	if d.Parameters == nil {
		d.Parameters = map[string]string{}
	}
	for _, a := range cmd.Args {
		if f, ok := fieldKeys[a.Key]; ok {
			_ = d.setKey(f, a.Value)
			continue
		}
		d.Parameters[a.Key] = a.Value
	}
}

// Request turns the draft into a Request record whose parameters are the
// given typed values (a blueprint's coercion of d.Parameters), and checks
// its fields. Every problem is reported, each naming its field.
func (d *Draft) Request(params map[string]any) (*Request, error) {
	var errs []error
	if d.Blueprint == "" {
		errs = append(errs, &field.Error{Field: "spec.blueprint", Msg: "is required: start with /provision <blueprint> or open the issue from a gitvend form"})
	}
	r := New(d.Name, Spec{
		Blueprint:   d.Blueprint,
		Environment: d.Environment,
		Namespace:   d.Namespace,
		Owner:       d.Owner,
		Parameters:  params,
		TTL:         d.TTL,
	})
	for _, fe := range field.All(r.Validate()) {
		if fe.Field == "spec.blueprint" && d.Blueprint == "" {
			continue
		}
		errs = append(errs, fe)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// ParameterNames lists the draft's parameter names, sorted.
func (d *Draft) ParameterNames() []string {
	names := make([]string, 0, len(d.Parameters))
	for k := range d.Parameters {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// DraftOf returns the draft that gives r back.
func DraftOf(r *Request) *Draft {
	d := &Draft{
		Blueprint:   r.Spec.Blueprint,
		Name:        r.Metadata.Name,
		Environment: r.Spec.Environment,
		Namespace:   r.Spec.Namespace,
		Owner:       r.Spec.Owner,
		TTL:         r.Spec.TTL,
		Parameters:  map[string]string{},
	}
	for k, v := range r.Spec.Parameters {
		d.Parameters[k] = fmt.Sprint(v)
	}
	return d
}
