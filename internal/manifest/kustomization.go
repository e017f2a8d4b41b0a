package manifest

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/konfig"

	"github.com/gitvend/gitvend/internal/field"
)

// kustomizationFile returns the kustomization file of the folder rel of
// the tree, relative to the tree; "" when there is none.
func (t *Tree) kustomizationFile(rel string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(rel, name)
		if t.isFile(p) {
			return p
		}
	}
	return ""
}

// IsKustomization tells whether the folder rel (relative to the tree)
// holds a kustomization file.
func (t *Tree) IsKustomization(rel string) bool {
	return t.kustomizationFile(filepath.FromSlash(rel)) != ""
}

// isKustomizationName tells whether a file called name is a kustomization.
func isKustomizationName(name string) bool {
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if name == n {
			return true
		}
	}
	return false
}

// Fields of a kustomization that name files or folders, in lower case:
// kustomize matches field names without regard to case.
var (
	// pathLists hold a list of paths (or inline documents, not checked).
	pathLists = map[string]bool{"resources": true, "bases": true, "components": true, "crds": true,
		"configurations": true, "patchesstrategicmerge": true, "transformers": true, "generators": true, "validators": true}
	// pathEntries hold a list of mappings whose path field is a path.
	pathEntries = map[string]bool{"patches": true, "patchesjson6902": true, "replacements": true}
	// generatorLists hold generators whose files, envs and env are paths.
	generatorLists = map[string]bool{"configmapgenerator": true, "secretgenerator": true}
	// helmFields run Helm, which gitvend never does.
	helmFields = map[string]bool{"helmcharts": true, "helmglobals": true, "helmchartinflationgenerator": true}
	// includes are the fields whose folders are kustomizations of their own.
	includes = map[string]bool{"resources": true, "bases": true, "components": true}
)

// userAt is the user@ of an scp-style Git address such as git@github.com:a/b.
var userAt = regexp.MustCompile(`^[a-z][a-z0-9-]*@`)

