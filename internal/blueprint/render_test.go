package blueprint

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/manifest"
)

// builtin loads the built-in catalog, failing the test on any problem.
func builtin(t testing.TB) *Catalog {
	t.Helper()
	c, err := Load(context.Background(), Builtin())
	if err != nil {
		t.Fatalf("load built-in blueprints: %v", err)
	}
	return c
}

// examples are the fixed inputs the golden files are rendered from.
var examples = map[string]Input{
	"team-namespace": {Name: "payments", Namespace: "team-payments", Environment: "dev", Owner: "payments"},
	"web-service": {Name: "payments-api", Namespace: "team-payments", Environment: "dev", Owner: "payments",
		Parameters: map[string]any{"image": "ghcr.io/acme/payments:1.4.2", "minReplicas": 3, "ingress": "true"}},
	"scheduled-job": {Name: "nightly-report", Namespace: "team-payments", Environment: "prod", Owner: "payments",
		Parameters: map[string]any{"image": "ghcr.io/acme/report:2.0.1", "schedule": "30 2 * * 1-5"}},
	"postgres": {Name: "payments-db", Namespace: "team-payments", Environment: "prod", Owner: "payments",
		Parameters: map[string]any{"storage": "20Gi"}},
	"preview": {Name: "pr-142", Namespace: "team-payments", Environment: "dev", Owner: "payments",
		Parameters: map[string]any{"image": "ghcr.io/acme/web:pr-142", "ttl": "168h"}},
}

// golden compares got with testdata/golden/name, rewriting it with UPDATE=1.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if os.Getenv("UPDATE") == "1" {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read golden file (regenerate with UPDATE=1): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from a fresh render (-want +got); regenerate with UPDATE=1 if intended:\n%s", file, cmp.Diff(string(want), string(got)))
	}
}

func TestRenderGolden(t *testing.T) {
	c := builtin(t)
	if got := len(c.List()); got != len(examples) {
		t.Fatalf("catalog holds %d blueprints, examples cover %d", got, len(examples))
	}
	for _, bp := range c.List() {
		t.Run(bp.Name, func(t *testing.T) {
			in, ok := examples[bp.Name]
			if !ok {
				t.Fatalf("no example input for %s", bp.Name)
			}
			out, err := bp.Render(context.Background(), in)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			data, err := manifest.EncodeAll(out.Objects)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, bp.Name+".yaml", data)
		})
	}
}

// render renders bp for in and encodes the objects.
func render(t testing.TB, bp *Blueprint, in Input) (Output, []byte) {
	t.Helper()
	out, err := bp.Render(context.Background(), in)
	if err != nil {
		t.Fatalf("render %s: %v", bp.Name, err)
	}
	data, err := manifest.EncodeAll(out.Objects)
	if err != nil {
		t.Fatal(err)
	}
	return out, data
}

func TestRenderDeterministic(t *testing.T) {
	c := builtin(t)
	for _, bp := range c.List() {
		t.Run(bp.Name, func(t *testing.T) {
			_, first := render(t, bp, examples[bp.Name])
			for i := 0; i < 10; i++ {
				// A fresh map each time: Go randomizes iteration order.
				in := examples[bp.Name]
				params := map[string]any{}
				for k, v := range in.Parameters {
					params[k] = v
				}
				in.Parameters = params
				if _, again := render(t, bp, in); !bytes.Equal(first, again) {
					t.Fatalf("render %d differs:\n%s", i, cmp.Diff(string(first), string(again)))
				}
			}
			// A catalog loaded again renders the same bytes.
			bp2, err := builtin(t).Get(bp.Name)
			if err != nil {
				t.Fatal(err)
			}
			if _, again := render(t, bp2, examples[bp.Name]); !bytes.Equal(first, again) {
				t.Fatalf("render after reloading differs:\n%s", cmp.Diff(string(first), string(again)))
			}
		})
	}
}

func TestRenderConcurrent(t *testing.T) {
	bp, err := builtin(t).Get("web-service")
	if err != nil {
		t.Fatal(err)
	}
	_, want := render(t, bp, examples["web-service"])
	results := make(chan []byte, 8)
	for range 8 {
		go func() {
			out, err := bp.Render(context.Background(), examples["web-service"])
			if err != nil {
				results <- []byte(err.Error())
				return
			}
			data, _ := manifest.EncodeAll(out.Objects)
			results <- data
		}()
	}
	for range 8 {
		if got := <-results; !bytes.Equal(got, want) {
			t.Fatalf("concurrent render differs:\n%s", cmp.Diff(string(want), string(got)))
		}
	}
}

