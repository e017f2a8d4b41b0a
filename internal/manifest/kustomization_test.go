package manifest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/field"
)

func TestVetKustomization(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // "LINE FIELD: start of the message"
	}{
		{"local entries pass", `resources: [cm.yaml, ../base, ../../requests/dev/a/web]
components: [../comp]
patches: [{path: patch.yaml}, {patch: "- op: add"}]
patchesStrategicMerge:
- patch.yaml
- |-
  apiVersion: v1
  kind: ConfigMap
  metadata: {name: x, annotations: {docs: "https://example.com"}}
configMapGenerator:
- name: c
  files: [key=data.txt, data2.txt]
  envs: [app.env]
  literals: [URL=https://example.com/x]
`, nil},
		{"resources", "resources:\n- ok.yaml\n- https://example.com/cm.yaml\n- github.com/acme/infra//base?ref=v1\n- git@github.com:acme/infra.git\n- /etc/kubernetes\n", []string{
			`3 resources[1]: remote reference "https://example.com/cm.yaml" is not allowed`,
			`4 resources[2]: remote reference "github.com/acme/infra//base?ref=v1" is not allowed`,
			`5 resources[3]: remote reference "git@github.com:acme/infra.git" is not allowed`,
			`6 resources[4]: absolute path "/etc/kubernetes" is not allowed`,
		}},
		{"bases and components", "bases: [git::https://example.com/a]\ncomponents: [ssh://git@example.com/b]\n", []string{
			`1 bases[0]: remote reference`, `2 components[0]: remote reference`,
		}},
		{"more remote forms", "resources: [gitlab.com/a/b, bitbucket.org/a/b, example.com/a/b.git, example.com/_git/b, 'file:///tmp/repo', Example.COM/A.GIT, 'x?version=1']\n", []string{
			"1 resources[0]: remote", "1 resources[1]: remote", "1 resources[2]: remote", "1 resources[3]: remote",
			"1 resources[4]: remote", "1 resources[5]: remote", "1 resources[6]: remote",
		}},
		{"patches", "patches:\n- path: http://example.com/p.yaml\npatchesJson6902:\n- target: {kind: X}\n  path: https://example.com/j.yaml\npatchesStrategicMerge:\n- https://example.com/s.yaml\n", []string{
			"2 patches[0].path: remote", "5 patchesJson6902[0].path: remote", "7 patchesStrategicMerge[0]: remote",
		}},
		{"generators", "configMapGenerator:\n- name: a\n  files: [k=https://example.com/f]\n  envs: [https://example.com/e]\nsecretGenerator:\n- name: b\n  env: https://example.com/s.env\n", []string{
			"3 configMapGenerator[0].files[0]: remote", "4 configMapGenerator[0].envs[0]: remote", "7 secretGenerator[0].env: remote",
		}},
		{"schemas, crds and plugins", "openapi: {path: https://example.com/schema.json}\ncrds: [https://example.com/crd.json]\nconfigurations: [https://example.com/c.yaml]\ntransformers: [https://example.com/t.yaml]\ngenerators: [https://example.com/g.yaml]\nvalidators: [https://example.com/v.yaml]\nreplacements: [{path: https://example.com/r.yaml}]\n", []string{
			"1 openapi.path: remote", "2 crds[0]: remote", "3 configurations[0]: remote", "4 transformers[0]: remote",
			"5 generators[0]: remote", "6 validators[0]: remote", "7 replacements[0].path: remote",
		}},
		{"helm", "helmCharts: [{name: x, repo: https://charts.example.com}]\nhelmGlobals: {chartHome: charts}\n", []string{
			"1 helmCharts: Helm charts are not rendered by gitvend", "2 helmGlobals: Helm charts are not rendered by gitvend",
		}},
		{"field names in any case", "Resources: [https://example.com/a.yaml]\nRESOURCES: [https://example.com/b.yaml]\n", []string{
			"1 Resources[0]: remote", "2 RESOURCES[0]: remote",
		}},
		{"aliases and merge keys", "x: &urls [https://example.com/a.yaml]\nresources: *urls\n<<: {components: [https://example.com/c]}\n", []string{
			"1 resources[0]: remote", "3 components[0]: remote",
		}},
		{"not YAML", "resources: [\n", []string{"1 : invalid YAML: did not find expected node content"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vetKustomization("k/kustomization.yaml", []byte(tt.in))
			var got []string
			for _, e := range field.All(err) {
				if e.File != "k/kustomization.yaml" {
					t.Errorf("error names file %q", e.File)
				}
				got = append(got, strconv.Itoa(e.Line)+" "+e.Field+": "+e.Msg)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("errors:\n%s\nwant %d", strings.Join(got, "\n"), len(tt.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d = %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestVetKustomizationOfARootAsYAML: a root gitvend writes is vetted
// without a YAML parse, with the same result as the parse; anything the
// line reading is not sure of (a remote or absolute path among them) goes
// to the parse, which refuses it with its line.
func TestVetKustomizationOfARootAsYAML(t *testing.T) {
	for _, in := range []string{
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../requests/dev/team-a/web\n- ./base/cm.yaml\n",
		"resources:\n  - ../../requests/dev/team-a/web\n  - ../../requests/dev/team-b/api\n",
		"resources:\n- gitlab.com/acme/infra\n- ../../requests/dev/team-a/web\n",
		"resources:\n- /etc/kubernetes/x\n",
		"resources:\n- ../a/b\ncomponents:\n- ../c/d\n",
		// Paths out of the tree are followed by neither (the build refuses
		// them); a field in another case goes to the parse.
		"resources:\n- ../../../../etc/kubernetes\n- ../../requests/dev/team-a/web\n",
		"Resources:\n- https://example.com/a.yaml\n",
	} {
		fast, fastErr := vetKustomization("k/kustomization.yaml", []byte(in))
		slow, slowErr := vetKustomizationYAML("k/kustomization.yaml", []byte(in))
		if strings.Join(fast, ",") != strings.Join(slow, ",") || fmt.Sprint(fastErr) != fmt.Sprint(slowErr) {
			t.Errorf("%q: %v (%v), as YAML %v (%v)", in, fast, fastErr, slow, slowErr)
		}
	}
	if _, err := vetKustomization("k/kustomization.yaml", []byte("resources:\n- gitlab.com/acme/infra\n")); err == nil {
		t.Error("a remote resource in a root's form was not refused")
	}
}

// TestBuildReachesNoServer builds kustomizations that name a local HTTP
// server in every way kustomize would fetch it: the build fails with the
// file and line, and the server sees no request.
func TestBuildReachesNoServer(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write([]byte(cm("fetched")))
	}))
	defer srv.Close()
	url := srv.URL + "/cm.yaml"
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"resource of the root", map[string]string{
			"env/kustomization.yaml": "resources:\n- cm.yaml\n- " + url + "\n",
			"env/cm.yaml":            cm("local"),
		}, []string{"env/kustomization.yaml:3: resources[1]: remote reference"}},
		{"resource of an included base", map[string]string{
			"env/kustomization.yaml":  "resources:\n- ../base\n",
			"base/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- " + url + "\n",
		}, []string{"base/kustomization.yaml:4: resources[0]: remote reference"}},
		{"component, patch and generator", map[string]string{
			"env/kustomization.yaml": "resources: [cm.yaml]\ncomponents: [" + srv.URL + "/comp]\npatches: [{path: " + url + "}]\nconfigMapGenerator: [{name: g, files: [" + url + "]}]\n",
			"env/cm.yaml":            cm("local"),
		}, []string{"env/kustomization.yaml:2: components[0]: remote", "env/kustomization.yaml:3: patches[0].path: remote", "env/kustomization.yaml:4: configMapGenerator[0].files[0]: remote"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			tree, err := OpenTree(context.Background(), dir, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer tree.Close()
			objs, err := tree.Build("env")
			var got []string
			for _, e := range field.All(err) {
				rel, _ := filepath.Rel(dir, e.File)
				got = append(got, (&field.Error{File: filepath.ToSlash(rel), Line: e.Line, Field: e.Field, Msg: e.Msg}).Error())
			}
			if len(objs) != 0 || len(got) != len(tt.want) {
				t.Fatalf("objects %d, errors %q; want none and %d errors", len(objs), got, len(tt.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d = %q, want %q...", i, got[i], tt.want[i])
				}
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("the server got %d requests", n)
			}
			// Without the vetting beforehand, kustomize itself reads
			// through a file system that refuses the same.
			if _, err := tree.kustomize("env", filepath.Join("env", "kustomization.yaml")); err == nil || !strings.Contains(err.Error(), "remote reference") {
				t.Errorf("kustomize through the tree = %v, want the refusal", err)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("the server got %d requests from kustomize", n)
			}
		})
	}
}

// TestTreeFSRefusesRemoteKustomizations shows the second guard: the file
// system kustomize reads through refuses a kustomization with a remote
// reference, whoever asks for it.
func TestTreeFSRefusesRemoteKustomizations(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"k/kustomization.yaml": "resources:\n- http://127.0.0.1:1/cm.yaml\n",
		"k/other.yaml":         "resources:\n- http://127.0.0.1:1/cm.yaml\n",
	})
	tree, err := OpenTree(context.Background(), dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	fsys := &treeFS{t: tree}
	if _, err := fsys.ReadFile(filepath.Join(dir, "k", "kustomization.yaml")); err == nil || fsys.refusal == nil {
		t.Errorf("read of the kustomization = %v, refusal %v; want both", err, fsys.refusal)
	}
	data, err := fsys.ReadFile(filepath.Join(dir, "k", "other.yaml"))
	if err != nil || !strings.Contains(string(data), "http://") {
		t.Errorf("read of another file = %q, %v", data, err)
	}
	for _, write := range []func() error{
		func() error { return fsys.WriteFile(filepath.Join(dir, "x"), nil) },
		func() error { return fsys.MkdirAll(filepath.Join(dir, "y")) },
		func() error { return fsys.RemoveAll(filepath.Join(dir, "k")) },
	} {
		if err := write(); err == nil {
			t.Error("the tree took a write")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "k")); err != nil {
		t.Error(err)
	}
}

func TestBuildKeepsSources(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"requests/dev/a/web/kustomization.yaml": "resources: [cm.yaml]\n",
		"requests/dev/a/web/cm.yaml":            "# rendered\n" + cm("web"),
		"environments/dev/kustomization.yaml":   "resources:\n- ../../requests/dev/a/web\n- extra.yaml\n",
		"environments/dev/extra.yaml":           cm("extra"),
	})
	tree, err := OpenTree(context.Background(), dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	objs, err := tree.Build("environments/dev")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		rel, _ := filepath.Rel(dir, o.File)
		got = append(got, o.Name+" "+filepath.ToSlash(rel)+":"+strconv.Itoa(o.Line))
	}
	want := []string{"web requests/dev/a/web/cm.yaml:2", "extra environments/dev/extra.yaml:1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
}

// TestBuildRunsNoHelm asks for Helm the ways kustomize knows: the fields
// are refused with their line, and the built-in generator given inline
// does not run.
func TestBuildRunsNoHelm(t *testing.T) {
	tests := map[string]string{
		"helmCharts": "helmCharts:\n- name: x\n  repo: http://127.0.0.1:1/charts\n",
		"generators": "generators:\n- |-\n  apiVersion: builtin\n  kind: HelmChartInflationGenerator\n  metadata: {name: x}\n  name: x\n  repo: http://127.0.0.1:1/charts\n",
	}
	for name, k := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"env/kustomization.yaml": k})
			tree, err := OpenTree(context.Background(), dir, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer tree.Close()
			objs, err := tree.Build("env")
			if len(objs) != 0 || err == nil || !strings.Contains(err.Error(), "elm") {
				t.Errorf("build = %d objects, %v; want Helm refused", len(objs), err)
			}
		})
	}
}
