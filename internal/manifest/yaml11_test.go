package manifest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	sigsyaml "sigs.k8s.io/yaml"
)

// TestYAML11BooleansAsKubectlReadsThem decodes every YAML 1.1 spelling of
// a boolean at a boolean field and expects what kubectl's YAML reader
// (sigs.k8s.io/yaml) makes of the same text.
func TestYAML11BooleansAsKubectlReadsThem(t *testing.T) {
	for _, spelling := range []string{"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "true", "False"} {
		t.Run(spelling, func(t *testing.T) {
			src := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: %s\n", spelling)
			objs, err := Decode("pod.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			js, err := sigsyaml.YAMLToJSON([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var kubectl map[string]any
			if err := json.Unmarshal(js, &kubectl); err != nil {
				t.Fatal(err)
			}
			want, _ := Lookup(kubectl, "spec", "hostNetwork")
			if _, isBool := want.(bool); !isBool {
				t.Fatalf("kubectl reads %q as %T, not a boolean", spelling, want)
			}
			got, _ := Lookup(objs[0].Content, "spec", "hostNetwork")
			if got != want {
				t.Errorf("hostNetwork: %s decodes to %#v, kubectl reads %#v", spelling, got, want)
			}
			if line := objs[0].FieldLine("spec", "hostNetwork"); line != 5 {
				t.Errorf("line of hostNetwork = %d, want 5", line)
			}
		})
	}
}

func TestYAML11BooleansOnlyAtBooleanFields(t *testing.T) {
	src := `apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {privileged: "yes", tier: on}
  annotations:
    readOnly: yes
spec:
  hostPID: "yes"
  hostIPC: !!str on
  hostUsers: 'no'
  shareProcessNamespace: &share yes
  enableServiceLinks: *share
  hostname: yes
  containers:
  - name: app
    image: app:1
    args: [yes, on]
    env: [{name: DEBUG, value: yes}]
    securityContext: {privileged: on, allowPrivilegeEscalation: Off, readOnlyRootFilesystem: NO, runAsNonRoot: Y}
    volumeMounts: [{name: v, mountPath: /v, readOnly: yes}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {privileged: yes, debug: on}
immutable: yes
`
	objs, err := Decode("objs.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		obj  int
		path []string
		want any
	}{
		{0, []string{"metadata", "labels", "privileged"}, "yes"},
		{0, []string{"metadata", "labels", "tier"}, "on"},
		{0, []string{"metadata", "annotations", "readOnly"}, "yes"},
		{0, []string{"spec", "hostPID"}, "yes"},
		{0, []string{"spec", "hostIPC"}, "on"},
		{0, []string{"spec", "hostUsers"}, "no"},
		{0, []string{"spec", "shareProcessNamespace"}, true},
		{0, []string{"spec", "enableServiceLinks"}, true},
		{0, []string{"spec", "hostname"}, "yes"},
		{1, []string{"data", "privileged"}, "yes"},
		{1, []string{"data", "debug"}, "on"},
		{1, []string{"immutable"}, true},
	}
	for _, tt := range tests {
		got, _ := Lookup(objs[tt.obj].Content, tt.path...)
		if got != tt.want {
			t.Errorf("%v = %#v, want %#v", tt.path, got, tt.want)
		}
	}
	containers, _ := Lookup(objs[0].Content, "spec", "containers")
	c := containers.([]any)[0].(map[string]any)
	want := map[string]any{
		"name": "app", "image": "app:1",
		"args":            []any{"yes", "on"},
		"env":             []any{map[string]any{"name": "DEBUG", "value": "yes"}},
		"securityContext": map[string]any{"privileged": true, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": false, "runAsNonRoot": true},
		"volumeMounts":    []any{map[string]any{"name": "v", "mountPath": "/v", "readOnly": true}},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("container (-want +got):\n%s", diff)
	}
}

// TestYAML11BooleansThroughKustomize builds a kustomization, as gitvend
// does for request folders and environment roots, and expects the same
// booleans, with the file and line of the source document.
func TestYAML11BooleansThroughKustomize(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"kustomization.yaml": "resources: [pod.yaml]\nnamespace: team-a\n",
		"pod.yaml": `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostNetwork: yes
  hostPID: "yes"
  containers:
  - name: app
    image: app:1
    securityContext: {privileged: on}
`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree, err := OpenTree(t.Context(), dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	objs, err := tree.Build(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("built %d objects, want 1", len(objs))
	}
	o := objs[0]
	for _, tt := range []struct {
		path []any
		want any
		line int
	}{
		{[]any{"spec", "hostNetwork"}, true, 5},
		{[]any{"spec", "hostPID"}, "yes", 6},
		{[]any{"spec", "containers", 0, "securityContext", "privileged"}, true, 10},
	} {
		var got any = o.Content
		for _, p := range tt.path {
			switch k := p.(type) {
			case string:
				got = got.(map[string]any)[k]
			case int:
				got = got.([]any)[k]
			}
		}
		if got != tt.want {
			t.Errorf("%v = %#v, want %#v", tt.path, got, tt.want)
		}
		if line := o.FieldLine(tt.path...); line != tt.line {
			t.Errorf("line of %v = %d, want %d", tt.path, line, tt.line)
		}
	}
}