func TestRenderParametersAndOrder(t *testing.T) {
	bp, err := builtin(t).Get("web-service")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := render(t, bp, examples["web-service"])
	wantParams := map[string]any{
		"image": "ghcr.io/acme/payments:1.4.2", "port": int64(8080), "healthPath": "/healthz",
		"cpu": "100m", "memory": "128Mi", "minReplicas": int64(3), "maxReplicas": int64(5),
		"ingress": true, "host": "payments-api.dev.apps.example.com",
	}
	if diff := cmp.Diff(wantParams, out.Parameters); diff != "" {
		t.Errorf("Parameters (-want +got):\n%s", diff)
	}
	var ids []string
	for _, o := range out.Objects {
		ids = append(ids, o.ID.String())
	}
	wantIDs := []string{
		"Deployment/team-payments/payments-api", "HorizontalPodAutoscaler/team-payments/payments-api",
		"Ingress/team-payments/payments-api", "PodDisruptionBudget/team-payments/payments-api",
		"Service/team-payments/payments-api",
	}
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	tn, err := builtin(t).Get("team-namespace")
	if err != nil {
		t.Fatal(err)
	}
	out, _ = render(t, tn, examples["team-namespace"])
	if out.Objects[0].Kind != "Namespace" || out.Objects[0].Name != "team-payments" || out.Objects[0].Namespace != "" {
		t.Errorf("first object = %s, want the Namespace team-payments", out.Objects[0].ID)
	}
}

