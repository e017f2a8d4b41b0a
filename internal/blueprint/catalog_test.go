package blueprint

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/field"
)

const header = `apiVersion: gitvend.dev/v1alpha1
kind: Blueprint
metadata:
  name: x
spec:
  parameters:
`

const baseResources = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
      - name: app
        image: example.invalid/app:1.0.0
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  key: value
`

const imageParam = `  - name: image
    type: string
    targets:
    - kind: Deployment
      path: spec.template.spec.containers.[name=app].image
`

// folder returns the files of a blueprint "x" with spec as blueprint.yaml
// and a small base; extra files replace or add to them ("" deletes).
func folder(spec string, extra map[string]string) fstest.MapFS {
	files := map[string]string{
		"x/blueprint.yaml":          spec,
		"x/base/kustomization.yaml": "resources:\n- r.yaml\n",
		"x/base/r.yaml":             baseResources,
	}
	for k, v := range extra {
		files[k] = v
	}
	fsys := fstest.MapFS{}
	for k, v := range files {
		switch {
		case strings.HasPrefix(v, "symlink:"):
			fsys[k] = &fstest.MapFile{Data: []byte(strings.TrimPrefix(v, "symlink:")), Mode: fs.ModeSymlink}
		case v != "":
			fsys[k] = &fstest.MapFile{Data: []byte(v)}
		}
	}
	return fsys
}

// component is a component c for folder.
var component = map[string]string{
	"x/components/c/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- s.yaml\n",
	"x/components/c/s.yaml":             "apiVersion: v1\nkind: Service\nmetadata:\n  name: app\nspec:\n  ports:\n  - port: 80\n",
}

// plus returns a copy of m with the entries of extra.
func plus(m map[string]string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// componentParam switches the component c.
const componentParam = `  - name: withService
    type: boolean
    component: c
