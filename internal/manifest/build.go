package manifest

import (
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/gitvend/gitvend/internal/field"
)

// originAnnotation is where kustomize records the file a resource came from.
const originAnnotation = "config.kubernetes.io/origin"

// Build runs kustomize on the kustomization in the folder rel of the tree
// (slash-separated, relative to it) and returns the objects it produces,
// in kustomize's order. Each object keeps the file (named as Path names
// it) and line of the document it came from, so that findings point at
// what people edit.
//
// Nothing outside the tree is read: every kustomization the build reads is
// first vetted for remote references (URLs, Git addresses) and Helm
// charts, which are refused with the file and line, before kustomize
// runs; kustomize reads files only through the tree, with its root-only
// load restriction, and no plugin runs. The tree's limits bound the build.
func (t *Tree) Build(rel string) ([]Object, error) {
	rel = filepath.Clean(filepath.FromSlash(rel))
	res, fi, err := t.resolve(rel)
	if err != nil {
		return nil, err
	}
	if fi == nil || !fi.IsDir() {
		return nil, &field.Error{File: t.Path(rel), Msg: "no such folder"}
	}
	kfile := t.kustomizationFile(res)
	if kfile == "" {
		return nil, &field.Error{File: t.Path(rel), Msg: "no kustomization.yaml in the folder"}
	}
	if err := t.vet(res, map[string]bool{}); err != nil {
		return nil, err
	}
	rm, err := t.kustomize(res, kfile)
	if err != nil {
		return nil, err
	}
	if err := t.countObjects(kfile, rm.Size()); err != nil {
		return nil, err
	}
	dir := t.Path(rel)
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
		o := Object{Content: content, File: t.Path(kfile)}
		o.APIVersion, _ = content["apiVersion"].(string)
		o.Kind, _ = content["kind"].(string)
		o.Name = r.GetName()
		o.Namespace = r.GetNamespace()
		t.locate(res, origin, &o, sources)
		objs = append(objs, o)
	}
	return objs, nil
}

// kustomize runs kustomize on the folder res with its kustomization
// kfile, reading through the tree only.
func (t *Tree) kustomize(res, kfile string) (resmap.ResMap, error) {
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	opts.PluginConfig = types.DisabledPluginConfig()
	fsys := &treeFS{t: t, root: filepath.Join(t.abs, kfile)}
	rm, err := krusty.MakeKustomizer(opts).Run(fsys, filepath.Join(t.abs, res))
	if err != nil {
		if stopped := t.Err(); stopped != nil {
			return nil, stopped
		}
		if fsys.refusal != nil {
			return nil, fsys.refusal
		}
		return nil, &field.Error{File: t.Path(kfile), Msg: "kustomize build failed: " + err.Error()}
	}
	return rm, nil
}

// locate points o at the document it was read from, when kustomize said;
// dir is the built folder, relative to the tree.
func (t *Tree) locate(dir, origin string, o *Object, cache map[string][]Object) {
	var ref struct {
		Path string `yaml:"path"`
		Repo string `yaml:"repo"`
	}
	if origin == "" || yaml.Unmarshal([]byte(origin), &ref) != nil || ref.Path == "" || ref.Repo != "" {
		return
	}
	file := filepath.Join(dir, filepath.FromSlash(ref.Path))
	if file == ".." || strings.HasPrefix(file, ".."+string(filepath.Separator)) {
		return
	}
	docs, ok := cache[file]
	if !ok {
		data, err := t.readFile(file)
		if err == nil {
			docs, _ = Decode(t.Path(file), data)
		}
		cache[file] = docs
	}
	o.File = t.Path(file)
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
