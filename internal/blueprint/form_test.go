package blueprint

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// issueForm is the part of a GitHub issue form the tests read.
type issueForm struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Title       string   `yaml:"title"`
	Labels      []string `yaml:"labels"`
	Body        []struct {
		Type       string `yaml:"type"`
		ID         string `yaml:"id"`
		Attributes struct {
			Label       string   `yaml:"label"`
			Description string   `yaml:"description"`
			Placeholder string   `yaml:"placeholder"`
			Options     []string `yaml:"options"`
			Default     *int     `yaml:"default"`
			Value       string   `yaml:"value"`
		} `yaml:"attributes"`
		Validations struct {
			Required bool `yaml:"required"`
		} `yaml:"validations"`
	} `yaml:"body"`
}

func parseForm(t *testing.T, data []byte) issueForm {
	t.Helper()
	var f issueForm
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("decode form: %v\n%s", err, data)
	}
	return f
}

func TestFormGolden(t *testing.T) {
	envs := []string{"dev", "staging", "prod"}
	for _, bp := range builtin(t).List() {
		t.Run(bp.Name, func(t *testing.T) {
			data, err := Form(bp, envs)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "forms/"+bp.Name+".yaml", data)
			f := parseForm(t, data)
			if f.Title != "[gitvend] "+bp.Name+": " || len(f.Labels) != 1 || f.Labels[0] != "gitvend" {
				t.Errorf("title %q, labels %v", f.Title, f.Labels)
			}
			// The headings GitHub renders are the labels FormFields maps back.
			var labels []string
			ids := map[string]bool{}
			for _, item := range f.Body {
				if item.Type == "markdown" {
					continue
				}
				labels = append(labels, item.Attributes.Label)
				if ids[item.ID] {
					t.Errorf("id %q used twice", item.ID)
				}
				ids[item.ID] = true
			}
			var want []string
			for _, ff := range FormFields(bp) {
				want = append(want, ff.Label)
			}
			if diff := cmp.Diff(want, labels); diff != "" {
				t.Errorf("form labels differ from FormFields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormFields(t *testing.T) {
	bp, err := builtin(t).Get("web-service")
	if err != nil {
		t.Fatal(err)
	}
	want := []FormField{
		{Label: "Request name", Key: "metadata.name"},
		{Label: "Environment", Key: "spec.environment"},
		{Label: "Namespace", Key: "spec.namespace"},
		{Label: "Owner", Key: "spec.owner"},
		{Label: "Blueprint version", Key: "spec.blueprint.version"},
		{Label: "Image", Key: "spec.parameters.image", Parameter: "image"},
		{Label: "Port", Key: "spec.parameters.port", Parameter: "port"},
		{Label: "Health check path", Key: "spec.parameters.healthPath", Parameter: "healthPath"},
		{Label: "CPU request", Key: "spec.parameters.cpu", Parameter: "cpu"},
		{Label: "Memory", Key: "spec.parameters.memory", Parameter: "memory"},
		{Label: "Min replicas", Key: "spec.parameters.minReplicas", Parameter: "minReplicas"},
		{Label: "Max replicas", Key: "spec.parameters.maxReplicas", Parameter: "maxReplicas"},
		{Label: "Expose through an Ingress", Key: "spec.parameters.ingress", Parameter: "ingress"},
		{Label: "Host", Key: "spec.parameters.host", Parameter: "host"},
		{Label: "Ingress class", Key: "spec.parameters.ingressClassName", Parameter: "ingressClassName"},
	}
	if diff := cmp.Diff(want, FormFields(bp)); diff != "" {
		t.Errorf("FormFields (-want +got):\n%s", diff)
	}
}

func TestFormFields_Dropdowns(t *testing.T) {
	b := sink(t)
	tests := []struct {
		name     string
		envs     []string
		field    string
		wantType string
		options  []string
		def      int
	}{
		{"environments offered", []string{"dev", "prod"}, "Environment", "dropdown", []string{"dev", "prod"}, -1},
		{"no environments known", nil, "Environment", "input", nil, -1},
		{"boolean", nil, "Automount", "dropdown", []string{"true", "false"}, 1},
		{"enum with default", nil, "Tier", "dropdown", []string{"small", "large"}, 0},
		{"boolean without default", nil, "Extra", "dropdown", []string{"true", "false"}, -1},
		{"integer", nil, "Count", "input", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := Form(b, tt.envs)
			if err != nil {
				t.Fatal(err)
			}
			f := parseForm(t, data)
			for _, item := range f.Body {
				if item.Attributes.Label != tt.field {
					continue
				}
				def := -1
				if item.Attributes.Default != nil {
					def = *item.Attributes.Default
				}
				got := []any{item.Type, item.Attributes.Options, def}
				if diff := cmp.Diff([]any{tt.wantType, tt.options, tt.def}, got); diff != "" {
					t.Errorf("field %s (-want +got):\n%s", tt.field, diff)
				}
				return
			}
			t.Errorf("no field labelled %q", tt.field)
		})
	}
}

func TestFormRejectsBadEnvironment(t *testing.T) {
	if _, err := Form(sink(t), []string{"dev", "a\nb"}); err == nil || err.Error() != `environments[1]: must be a non-empty single-line name, got "a\nb"` {
		t.Errorf("Form error = %v", err)
	}
}