`

type loadError struct {
	File  string
	Line  int
	Field string
	Msg   string // a part of the message
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []loadError
	}{
		{"unknown top field", folder("apiVersion: gitvend.dev/v1alpha1\nkind: Blueprint\nmetadata: {name: x}\nspex: {}\n", nil), []loadError{
			{"src/x/blueprint.yaml", 4, "spex", "unknown field; allowed: apiVersion, kind, metadata, spec"},
			{"src/x/blueprint.yaml", 1, "spec", "is required"},
		}},
		{"wrong apiVersion and kind", folder("apiVersion: v1\nkind: Thing\nmetadata: {name: x}\nspec: {}\n", nil), []loadError{
			{"src/x/blueprint.yaml", 1, "apiVersion", `must be "gitvend.dev/v1alpha1", got "v1"`},
			{"src/x/blueprint.yaml", 2, "kind", `must be "Blueprint", got "Thing"`},
		}},
		{"name differs from folder", folder("apiVersion: gitvend.dev/v1alpha1\nkind: Blueprint\nmetadata: {name: y}\nspec: {}\n", nil), []loadError{
			{"src/x/blueprint.yaml", 3, "metadata.name", `must equal the folder name "x", got "y"`},
		}},
		{"invalid YAML", folder("spec: [\n", nil), []loadError{
			{"src/x/blueprint.yaml", 1, "", "invalid YAML: did not find expected node content"},
		}},
		{"two documents", folder(header+imageParam+"---\nkind: Other\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "", "must hold exactly one YAML document"},
		}},
		{"empty file", folder("", map[string]string{"x/blueprint.yaml": "\n"}), []loadError{
			{"src/x/blueprint.yaml", 0, "", "file is empty"},
		}},
		{"unknown parameter field", folder(header+imageParam+"    color: red\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].color", "unknown field; allowed: name, title, description, type"},
		}},
		{"every unknown field", folder(header+imageParam+"    color: red\n    size: 3\n"+
			"  - name: n\n    type: string\n    targets:\n    - kind: Deployment\n      path: spec.x\n      paths: y\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].color", "unknown field; allowed: name, title, description, type, required, default, pattern, minLength, maxLength, minimum, maximum, atLeast, options, min, max, targets, component, components"},
			{"src/x/blueprint.yaml", 13, "spec.parameters[0].size", "unknown field; allowed: name, title"},
			{"src/x/blueprint.yaml", 19, "spec.parameters[1].targets[0].paths", "unknown field; allowed: kind, name, path, format"},
		}},
		{"field set twice", folder(header+imageParam+"    type: integer\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].type", "is set twice (first on line 8)"},
		}},
		{"required not a boolean", folder(header+imageParam+"    required: maybe\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].required", `must be true or false, got "maybe"`},
		}},
		{"unknown field and bad name", folder(header+"  - name: Bad\n    type: string\n    colour: red\n    targets: [{kind: Deployment, path: spec.x}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 9, "spec.parameters[0].colour", "unknown field"},
			{"src/x/blueprint.yaml", 7, "spec.parameters[0].name", "must be a lowerCamel identifier"},
		}},
		{"null default", folder(header+imageParam+"    default: ~\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].default", "must not be null; leave the default out instead"},
		}},
		{"default not a scalar", folder(header+imageParam+"    default: [a]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].default", "must be a single value, not a list"},
		}},
		{"bad type", folder(header+"  - name: n\n    type: float\n    targets: [{kind: Deployment, path: spec.replicas}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 8, "spec.parameters[0].type", `must be one of string, integer, boolean, enum, quantity, got "float"`},
		}},
		{"bad name", folder(header+"  - name: Max_Replicas\n    type: integer\n    targets: [{kind: Deployment, path: spec.replicas}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 7, "spec.parameters[0].name", `must be a lowerCamel identifier`},
		}},
		{"atLeast names no integer parameter", folder(header+imageParam+"  - name: n\n    type: integer\n    atLeast: image\n    targets: [{kind: Deployment, path: spec.replicas}]\n"+
			"  - name: m\n    type: integer\n    atLeast: m\n    targets: [{kind: Deployment, path: spec.minReadySeconds}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 14, "spec.parameters[1].atLeast", `must name an integer parameter of this blueprint, got "image"`},
			{"src/x/blueprint.yaml", 18, "spec.parameters[2].atLeast", `must name another parameter, not m itself`},
		}},
		{"declared twice", folder(header+imageParam+imageParam, nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[1].name", `parameter "image" is declared twice`},
		}},
		{"required with default", folder(header+imageParam+"    required: true\n    default: nginx:1.0\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].required", "a required parameter cannot have a default"},
		}},
		{"default out of bounds", folder(header+"  - name: n\n    type: integer\n    minimum: 1\n    maximum: 5\n    default: 9\n    targets: [{kind: Deployment, path: spec.replicas}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 11, "spec.parameters[0].default", "is invalid: must be an integer from 1 to 5, got 9"},
		}},
		{"default with an unknown placeholder", folder(header+imageParam+"    default: '{team}-x'\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].default", "unknown placeholder {team}; allowed: {name}, {namespace}, {environment}, {owner}"},
		}},
		{"bad pattern", folder(header+imageParam+"    pattern: '^(a$'\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].pattern", "is not a valid regular expression"},
		}},
		{"field for another type", folder(header+"  - name: n\n    type: integer\n    pattern: '^1$'\n    targets: [{kind: Deployment, path: spec.replicas}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 9, "spec.parameters[0].pattern", "is only allowed for type string, not integer"},
		}},
		{"minimum above maximum", folder(header+"  - name: n\n    type: integer\n    minimum: 5\n    maximum: 1\n    targets: [{kind: Deployment, path: spec.replicas}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 9, "spec.parameters[0].minimum", "must not exceed maximum (1), got 5"},
		}},
		{"bound not an integer", folder(header+"  - name: n\n    type: integer\n    maximum: lots\n    targets: [{kind: Deployment, path: spec.replicas}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 9, "spec.parameters[0].maximum", `must be a whole number, got "lots"`},
		}},
		{"bad quantity bound", folder(header+"  - name: n\n    type: quantity\n    max: huge\n    targets: [{kind: Deployment, path: spec.replicas}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 9, "spec.parameters[0].max", `must be a quantity such as 500m or 2Gi, got "huge"`},
		}},
		{"enum without options", folder(header+"  - name: n\n    type: enum\n    targets: [{kind: Deployment, path: spec.replicas}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 7, "spec.parameters[0].options", "is required for an enum"},
		}},
		{"enum option twice", folder(header+"  - name: n\n    type: enum\n    options: [a, a]\n    targets: [{kind: Deployment, path: spec.replicas}]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 9, "spec.parameters[0].options[1]", `option "a" is listed twice`},
		}},
		{"sets nothing", folder(header+"  - name: n\n    type: string\n", nil), []loadError{
			{"src/x/blueprint.yaml", 7, "spec.parameters[0]", `parameter "n" sets nothing`},
		}},
		{"target without path", folder(header+"  - name: n\n    type: string\n    targets:\n    - kind: Deployment\n", nil), []loadError{
			{"src/x/blueprint.yaml", 10, "spec.parameters[0].targets[0].path", "is required"},
		}},
		{"target kind not a kind", folder(header+"  - name: n\n    type: string\n    targets:\n    - kind: deployment\n      path: a\n", nil), []loadError{
			{"src/x/blueprint.yaml", 10, "spec.parameters[0].targets[0].kind", `must be a Kubernetes kind such as Deployment, got "deployment"`},
		}},
		{"target path with a wildcard", folder(header+"  - name: n\n    type: string\n    targets:\n    - kind: Deployment\n      path: spec.*.x\n", nil), []loadError{
			{"src/x/blueprint.yaml", 11, "spec.parameters[0].targets[0].path", `element "*" is not allowed`},
		}},
		{"target ends at a list element", folder(header+"  - name: n\n    type: string\n    targets:\n    - kind: Deployment\n      path: spec.template.spec.containers.[name=app]\n", nil), []loadError{
			{"src/x/blueprint.yaml", 11, "spec.parameters[0].targets[0].path", "must end at a scalar field"},
		}},
		{"target matches no kind", folder(header+"  - name: n\n    type: string\n    targets:\n    - kind: Ingress\n      path: spec.rules.0.host\n", nil), []loadError{
			{"src/x/blueprint.yaml", 10, "spec.parameters[0].targets[0]", "matches no object: the base and components have no Ingress; they have ConfigMap app-config, Deployment app"},
		}},
		{"target matches no name", folder(header+"  - name: n\n    type: string\n    targets:\n    - kind: Deployment\n      name: web\n      path: spec.x\n", nil), []loadError{
			{"src/x/blueprint.yaml", 10, "spec.parameters[0].targets[0]", "the base and components have no Deployment named web"},
		}},
		{"target list element missing", folder(header+"  - name: n\n    type: string\n    targets:\n    - kind: Deployment\n      path: spec.template.spec.containers.[name=web].image\n", nil), []loadError{
			{"src/x/blueprint.yaml", 10, "spec.parameters[0].targets[0].path", "does not resolve in Deployment app: spec.template.spec.containers has no element [name=web]"},
		}},
		{"target index out of range", folder(header+"  - name: n\n    type: string\n    targets:\n    - kind: Deployment\n      path: spec.template.spec.containers.3.image\n", nil), []loadError{
			{"src/x/blueprint.yaml", 10, "spec.parameters[0].targets[0].path", "spec.template.spec.containers has no element 3"},
		}},
		{"target at a mapping", folder(header+"  - name: n\n    type: string\n    targets:\n    - kind: Deployment\n      path: spec.template\n", nil), []loadError{
			{"src/x/blueprint.yaml", 10, "spec.parameters[0].targets[0].path", "spec.template is a mapping, not a scalar"},
		}},
		{"target through a scalar", folder(header+"  - name: n\n    type: string\n    targets:\n    - kind: ConfigMap\n      path: data.key.sub\n", nil), []loadError{
			{"src/x/blueprint.yaml", 10, "spec.parameters[0].targets[0].path", "data.key is a scalar, not a mapping"},
		}},
		{"format with an unknown placeholder", folder(header+imageParam+"      format: '{image}'\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].targets[0].format", "unknown placeholder {image}; allowed: {value}, {name}, {namespace}, {environment}, {owner} and {param:<parameter>}"},
		}},
		{"format unclosed", folder(header+imageParam+"      format: 'a{value'\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].targets[0].format", "unclosed '{' at offset 1"},
		}},
		{"format names no parameter", folder(header+imageParam+"      format: '{param:tag}'\n", nil), []loadError{
			{"src/x/blueprint.yaml", 10, "spec.parameters[0].targets[0].format", "{param:tag} names no parameter; parameters: image"},
		}},
		{"component missing", folder(header+"  - name: tls\n    type: boolean\n    component: tls\n"+componentParam, component), []loadError{
			{"src/x/blueprint.yaml", 9, "spec.parameters[0].component", `component "tls" does not exist; components: c`},
		}},
		{"component never switched", folder(header+imageParam, component), []loadError{
			{"src/x/components/c", 0, "", `component "c" is switched on by no parameter`},
		}},
		{"component of a string", folder(header+imageParam+"    component: c\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].component", "is only allowed for type boolean, not string"},
		}},
		{"enum component for an unknown option", folder(header+"  - name: size\n    type: enum\n    options: [s, m]\n    components: {l: c}\n", nil), []loadError{
			{"src/x/blueprint.yaml", 10, "spec.parameters[0].components.l", "unknown field; allowed: s, m"},
		}},
		{"missing blueprint.yaml", folder("", map[string]string{"x/blueprint.yaml": ""}), []loadError{
			{"src/x/blueprint.yaml", 0, "", "is missing"},
		}},
		{"missing base", folder(header+imageParam, map[string]string{"x/base/kustomization.yaml": "", "x/base/r.yaml": ""}), []loadError{
			{"src/x/base", 0, "", "has no kustomization.yaml"},
		}},
		{"component without kustomization", folder(header+imageParam+componentParam, plus(component, map[string]string{"x/components/c/kustomization.yaml": ""})), []loadError{
			{"src/x/components/c", 0, "", "has no kustomization.yaml"},
			{"src/x/blueprint.yaml", 14, "spec.parameters[1].component", `component "c" does not exist; components: none`},
		}},
		{"remote resource", folder(header+imageParam, map[string]string{"x/base/kustomization.yaml": "resources:\n- r.yaml\n- https://github.com/acme/x//base?ref=v1\n"}), []loadError{
			{"src/x/base/kustomization.yaml", 0, "resources[1]", "is not a file or folder of the blueprint"},
		}},
		{"resource outside the blueprint", folder(header+imageParam, map[string]string{"x/base/kustomization.yaml": "resources:\n- ../../y\n"}), []loadError{
			{"src/x/base/kustomization.yaml", 0, "resources[0]", `"../../y" is not a file or folder of the blueprint`},
		}},
		{"parameter title taken by a request field", folder(header+imageParam+"    title: namespace\n", nil), []loadError{
			{"src/x/blueprint.yaml", 12, "spec.parameters[0].title", `"namespace" is used twice as a form label`},
		}},
		{"symbolic link", folder(header+imageParam, map[string]string{"x/base/link.yaml": "symlink:/etc/passwd"}), []loadError{
			{"src/x/base/link.yaml", 0, "", "is a symbolic link"},
		}},
		{"base does not build", folder(header+imageParam+componentParam, plus(component, map[string]string{"x/base/r.yaml": "kind: [\n"})), []loadError{
			{"src/x/base/kustomization.yaml", 0, "", "kustomize build"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(context.Background(), Source{Root: "src", FS: tt.files})
			if err == nil {
				t.Fatal("Load succeeded, want errors")
			}
			var got []loadError
			for _, e := range field.All(err) {
				if !strings.HasPrefix(e.File, "src/x") {
					t.Errorf("error %q does not name a file of the blueprint", e)
				}
				got = append(got, loadError{File: e.File, Line: e.Line, Field: e.Field, Msg: e.Msg})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i := range got {
				if strings.Contains(got[i].Msg, tt.want[i].Msg) {
					got[i].Msg = tt.want[i].Msg
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s\nfull error:\n%v", diff, err)
			}
			if _, getErr := c.Get("x"); getErr == nil || !errors.Is(getErr, field.All(err)[0]) {
				t.Errorf("Get(x) = %v, want the load error", getErr)
			}
		})
	}
}

func TestCatalogOverride(t *testing.T) {
	local := folder(header+imageParam+componentParam, component)
	local["web-service/blueprint.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(header, "name: x", "name: web-service", 1) + imageParam)}
	local["web-service/base/kustomization.yaml"] = &fstest.MapFile{Data: []byte("resources:\n- r.yaml\n")}
	local["web-service/base/r.yaml"] = &fstest.MapFile{Data: []byte(baseResources)}
	c, err := Load(context.Background(), Builtin(), Source{Root: "blueprints", FS: local})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var names []string
	for _, b := range c.List() {
		names = append(names, b.Name+"@"+b.Source)
	}
	want := []string{
		"postgres@builtin/postgres", "preview@builtin/preview", "scheduled-job@builtin/scheduled-job",
		"team-namespace@builtin/team-namespace", "web-service@blueprints/web-service", "x@blueprints/x",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	_, err = c.Get("nope")
	if err == nil || err.Error() != `unknown blueprint "nope"; available: postgres, preview, scheduled-job, team-namespace, web-service, x` {
		t.Errorf("Get(nope) = %v", err)
	}
}

func TestBrokenOverrideHidesBuiltin(t *testing.T) {
	local := fstest.MapFS{"web-service/blueprint.yaml": &fstest.MapFile{Data: []byte("kind: Blueprint\n")}}
	c, err := Load(context.Background(), Builtin(), Source{Root: "blueprints", FS: local})
	if err == nil {
		t.Fatal("Load succeeded, want the broken override reported")
	}
	if _, err := c.Get("web-service"); err == nil || !strings.Contains(err.Error(), "blueprints/web-service/blueprint.yaml") {
		t.Errorf("Get(web-service) = %v, want the load error of the override", err)
	}
	if _, err := c.Get("postgres"); err != nil {
		t.Errorf("Get(postgres) = %v, want the built-in", err)
	}
}

func TestLoadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, Builtin()); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context = %v, want context.Canceled", err)
	}
}