func TestRenderComponents(t *testing.T) {
	ws, err := builtin(t).Get("web-service")
	if err != nil {
		t.Fatal(err)
	}
	b := sink(t)
	tests := []struct {
		name string
		bp   *Blueprint
		in   Input
		want []string
	}{
		{"boolean off", ws, Input{Name: "web", Namespace: "ns", Environment: "dev", Owner: "o", Parameters: map[string]any{"image": "nginx:1.27", "ingress": false}},
			[]string{"Deployment/ns/web", "HorizontalPodAutoscaler/ns/web", "PodDisruptionBudget/ns/web", "Service/ns/web"}},
		{"boolean on from a string", ws, Input{Name: "web", Namespace: "ns", Environment: "dev", Owner: "o", Parameters: map[string]any{"image": "nginx:1.27", "ingress": "true"}},
			[]string{"Deployment/ns/web", "HorizontalPodAutoscaler/ns/web", "Ingress/ns/web", "PodDisruptionBudget/ns/web", "Service/ns/web"}},
		{"enum option without a component", b, with(nil),
			[]string{"ConfigMap/team-a/demo", "Deployment/team-a/demo"}},
		{"enum option with a component, boolean component", b, with(map[string]any{"tier": "large", "extra": true}),
			[]string{"ConfigMap/team-a/demo", "ConfigMap/team-a/demo-large", "Deployment/team-a/demo", "Service/team-a/demo-extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := render(t, tt.bp, tt.in)
			var got []string
			for _, o := range out.Objects {
				got = append(got, o.ID.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
	out, _ := render(t, b, with(map[string]any{"tier": "large"}))
	if got, _ := manifest.Lookup(out.Objects[1].Content, "data", "tier"); got != "large" {
		t.Errorf("a target in a component: data.tier = %v, want large", got)
	}
}

func TestRenderTypedValues(t *testing.T) {
	b := sink(t)
	out, _ := render(t, b, with(map[string]any{"count": "3", "automount": "true", "size": 128 << 20, "text": "007", "arg": "run"}))
	cm, dep := out.Objects[0].Content, out.Objects[1].Content
	checks := []struct {
		obj  map[string]any
		path []string
		want any
	}{
		{dep, []string{"spec", "replicas"}, int64(3)},
		{dep, []string{"spec", "template", "spec", "automountServiceAccountToken"}, true},
		{cm, []string{"data", "text"}, "007"},
		{cm, []string{"data", "greeting"}, "hello alpha, demo in team-a/dev x3 007"},
		{cm, []string{"metadata", "annotations", "example.com/text"}, "007"},
	}
	for _, c := range checks {
		got, _ := manifest.Lookup(c.obj, c.path...)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", c.path, diff)
		}
	}
	containers, _ := manifest.Lookup(dep, "spec", "template", "spec", "containers")
	want := []any{map[string]any{
		"name": "app", "image": "example.invalid/app:1.0.0", "args": []any{"run"},
		"envFrom":   []any{map[string]any{"configMapRef": map[string]any{"name": "demo"}}},
		"resources": map[string]any{"requests": map[string]any{"memory": "134217728"}},
	}}
	if diff := cmp.Diff(want, containers); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
}

func TestRenderReferencesFollowRename(t *testing.T) {
	for _, bp := range builtin(t).List() {
		t.Run(bp.Name, func(t *testing.T) {
			out, _ := render(t, bp, examples[bp.Name])
			in := examples[bp.Name]
			have := map[string]bool{}
			for _, o := range out.Objects {
				have[o.Kind+"/"+o.Name] = true
				if o.Kind != "Namespace" && o.Name != in.Name && !strings.HasPrefix(o.Name, in.Name+"-") {
					t.Errorf("%s is not named after the request %q", o.ID, in.Name)
				}
				if o.Kind != "Namespace" && o.Namespace != in.Namespace {
					t.Errorf("%s is not in namespace %s", o.ID, in.Namespace)
				}
			}
			ref := func(o manifest.Object, kind string, path ...string) {
				v, ok := manifest.Lookup(o.Content, path...)
				if !ok {
					t.Errorf("%s has no %s", o.ID, strings.Join(path, "."))
					return
				}
				if !have[kind+"/"+v.(string)] {
					t.Errorf("%s: %s = %v names no rendered %s", o.ID, strings.Join(path, "."), v, kind)
				}
			}
			selects := func(o manifest.Object, path ...string) {
				v, _ := manifest.Lookup(o.Content, path...)
				sel, _ := v.(map[string]any)
				if sel[LabelName] != in.Name {
					t.Errorf("%s: selector %s = %v, want %s=%s", o.ID, strings.Join(path, "."), sel, LabelName, in.Name)
				}
			}
			for _, o := range out.Objects {
				switch o.Kind {
				case "HorizontalPodAutoscaler":
					ref(o, "Deployment", "spec", "scaleTargetRef", "name")
				case "RoleBinding":
					ref(o, "Role", "roleRef", "name")
				case "StatefulSet":
					ref(o, "Service", "spec", "serviceName")
					selects(o, "spec", "selector", "matchLabels")
					selects(o, "spec", "template", "metadata", "labels")
				case "Deployment":
					selects(o, "spec", "selector", "matchLabels")
					selects(o, "spec", "template", "metadata", "labels")
				case "Service":
					selects(o, "spec", "selector")
				case "PodDisruptionBudget":
					selects(o, "spec", "selector", "matchLabels")
				case "Ingress":
					rules, _ := manifest.Lookup(o.Content, "spec", "rules")
					for _, r := range rules.([]any) {
						for _, p := range r.(map[string]any)["http"].(map[string]any)["paths"].([]any) {
							name, _ := manifest.Lookup(p.(map[string]any), "backend", "service", "name")
							if !have["Service/"+name.(string)] {
								t.Errorf("%s: backend service %v is not rendered", o.ID, name)
							}
						}
					}
				}
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	c := builtin(t)
	pg, err := c.Get("postgres")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 55)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		in   Input
		want string
	}{
		{"renamed object name too long", context.Background(),
			Input{Name: long, Namespace: "ns", Environment: "dev", Owner: "o", Parameters: map[string]any{"credentialsSecret": "db"}},
			`metadata.name: "` + long + `" is too long for blueprint postgres: its Service "app-headless" would be named "` + long + `-headless" (64 characters; at most 63)`},
		{"bad request fields", context.Background(),
			Input{Name: "db", Namespace: "Team A", Environment: "dev", Owner: ""},
			"spec.namespace: must be a DNS-1123 label: at most 63 lower case letters, digits and '-', starting and ending with a letter or digit; got \"Team A\"\nspec.owner: is required"},
		{"cancelled", cancelled, examples["postgres"], "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pg.Render(tt.ctx, tt.in)
			if tt.ctx.Err() != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Render error = %v, want context.Canceled", err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Render error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
