package manifest

import (
	"errors"
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

// Build builds the kustomization in the folder rel of the tree
// (slash-separated, relative to it) and returns the objects it produces,
// in kustomize's order. Each object keeps the file (named as Path names
// it) and line of the document it came from, so that findings point at
// what people edit.
//
// Nothing outside the tree is read: every kustomization the build reads is
// first vetted for remote references (URLs, Git addresses) and Helm
// charts, which are refused with the file and line, before kustomize
// runs. A build whose kustomizations only list files and folders is
// composed without kustomize, to the same result (see compose.go), and
// the folders it composes are remembered for the tree's later builds and,
// with UseCache, for other trees; kustomize reads files only through the tree, with its root-only
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
	if !t.kustomizeOnly {
		objs, err := t.compose(res)
		switch {
		case err == nil:
			if err := t.countObjects(kfile, len(objs)); err != nil {
				return nil, err
			}
			return objs, nil
		case !errors.Is(err, errNotComposable):
			return nil, err
		}
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
		apiVersion, _ := content["apiVersion"].(string)
		kind, _ := content["kind"].(string)
		o.APIVersion, o.Kind, o.Namespace = Intern(apiVersion), Intern(kind), Intern(r.GetNamespace())
		o.Name = Shared(r.GetName())
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
	o.Line, o.lines = pick(docs, o.Kind, o.Name)
}

// pick returns the line and the line index of the document among docs, those of
// one file, that an object of kind and name was built from: the one of
// the same kind and name, or else the one whose name the object's name
// contains (kustomize's prefixes and suffixes keep it), or else the only
// one of the kind; line 1 of the file when none is alone in its class,
// and 0 for a file without documents.
func pick(docs []Object, kind, name string) (int, lineIndex) {
	var exact, partial, sameKind []Object
	for _, d := range docs {
		switch {
		case d.Kind != kind:
			continue
		case d.Name == name:
			exact = append(exact, d)
		case d.Name != "" && strings.Contains(name, d.Name):
			partial = append(partial, d)
		}
		sameKind = append(sameKind, d)
	}
	for _, c := range [][]Object{exact, partial, sameKind} {
		if len(c) == 1 {
			return c[0].Line, c[0].lines
		}
	}
	if len(docs) > 0 {
		return 1, lineIndex{}
	}
	return 0, lineIndex{}
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
