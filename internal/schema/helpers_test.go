package schema_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/schema"
)

// repoRoot is the repository's top folder.
var repoRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}()

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

// compile returns the compiled schema called name. The schemas are
// registered under their $id, so nothing is fetched.
func compile(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	compileOnce.Do(func() {
		compiled = map[string]*jsonschema.Schema{}
		c := jsonschema.NewCompiler()
		for _, n := range schema.Names() {
			data, err := schema.Get(n)
			if err != nil {
				compileErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				compileErr = err
				return
			}
			if err := c.AddResource(schema.URL(n), doc); err != nil {
				compileErr = err
				return
			}
		}
		for _, n := range schema.Names() {
			s, err := c.Compile(schema.URL(n))
			if err != nil {
				compileErr = err
				return
			}
			compiled[n] = s
		}
	})
	if compileErr != nil {
		t.Fatalf("compile schemas: %v", compileErr)
	}
	return compiled[name]
}

// jsonValue turns a YAML document into the values the validator takes.
func jsonValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, data)
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

// validate checks a YAML document against the schema called name.
func validate(t *testing.T, name string, data []byte) error {
	t.Helper()
	return compile(t, name).Validate(jsonValue(t, data))
}