// isRemote tells whether a kustomization entry would make kustomize reach
// the network: a URL, a Git address or anything kustomize reads as one.
func isRemote(v string) bool {
	l := strings.ToLower(strings.TrimSpace(v))
	for _, p := range []string{"git::", "ssh:", "github.com/", "www.github.com/", "gitlab.com/", "bitbucket.org/"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	for _, s := range []string{"://", ".git/", "_git/", "?"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return strings.HasSuffix(l, ".git") || userAt.MatchString(l)
}

// vetKustomization refuses, before kustomize sees them, the entries of the
// kustomization file (named file in errors) that would reach outside the
// repository: remote resources, bases, components, patches, generator
// files, OpenAPI schemas, CRDs, transformers, generators, validators and
// replacements, absolute paths, and Helm charts. It returns one
// *field.Error per entry, joined, with its line; the includes are the
// local paths of resources, bases and components, for following.
func vetKustomization(file string, data []byte) (includes []string, err error) {
	if resources, ok := aggregatedLines(data); ok {
		// The root gitvend writes: only local, relative resources, all
		// included, and nothing else to vet; read without a YAML parse,
		// which a root of thousands of requests would make the larger
		// part of a build.
		return resources, nil
	}
	return vetKustomizationYAML(file, data)
}

// vetKustomizationYAML is vetKustomization for any kustomization, read as
// YAML.
func vetKustomizationYAML(file string, data []byte) (includes []string, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, field.YAMLError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	v := &vetter{file: file, seen: map[*yaml.Node]bool{}}
	v.mapping(deref(doc.Content[0]))
	return v.includes, errors.Join(v.errs...)
}

type vetter struct {
	file     string
	errs     []error
	includes []string
	seen     map[*yaml.Node]bool // mappings merged in already
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func (v *vetter) bad(n *yaml.Node, fieldPath, format string, args ...any) {
	v.errs = append(v.errs, &field.Error{File: v.file, Line: n.Line, Field: fieldPath, Msg: fmt.Sprintf(format, args...)})
}

// path vets one path entry.
func (v *vetter) path(n *yaml.Node, fieldPath string, include bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return
	}
	p := n.Value
	switch {
	case isRemote(p):
		v.bad(n, fieldPath, "remote reference %q is not allowed: gitvend builds only files of the repository, so that what is checked is what is applied; copy what it names into the repository and refer to it by a relative path", p)
	case filepath.IsAbs(p) || path.IsAbs(p):
		v.bad(n, fieldPath, "absolute path %q is not allowed; refer to files of the repository by a relative path", p)
	case include:
		v.includes = append(v.includes, p)
	}
}

// inline tells whether a list entry is an inline document rather than a path.
func inline(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind != yaml.ScalarNode || strings.Contains(n.Value, "\n") ||
		strings.HasPrefix(strings.TrimSpace(n.Value), "{") || strings.Contains(n.Value, ": ")
}

// mapping vets the top level of a kustomization, and mappings merged into it.
func (v *vetter) mapping(m *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode || v.seen[m] {
		return
	}
	v.seen[m] = true
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i], deref(m.Content[i+1])
		name := strings.ToLower(key.Value)
		switch {
		case key.Value == "<<":
			v.mapping(val)
			if val != nil && val.Kind == yaml.SequenceNode {
				for _, e := range val.Content {
					v.mapping(deref(e))
				}
			}
		case helmFields[name]:
			v.bad(key, key.Value, "Helm charts are not rendered by gitvend; render the chart into files of the repository and list them under resources")
		case name == "openapi":
			v.fields(val, key.Value, map[string]bool{"path": true})
		case val == nil || val.Kind != yaml.SequenceNode:
		case pathLists[name]:
			for j, e := range val.Content {
				if name == "patchesstrategicmerge" || name == "transformers" || name == "generators" || name == "validators" {
					if inline(e) {
						continue
					}
				}
				v.path(e, fmt.Sprintf("%s[%d]", key.Value, j), includes[name])
			}
		case pathEntries[name]:
			for j, e := range val.Content {
				if e = deref(e); e.Kind == yaml.ScalarNode && name == "replacements" {
					v.path(e, fmt.Sprintf("%s[%d]", key.Value, j), false)
					continue
				}
				v.fields(e, fmt.Sprintf("%s[%d]", key.Value, j), map[string]bool{"path": true})
			}
		case generatorLists[name]:
			for j, e := range val.Content {
				v.generator(deref(e), fmt.Sprintf("%s[%d]", key.Value, j))
			}
		}
	}
}

// fields vets the fields of mapping m whose lower-case names are in names.
func (v *vetter) fields(m *yaml.Node, fieldPath string, names map[string]bool) {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if names[strings.ToLower(m.Content[i].Value)] {
			v.path(m.Content[i+1], fieldPath+"."+m.Content[i].Value, false)
		}
	}
}

// generator vets the files, envs and env of a ConfigMap or Secret generator.
func (v *vetter) generator(m *yaml.Node, fieldPath string) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i], deref(m.Content[i+1])
		switch strings.ToLower(key.Value) {
		case "env":
			v.path(val, fieldPath+"."+key.Value, false)
		case "files", "envs":
			if val == nil || val.Kind != yaml.SequenceNode {
				continue
			}
			for j, e := range val.Content {
				e = deref(e)
				if e.Kind != yaml.ScalarNode {
					continue
				}
				src := *e
				if _, file, ok := strings.Cut(e.Value, "="); ok && strings.ToLower(key.Value) == "files" {
					src.Value = file
				}
				v.path(&src, fmt.Sprintf("%s.%s[%d]", fieldPath, key.Value, j), false)
			}
		}
	}
}

