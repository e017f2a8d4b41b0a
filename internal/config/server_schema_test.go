package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/field"
)

// compileServerSchema compiles the embedded schema.
func compileServerSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ServerSchema()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("server.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("server.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

// yamlToJSONValue turns a YAML document into the values encoding/json gives.
func yamlToJSONValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestServerSchemaAcceptsExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "server", "gitvend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileServerSchema(t).Validate(yamlToJSONValue(t, data)); err != nil {
		t.Errorf("example fails the schema: %v", err)
	}
	if err := compileServerSchema(t).Validate(yamlToJSONValue(t, []byte(minimal))); err != nil {
		t.Errorf("minimal config fails the schema: %v", err)
	}
}

// TestServerSchemaRejects checks that the schema and the loader refuse the
// same bad files.
func TestServerSchemaRejects(t *testing.T) {
	target := "targets: [{name: dev, repository: acme/infra, environments: [dev], namespaces: ['*']%s}]\n"
	tests := []struct{ name, in string }{
		{"unknown top-level field", minimal + "port: 8080\n"},
		{"unknown nested field", minimal + "queue: {workers: 2, threads: 3}\n"},
		{"wrong apiVersion", strings.Replace(minimal, "v1alpha1", "v1", 1)},
		{"wrong kind", strings.Replace(minimal, "ServerConfig", "Config", 1)},
		{"no repositories", strings.Replace(minimal, "repositories: [{name: acme/infra}]\n", "", 1)},
		{"repository without owner", strings.Replace(minimal, "acme/infra", "infra", 1)},
		{"appID zero", strings.Replace(minimal, "appID: 7", "appID: 0", 1)},
		{"appID a string", strings.Replace(minimal, "appID: 7", "appID: seven", 1)},
		{"apiURL without slash", strings.Replace(minimal, "appID: 7", "appID: 7, apiURL: \"https://ghe.example.com/api/v3\"", 1)},
		{"body limit too big", strings.Replace(minimal, "appID: 7", "appID: 7, maxWebhookBytes: 999999999", 1)},
		{"bad log level", minimal + "log: {level: loud}\n"},
		{"workers zero", minimal + "queue: {workers: 0}\n"},
		{"capacity too big", minimal + "queue: {capacity: 2000000}\n"},
		{"duration without unit", minimal + "resync: {interval: 300}\n"},
		{"negative duration", minimal + "leaderElection: {leaseDuration: -15s}\n"},
		{"zero duration that must be positive", minimal + "resync: {interval: 0s}\n"},
		{"zero drift interval", minimal + fmt.Sprintf(target, ", driftInterval: 0m0.0s")},
		{"target name not a label", minimal + strings.Replace(fmt.Sprintf(target, ""), "name: dev", "name: Dev", 1)},
		{"target without environments", minimal + strings.Replace(fmt.Sprintf(target, ""), "environments: [dev], ", "", 1)},
		{"namespace pattern", minimal + strings.Replace(fmt.Sprintf(target, ""), "'*'", "'*-x'", 1)},
		{"cluster-scoped kind", minimal + fmt.Sprintf(target, ", clusterScopedKinds: [namespace]")},
		{"selfHeal and reportOnly", minimal + fmt.Sprintf(target, ", selfHeal: true, reportOnly: true")},
		{"listen without port", minimal + "listen: localhost\n"},
		{"ops listen without port", minimal + "opsListen: localhost\n"},
		{"bytes in flight too many", strings.Replace(minimal, "appID: 7", "appID: 7, maxWebhookBytesInFlight: 2000000000", 1)},
	}
	schema := compileServerSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := schema.Validate(yamlToJSONValue(t, []byte(tt.in))); err == nil {
				t.Errorf("schema accepts:\n%s", tt.in)
			}
			if _, err := ParseServer([]byte(tt.in), secretEnv()); err == nil {
				t.Errorf("loader accepts:\n%s", tt.in)
			}
		})
	}
}

// TestServerSchemaCoversFields walks the Go structs and the schema side by
// side: every YAML field is in the schema and every schema property is a
// field, so neither can drift from the other.
func TestServerSchemaCoversFields(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(ServerSchema(), &root); err != nil {
		t.Fatal(err)
	}
	defs, _ := root["$defs"].(map[string]any)
	resolve := func(node map[string]any) map[string]any {
		if ref, ok := node["$ref"].(string); ok {
			def, _ := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			return def
		}
		return node
	}
	var walk func(path string, typ reflect.Type, node map[string]any)
	walk = func(path string, typ reflect.Type, node map[string]any) {
		node = resolve(node)
		switch {
		case typ == reflect.TypeFor[time.Duration]():
			if node["pattern"] == nil {
				t.Errorf("%s: a duration must have the duration pattern", path)
			}
		case typ.Kind() == reflect.Slice:
			if node["type"] != "array" {
				t.Errorf("%s: schema type %v, want array", path, node["type"])
			}
			items, _ := node["items"].(map[string]any)
			walk(path+"[]", typ.Elem(), items)
		case typ.Kind() == reflect.Struct:
			if node["additionalProperties"] != false {
				t.Errorf("%s: schema must set additionalProperties: false", path)
			}
			props, _ := node["properties"].(map[string]any)
			var names []string
			yamlFields(typ, func(name string, _ reflect.StructField) { names = append(names, name) })
			for name := range props {
				if !slices.Contains(names, name) {
					t.Errorf("%s: schema property %q is no field of %s", path, name, typ)
				}
			}
			yamlFields(typ, func(name string, f reflect.StructField) {
				p := field.Join(path, name)
				child, ok := props[name].(map[string]any)
				if !ok {
					t.Errorf("%s: field of %s is missing from the schema", p, typ)
					return
				}
				walk(p, f.Type, child)
			})
		}
	}
	walk("", reflect.TypeFor[Server](), root)
}

func TestServerRedactsSecrets(t *testing.T) {
	s, err := ParseServer([]byte(minimal), secretEnv())
	if err != nil {
		t.Fatal(err)
	}
	var outputs []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		outputs = append(outputs, fmt.Sprintf(format, s), fmt.Sprintf(format, *s), fmt.Sprintf(format, s.GitHub), fmt.Sprintf(format, s.GitHub.WebhookSecret))
	}
	j, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(s.GitHub)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "config", s, "github", s.GitHub)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "config", s, "secret", s.GitHub.PrivateKey)
	outputs = append(outputs, s.String(), string(j), string(y), logs.String())
	for _, out := range outputs {
		for _, secret := range []string{testWebhookSecret, "MIIBOgIBAAJBAKj34", fmt.Sprintf("%x", testWebhookSecret)} {
			if strings.Contains(out, secret) {
				t.Errorf("output shows a secret:\n%s", out)
			}
		}
	}
	if !strings.Contains(logs.String(), `"privateKey":"[redacted]"`) || !strings.Contains(logs.String(), `"interval":"5m0s"`) {
		t.Errorf("log lacks the redacted key or readable durations:\n%s", logs.String())
	}
	if d := cmp.Diff("[redacted]", fmt.Sprint(s.GitHub.PrivateKey)); d != "" {
		t.Error(d)
	}
}
