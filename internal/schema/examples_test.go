package schema_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/internal/schema"
)

// kindSchema maps the kinds of gitvend's own files to their schema.
var kindSchema = map[string]string{request.Kind: schema.Request, "Config": schema.Repo, "ServerConfig": schema.Server}

// schemaOf tells which schema a YAML file follows, from its apiVersion and
// kind; "" for a file that is not one of gitvend's (a manifest).
func schemaOf(t *testing.T, data []byte) string {
	t.Helper()
	var head struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	if head.APIVersion != config.APIVersion {
		return ""
	}
	return kindSchema[head.Kind]
}

// loaders are gitvend's own loaders of the files whose loader needs
// nothing but the file: what the schema accepts they accept too. (The
// server configuration's loader also reads its secrets; config's tests
// load the example with them.)
var loaders = map[string]func([]byte) error{
	schema.Request: func(data []byte) error { _, err := request.Parse(data); return err },
	schema.Repo:    func(data []byte) error { _, err := config.ParseRepo(data); return err },
}

// TestExamplesFollowSchemas validates every gitvend file under examples/
// (and deploy's gitvend.yaml and the kustomize overlay's server
// configuration) against its schema, checks the loader takes
// it too, and that each file under examples/ points editors at its schema
// in its first lines.
func TestExamplesFollowSchemas(t *testing.T) {
	seen := map[string][]string{}
	check := func(rel string, wantComment bool) {
		data, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			t.Fatal(err)
		}
		name := schemaOf(t, data)
		if name == "" {
			return
		}
		seen[name] = append(seen[name], rel)
		if err := validate(t, name, data); err != nil {
			t.Errorf("%s fails the %s schema: %v", rel, name, err)
		}
		if load := loaders[name]; load != nil {
			if err := load(data); err != nil {
				t.Errorf("%s fails gitvend's loader: %v", rel, err)
			}
		}
		if wantComment && !slices.Contains(headComments(data), schema.Comment(name)) {
			t.Errorf("%s lacks the line %q among its leading comments", rel, schema.Comment(name))
		}
	}
	err := filepath.WalkDir(filepath.Join(repoRoot, "examples"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		rel, err := filepath.Rel(repoRoot, p)
		check(filepath.ToSlash(rel), true)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	check("deploy/gitvend.yaml", false)
	check("deploy/kustomize/overlays/example/config.yaml", false)
	for _, name := range schema.Names() {
		if len(seen[name]) == 0 {
			t.Errorf("no example follows the %s schema", name)
		}
	}
	t.Logf("validated %v", seen)

	// Every built-in blueprint has an example request.
	cat, err := blueprint.Load(t.Context(), blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	asked := map[string]bool{}
	for _, rel := range seen[schema.Request] {
		data, _ := os.ReadFile(filepath.Join(repoRoot, rel))
		if r, err := request.Parse(data); err == nil {
			name, _, _ := request.SplitBlueprint(r.Spec.Blueprint)
			asked[name] = true
		}
	}
	for _, bp := range cat.List() {
		if !asked[bp.Name] {
			t.Errorf("no example request under examples/ asks for the built-in blueprint %s", bp.Name)
		}
	}
}

// headComments are the comment lines before a file's first YAML line.
func headComments(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			break
		}
		out = append(out, line)
	}
	return out
}

// TestChartConfigFollowsServerSchema validates the chart's default
// config, completed as its values.yaml says: the chart adds apiVersion and
// kind, and github.appID and repositories are the installer's to fill in.
func TestChartConfigFollowsServerSchema(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "helm", "gitvend", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	if values.Config == nil {
		t.Fatal("values.yaml has no config")
	}
	values.Config["apiVersion"], values.Config["kind"] = config.APIVersion, "ServerConfig"
	checkIncomplete(t, values.Config)
}

// TestKustomizeBaseConfigFollowsServerSchema validates the kustomize
// base's server configuration, completed as its comment says.
func TestKustomizeBaseConfigFollowsServerSchema(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "kustomize", "base", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	checkIncomplete(t, cfg)
}

// checkIncomplete validates a server configuration that leaves
// github.appID and repositories to the installer: refused as it is,
// accepted once they are filled in.
func checkIncomplete(t *testing.T, cfg map[string]any) {
	t.Helper()
	github, _ := cfg["github"].(map[string]any)
	if github == nil {
		github = map[string]any{}
		cfg["github"] = github
	}
	if err := validate(t, schema.Server, mustYAML(t, cfg)); err == nil {
		t.Error("the schema accepts the config without github.appID and repositories, which gitvend refuses")
	}
	github["appID"] = 12345
	cfg["repositories"] = []any{map[string]any{"name": "acme/infra"}}
	if err := validate(t, schema.Server, mustYAML(t, cfg)); err != nil {
		t.Errorf("the config fails the server schema: %v", err)
	}
}

func mustYAML(t *testing.T, v any) []byte {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestReadmeSnippetsFollowSchemas validates the README's YAML blocks:
// whole Request, gitvend.yaml and server configuration documents against
// their schemas, and excerpts of gitvend.yaml (blocks whose top-level keys
// are gitvend.yaml's) against the repo schema once completed with
// apiVersion, kind and, when they show none, an environment.
func TestReadmeSnippetsFollowSchemas(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	repoKeys := topLevelKeys(t, schema.Repo)
	checked := 0
	for _, b := range yamlBlocks(string(data)) {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(b.text), &doc); err != nil {
			t.Errorf("README.md:%d: a YAML block that does not parse: %v", b.line, err)
			continue
		}
		name := schemaOf(t, []byte(b.text))
		text := []byte(b.text)
		if name == "" {
			if _, hasKind := doc["kind"]; hasKind || !anyKey(doc, repoKeys) {
				continue // some other file
			}
			name = schema.Repo
			doc["apiVersion"], doc["kind"] = config.APIVersion, "Config"
			if _, ok := doc["environments"]; !ok {
				doc["environments"] = []any{map[string]any{"name": "dev"}}
			}
			text = mustYAML(t, doc)
		}
		checked++
		if err := validate(t, name, text); err != nil {
			t.Errorf("README.md:%d: the block fails the %s schema: %v", b.line, name, err)
		}
	}
	if checked < 5 {
		t.Errorf("validated %d README blocks; the README shows more gitvend files than that", checked)
	}
}

type block struct {
	line int
	text string
}

// yamlBlocks are the README's fenced yaml blocks, with the line each
// starts on.
func yamlBlocks(md string) []block {
	var out []block
	var cur *block
	for i, line := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```yaml":
			cur = &block{line: i + 2}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	return out
}

func topLevelKeys(t *testing.T, name string) []string {
	t.Helper()
	var root struct {
		Properties map[string]any `yaml:"properties"`
	}
	data, err := schema.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range root.Properties {
		keys = append(keys, k)
	}
	return keys
}

func anyKey(doc map[string]any, keys []string) bool {
	for k := range doc {
		if slices.Contains(keys, k) {
			return true
		}
	}
	return false
}
