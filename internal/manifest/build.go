package manifest

import (
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitvend/gitvend/internal/field"
)

// originAnnotation is where kustomize records the file a resource came from.
const originAnnotation = "config.kubernetes.io/origin"

// IsKustomization tells whether dir on fsys holds a kustomization file.
func IsKustomization(fsys filesys.FileSystem, dir string) bool {
	return kustomizationFile(fsys, dir) != ""
}

func kustomizationFile(fsys filesys.FileSystem, dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if fsys.Exists(p) && !fsys.IsDir(p) {
			return p
		}
	}
	return ""
}

// Build runs kustomize on the kustomization in dir and returns the objects it
// produces, in kustomize's order. Each object keeps the file (relative to
// fsys's working paths, as given in dir) and line of the document it came
// from, so that findings point at what people edit. Plugins and Helm charts
// are not run.
func Build(fsys filesys.FileSystem, dir string) ([]Object, error) {
	root := kustomizationFile(fsys, dir)
	if root == "" {
		return nil, fmt.Errorf("build %s: no kustomization.yaml in the directory", dir)
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	opts.PluginConfig = types.DisabledPluginConfig()
	k := krusty.MakeKustomizer(opts)
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", dir, err)
	}
	rm, err := k.Run(originFS{FileSystem: fsys, root: absRoot}, dir)
	if err != nil {
		return nil, &field.Error{File: root, Msg: "kustomize build failed: " + err.Error()}
	}
	sources := map[string][]Object{}
	objs := make([]Object, 0, rm.Size())
	for _, r := range rm.Resources() {
		ann := r.GetAnnotations()
		origin := ann[originAnnotation]
		if origin != "" {
			delete(ann, originAnnotation)
			if err := r.SetAnnotations(ann); err != nil {
				return nil, fmt.Errorf("build %s: %w", dir, err)
			}
		}
		retagKYAML11Bools(r.YNode())
		m, err := r.Map()
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", dir, err)
		}
		content, ok := normalize(m).(map[string]any)
		if !ok {
			return nil, fmt.Errorf("build %s: resource %s is not a mapping", dir, r.CurId())
		}
		o := Object{Content: content, File: root}
		o.APIVersion, _ = content["apiVersion"].(string)
		o.Kind, _ = content["kind"].(string)
		o.Name = r.GetName()
		o.Namespace = r.GetNamespace()
		locate(fsys, dir, origin, &o, sources)
		objs = append(objs, o)
	}
	return objs, nil
}

// locate points o at the document it was read from, when kustomize said.
func locate(fsys filesys.FileSystem, dir, origin string, o *Object, cache map[string][]Object) {
	var ref struct {
		Path string `yaml:"path"`
		Repo string `yaml:"repo"`
	}
	if origin == "" || yaml.Unmarshal([]byte(origin), &ref) != nil || ref.Path == "" || ref.Repo != "" {
		return
	}
	file := filepath.Join(dir, ref.Path)
	docs, ok := cache[file]
	if !ok {
		data, err := fsys.ReadFile(file)
		if err == nil {
			docs, _ = Decode(file, data)
		}
		cache[file] = docs
	}
	o.File = file
	// Prefer the document of the same kind and name; name prefixes and
	// suffixes added by kustomize still contain the original name.
	var exact, partial, sameKind []Object
	for _, d := range docs {
		switch {
		case d.Kind != o.Kind:
			continue
		case d.Name == o.Name:
			exact = append(exact, d)
		case d.Name != "" && strings.Contains(o.Name, d.Name):
			partial = append(partial, d)
		}
		sameKind = append(sameKind, d)
	}
	for _, c := range [][]Object{exact, partial, sameKind} {
		if len(c) == 1 {
			o.Line, o.node = c[0].Line, c[0].node
			return
		}
	}
	if len(docs) > 0 {
		o.Line = 1
	}
}

// normalize turns the values kyaml returns into the JSON-compatible types
// Decode gives.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	case int:
		return int64(t)
	case int32:
		return int64(t)
	case uint64:
		return int64(t)
	case float32:
		return float64(t)
	}
	return v
}

// originFS serves the root kustomization with origin annotations switched
// on, and everything else from the wrapped file system.
type originFS struct {
	filesys.FileSystem
	root string
}

// ReadFile implements filesys.FileSystem.
func (f originFS) ReadFile(path string) ([]byte, error) {
	data, err := f.FileSystem.ReadFile(path)
	if err != nil {
		return data, err
	}
	if abs, absErr := filepath.Abs(path); absErr != nil || abs != f.root {
		return data, nil
	}
	var k map[string]any
	if err := yaml.Unmarshal(data, &k); err != nil || k == nil {
		return data, nil //nolint:nilerr // kustomize reports the syntax error itself
	}
	meta, _ := k["buildMetadata"].([]any)
	for _, m := range meta {
		if m == types.OriginAnnotations {
			return data, nil
		}
	}
	k["buildMetadata"] = append(meta, types.OriginAnnotations)
	return yaml.Marshal(k)
}