// vet reads the kustomization of the folder rel and, through the local
// folders it includes, every kustomization a build of rel reads, refusing
// what reaches outside the repository before kustomize runs.
func (t *Tree) vet(rel string, seen map[string]bool) error {
	if seen[rel] || len(seen) > t.lim.Files {
		return nil
	}
	seen[rel] = true
	v, err := t.vetted(rel)
	if err != nil || v == nil {
		return err
	}
	if v.leaf {
		return nil // it includes only its own files
	}
	incl := v.includes
	var errs []error
	for _, p := range incl {
		sub := filepath.Join(rel, filepath.FromSlash(p))
		if sub == ".." || strings.HasPrefix(sub, ".."+string(filepath.Separator)) {
			continue // outside the tree: the build refuses it
		}
		res := filepath.Clean(sub)
		if _, _, file := t.fileStamp(res); file {
			continue // a file, as the stamps tell
		}
		if !t.isStampedFolder(res) {
			r, fi, err := t.resolve(sub)
			if err != nil || fi == nil || !fi.IsDir() {
				continue // a file, or a problem the build reports
			}
			res = r
		}
		if err := t.vet(res, seen); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// filesUnder tells whether the stamps know every path of incl, relative
// to the folder rel, as a file under rel.
func (t *Tree) filesUnder(rel string, incl []string) bool {
	f := filepath.ToSlash(rel)
	for _, p := range incl {
		sub := path.Join(f, p)
		if !under(f, sub) || sub == f {
			return false
		}
		if _, _, file := t.fileStamp(filepath.FromSlash(sub)); !file {
			return false
		}
	}
	return true
}

// vettedKustomization is the kustomization of a folder that vet read
// and found nothing to refuse in.
type vettedKustomization struct {
	file     string // relative to the tree
	data     []byte
	includes []string
	// leaf is set when the stamps know every include as a file under the
	// folder: the folder's stamp covers them, and vet need not look.
	leaf bool
}

// vetted reads and vets the kustomization of the folder rel, once per
// tree: nil when the folder has none.
func (t *Tree) vetted(rel string) (*vettedKustomization, error) {
	t.memoMu.Lock()
	v, ok := t.vets[rel]
	t.memoMu.Unlock()
	if ok {
		return v, nil
	}
	id, cache, stamped := t.folderStamp(rel)
	key := "vet\x00" + filepath.ToSlash(rel) + "\x00" + id
	if stamped {
		if v, ok := cache.vet(key); ok {
			return t.keepVetted(rel, v), nil
		}
	}
	file := t.kustomizationFile(rel)
	if file == "" {
		if stamped {
			cache.addVet(key, nil)
		}
		return nil, nil
	}
	data, err := t.readFile(file)
	if err != nil {
		return nil, err
	}
	incl, err := vetKustomization(t.Path(file), data)
	if err != nil {
		return nil, err
	}
	v = &vettedKustomization{file: file, data: data, includes: incl}
	if stamped {
		v.leaf = t.filesUnder(rel, incl)
		cache.addVet(key, v)
	}
	return t.keepVetted(rel, v), nil
}

// keepVetted remembers v as the vetted kustomization of rel for the rest
// of the tree's reads, and returns it.
func (t *Tree) keepVetted(rel string, v *vettedKustomization) *vettedKustomization {
	if v == nil {
		return nil
	}
	t.memoMu.Lock()
	if t.vets == nil {
		t.vets = map[string]*vettedKustomization{}
	}
	t.vets[rel] = v
	t.memoMu.Unlock()
	return v
}

// KustomizationFile returns the kustomization file of the folder rel
// (slash-separated, relative to the tree) as a slash-separated path
// relative to the tree; ok is false when the folder holds none.
func (t *Tree) KustomizationFile(rel string) (file string, ok bool) {
	f := t.kustomizationFile(filepath.Clean(filepath.FromSlash(rel)))
	return filepath.ToSlash(f), f != ""
}

// KustomizationFileNames are the names a kustomization file may have in
// its folder, as kustomize looks for them.
func KustomizationFileNames() []string { return konfig.RecognizedKustomizationFileNames() }
