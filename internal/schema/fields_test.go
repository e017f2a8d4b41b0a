package schema_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/schema"
)

// goTypes are the types that decode the file each schema describes.
var goTypes = map[string]reflect.Type{
	schema.Request: reflect.TypeFor[request.Request](),
	schema.Repo:    reflect.TypeFor[config.Repo](),
	schema.Server:  reflect.TypeFor[config.Server](),
}

// fieldDocs reads the doc comments of the struct fields of the package at
// pkgPath from its source: type name → field name → comment.
func fieldDocs(t *testing.T, pkgPath string) map[string]map[string]string {
	t.Helper()
	rel, ok := strings.CutPrefix(pkgPath, "github.com/gitvend/gitvend/")
	if !ok {
		t.Fatalf("%s is not a package of this module", pkgPath)
	}
	dir := filepath.Join(repoRoot, filepath.FromSlash(rel))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	fset := token.NewFileSet()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return false
			}
			docs := map[string]string{}
			for _, fl := range st.Fields.List {
				doc := strings.TrimSpace(fl.Doc.Text() + fl.Comment.Text())
				for _, name := range fl.Names {
					docs[name.Name] = doc
				}
			}
			out[ts.Name.Name] = docs
			return false
		})
	}
	return out
}

// yamlName is the YAML key of a struct field, or "" for none.
func yamlName(f reflect.StructField) string {
	name := strings.Split(f.Tag.Get("yaml"), ",")[0]
	if name == "-" {
		return ""
	}
	return name
}

// TestSchemasFollowGoTypes walks each schema beside the Go types that
// decode its file: every YAML field is a property and every property a
// field, objects refuse unknown properties, the JSON types match the Go
// kinds, and every property a doc comment explains has a description (in
// the request and repo schemas every property but a constant has one).
func TestSchemasFollowGoTypes(t *testing.T) {
	for _, name := range schema.Names() {
		t.Run(name, func(t *testing.T) {
			data, err := schema.Get(name)
			if err != nil {
				t.Fatal(err)
			}
			var root map[string]any
			if err := json.Unmarshal(data, &root); err != nil {
				t.Fatal(err)
			}
			if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
				t.Errorf("$schema is %v, want draft 2020-12", root["$schema"])
			}
			if root["$id"] != schema.URL(name) {
				t.Errorf("$id is %v, want %s", root["$id"], schema.URL(name))
			}
			defs, _ := root["$defs"].(map[string]any)
			resolve := func(node map[string]any) map[string]any {
				if ref, ok := node["$ref"].(string); ok {
					def, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
					if !ok {
						t.Errorf("$ref %s names no definition", ref)
					}
					return def
				}
				return node
			}
			docs := map[string]map[string]map[string]string{}
			strict := name != schema.Server
			var walk func(path string, typ reflect.Type, node map[string]any)
			walk = func(path string, typ reflect.Type, node map[string]any) {
				if node == nil {
					t.Errorf("%s: no schema", path)
					return
				}
				node = resolve(node)
				if typ.Kind() == reflect.Pointer {
					typ = typ.Elem()
				}
				want := map[reflect.Kind]string{reflect.Bool: "boolean", reflect.String: "string",
					reflect.Int: "integer", reflect.Int64: "integer", reflect.Int32: "integer",
					reflect.Float64: "number", reflect.Slice: "array", reflect.Map: "object", reflect.Struct: "object"}[typ.Kind()]
				switch {
				case typ == reflect.TypeFor[time.Duration]():
					if node["pattern"] == nil {
						t.Errorf("%s: a duration must have the duration pattern", path)
					}
					return
				case typ.Kind() == reflect.Interface:
					return
				case want == "":
					t.Errorf("%s: no JSON type for Go kind %s", path, typ.Kind())
					return
				}
				if got := jsonType(node); got != want {
					t.Errorf("%s: schema type %q, Go type %s wants %q", path, got, typ, want)
				}
				switch typ.Kind() {
				case reflect.Slice:
					items, _ := node["items"].(map[string]any)
					walk(path+"[]", typ.Elem(), items)
				case reflect.Map:
					if typ.Elem().Kind() == reflect.Struct {
						values, _ := node["additionalProperties"].(map[string]any)
						walk(path+".*", typ.Elem(), values)
					}
				case reflect.Struct:
					if node["additionalProperties"] != false {
						t.Errorf("%s: schema must set additionalProperties: false", path)
					}
					props, _ := node["properties"].(map[string]any)
					var names []string
					for i := range typ.NumField() {
						if n := yamlName(typ.Field(i)); n != "" {
							names = append(names, n)
						}
					}
					for prop := range props {
						if !slices.Contains(names, prop) {
							t.Errorf("%s: schema property %q is no field of %s", path, prop, typ)
						}
					}
					for _, req := range stringList(node["required"]) {
						if !slices.Contains(names, req) {
							t.Errorf("%s: required %q is no field of %s", path, req, typ)
						}
					}
					if docs[typ.PkgPath()] == nil {
						docs[typ.PkgPath()] = fieldDocs(t, typ.PkgPath())
					}
					for i := range typ.NumField() {
						f := typ.Field(i)
						n := yamlName(f)
						if n == "" {
							continue
						}
						p := strings.TrimPrefix(path+"."+n, ".")
						child, ok := props[n].(map[string]any)
						if !ok {
							t.Errorf("%s: field %s of %s is missing from the schema", p, f.Name, typ)
							continue
						}
						described := child["description"] != nil || resolve(child)["description"] != nil
						documented := docs[typ.PkgPath()][typ.Name()][f.Name] != ""
						if !described && (documented || (strict && child["const"] == nil)) {
							t.Errorf("%s: no description (the field's doc comment: %q)", p, docs[typ.PkgPath()][typ.Name()][f.Name])
						}
						walk(p, f.Type, child)
					}
				}
			}
			walk("", goTypes[name], root)
		})
	}
}

// jsonType is the JSON type a schema node allows: its type, or the type
// of its constant or of all its enum values.
func jsonType(node map[string]any) string {
	if s, ok := node["type"].(string); ok {
		return s
	}
	values, _ := node["enum"].([]any)
	if c, ok := node["const"]; ok {
		values = append(values, c)
	}
	if alts, ok := node["anyOf"].([]any); ok {
		for _, a := range alts {
			m, _ := a.(map[string]any)
			if c, ok := m["const"]; ok {
				values = append(values, c)
			}
		}
	}
	kind := ""
	for _, v := range values {
		k := map[bool]string{true: "string", false: "other"}[reflect.TypeOf(v).Kind() == reflect.String]
		if kind != "" && kind != k {
			return "mixed"
		}
		kind = k
	}
	return kind
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, s := range list {
		str, _ := s.(string)
		out = append(out, str)
	}
	return out
}
