package blueprint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/resid"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/templates"
)

// Limits on what one blueprint folder may hold.
const (
	MaxFileSize  = 1 << 20 // bytes in one file
	MaxTotalSize = 8 << 20 // bytes in all files of a blueprint
	MaxFiles     = 500     // files in base/ and components/
)

// Source is a place blueprints are loaded from: a file system whose top
// folders are blueprints.
type Source struct {
	// Root names the source in messages and in Blueprint.Source, such as
	// "builtin" or "blueprints".
	Root string
	// FS holds one folder per blueprint.
	FS fs.FS
}

// Builtin returns the blueprints that ship with gitvend.
func Builtin() Source { return Source{Root: "builtin", FS: templates.FS} }

// Catalog is a set of loaded blueprints by name. It is immutable and safe
// for concurrent use.
type Catalog struct {
	blueprints map[string]*Blueprint
	broken     map[string]error
	// kept are the earlier versions kept side by side with a blueprint,
	// in folders named <name>@<version>, by name and version.
	kept map[string]map[int]*Blueprint
}

// Load reads the blueprints of every source. A blueprint of a later source
// replaces one of the same name from an earlier source, so repository-local
// blueprints override the built-ins. Problems are joined into the returned
// error, each a *field.Error naming the file (inside the blueprint's
// folder), line and field, while the catalog still holds every blueprint
// that loaded; Get reports the problem for a blueprint that failed.
func Load(ctx context.Context, sources ...Source) (*Catalog, error) {
	c := &Catalog{blueprints: map[string]*Blueprint{}, broken: map[string]error{}, kept: map[string]map[int]*Blueprint{}}
	var errs []error
	for _, src := range sources {
		kept := map[string]map[int]*Blueprint{} // this source's kept versions
		entries, err := fs.ReadDir(src.FS, ".")
		if err != nil {
			errs = append(errs, &field.Error{File: src.Root, Msg: "cannot read blueprints: " + err.Error()})
			continue
		}
		for _, e := range entries {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if name, v, ok := strings.Cut(e.Name(), "@"); ok {
				b, err := loadKept(ctx, src, e.Name(), name, v)
				if err != nil {
					if ctx.Err() != nil {
						return nil, fmt.Errorf("load blueprints: %w", ctx.Err())
					}
					errs = append(errs, err)
					continue
				}
				if kept[name] == nil {
					kept[name] = map[int]*Blueprint{}
				}
				kept[name][b.Version] = b
				continue
			}
			b, err := loadBlueprint(ctx, src, e.Name(), e.Name())
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("load blueprints: %w", ctx.Err())
				}
				errs = append(errs, err)
				c.broken[e.Name()] = err
				delete(c.blueprints, e.Name())
				continue
			}
			if old := c.blueprints[b.Name]; old != nil {
				slog.DebugContext(ctx, "blueprint overridden", "blueprint", b.Name, "source", b.Source, "replaces", old.Source)
			}
			c.blueprints[b.Name] = b
			delete(c.broken, b.Name)
			delete(c.kept, b.Name) // versions kept elsewhere are another blueprint's
		}
		for name, versions := range kept {
			if c.kept[name] == nil {
				c.kept[name] = map[int]*Blueprint{}
			}
			for v, b := range versions {
				c.kept[name][v] = b
			}
		}
	}
	for name, versions := range c.kept {
		cur := c.blueprints[name]
		for v, b := range versions {
			switch {
			case cur == nil:
				errs = append(errs, &field.Error{File: b.Source, Msg: fmt.Sprintf("keeps version %d of blueprint %q, which does not exist; a kept version sits next to its blueprint's folder", v, name)})
				delete(versions, v)
			case v == cur.Version:
				errs = append(errs, &field.Error{File: b.Source, Msg: fmt.Sprintf("keeps version %d of blueprint %q, which is its current version (%s); give the blueprint a new spec.version when it changes", v, name, cur.Source)})
				delete(versions, v)
			}
		}
	}
	return c, errors.Join(errs...)
}

// loadKept reads folder dir of src, an earlier version of blueprint name
// kept as <name>@<version>; its spec.version must say the same version.
func loadKept(ctx context.Context, src Source, dir, name, version string) (*Blueprint, error) {
	where := path.Join(src.Root, dir)
	_, v, err := request.SplitBlueprint(dir)
	if err != nil {
		return nil, &field.Error{File: where, Msg: "a folder of a kept blueprint version is named <blueprint>@<version>, such as web-service@2: " + err.Error()}
	}
	b, err := loadBlueprint(ctx, src, dir, name)
	if err != nil {
		return nil, err
	}
	if b.Version != v {
		return nil, &field.Error{File: path.Join(where, SpecFile), Line: b.lines.Of("spec.version"), Field: "spec.version",
			Msg: fmt.Sprintf("must be %s, the version its folder name keeps, got %d", version, b.Version)}
	}
	return b, nil
}

// Get returns the blueprint a request names: its current version for a
// name, such as web-service, or the version a pinned reference names,
// such as web-service@2 (the current one, or one kept side by side). It
// returns an error saying that the blueprint failed to load, which
// blueprints exist, or which versions of it exist.
func (c *Catalog) Get(ref string) (*Blueprint, error) {
	name, version, err := request.SplitBlueprint(ref)
	if err != nil {
		return nil, &field.Error{Msg: err.Error()}
	}
	if b := c.blueprints[name]; b != nil {
		if version == 0 || version == b.Version {
			return b, nil
		}
		if k := c.kept[name][version]; k != nil {
			return k, nil
		}
		return nil, &field.Error{Msg: fmt.Sprintf("blueprint %s has no version %d; versions available: %s (current), or %s to follow the blueprint as it changes",
			name, version, c.versionList(b), name)}
	}
	if err := c.broken[name]; err != nil {
		return nil, fmt.Errorf("blueprint %q failed to load: %w", name, err)
	}
	names := make([]string, 0, len(c.blueprints))
	for _, b := range c.List() {
		names = append(names, b.Name)
	}
	return nil, &field.Error{Msg: fmt.Sprintf("unknown blueprint %q; available: %s", name, strings.Join(names, ", "))}
}

// Versions lists the versions of blueprint name a request may pin, oldest
// first: the kept ones and the current one; nil when there is no such
// blueprint.
func (c *Catalog) Versions(name string) []int {
	b := c.blueprints[name]
	if b == nil {
		return nil
	}
	out := []int{b.Version}
	for v := range c.kept[name] {
		out = append(out, v)
	}
	sort.Ints(out)
	return out
}

// versionList names the versions of b's blueprint as pinned references.
func (c *Catalog) versionList(b *Blueprint) string {
	var refs []string
	for _, v := range c.Versions(b.Name) {
		refs = append(refs, request.BlueprintRef(b.Name, v))
	}
	return strings.Join(refs, ", ")
}

// List returns the loaded blueprints sorted by name.
func (c *Catalog) List() []*Blueprint {
	out := make([]*Blueprint, 0, len(c.blueprints))
	for _, b := range c.blueprints {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// loadBlueprint reads and checks blueprint name in folder dir of src.
func loadBlueprint(ctx context.Context, src Source, dir, name string) (*Blueprint, error) {
	where := path.Join(src.Root, dir)
	specFile := path.Join(where, SpecFile)
	if !config.IsDNSLabel(name) {
		return nil, &field.Error{File: where, Msg: "a blueprint folder name must be a DNS-1123 label (lower case letters, digits and '-')"}
	}
	if lfs, ok := src.FS.(fs.ReadLinkFS); ok {
		if info, err := lfs.Lstat(path.Join(dir, SpecFile)); err == nil && info.Mode()&fs.ModeSymlink != 0 {
			return nil, &field.Error{File: specFile, Msg: "is a symbolic link; blueprint files must be regular files"}
		}
	}
	data, err := fs.ReadFile(src.FS, path.Join(dir, SpecFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &field.Error{File: specFile, Msg: "is missing; a blueprint folder holds blueprint.yaml and a kustomize base in base/"}
		}
		return nil, &field.Error{File: specFile, Msg: "cannot read: " + err.Error()}
	}
	if len(data) > MaxFileSize {
		return nil, &field.Error{File: specFile, Msg: fmt.Sprintf("is larger than %d bytes", MaxFileSize)}
	}
	b, err := parseSpec(name, specFile, data)
	if err != nil {
		return nil, err
	}
	b.Source = where
	if b.files, err = readFiles(src.FS, dir, where); err != nil {
		return nil, err
	}
	b.digest = digestOf(name, data, b.files)
	if err := b.checkLayout(where); err != nil {
		return nil, err
	}
	if err := b.checkBuilds(ctx, where); err != nil {
		return nil, err
	}
	return b, nil
}

// readFiles reads everything under dir/base and dir/components into a map by
// path relative to dir.
func readFiles(fsys fs.FS, dir, where string) (map[string][]byte, error) {
	files := map[string][]byte{}
	total := 0
	for _, sub := range []string{"base", "components"} {
		root := path.Join(dir, sub)
		if _, err := fs.Stat(fsys, root); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel := strings.TrimPrefix(p, dir+"/")
			if d.Type()&fs.ModeSymlink != 0 {
				return &field.Error{File: path.Join(where, rel), Msg: "is a symbolic link; blueprint files must be regular files"}
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			switch total += len(data); {
			case len(data) > MaxFileSize:
				return &field.Error{File: path.Join(where, rel), Msg: fmt.Sprintf("is larger than %d bytes", MaxFileSize)}
			case total > MaxTotalSize:
				return &field.Error{File: where, Msg: fmt.Sprintf("files add up to more than %d bytes", MaxTotalSize)}
			case len(files) >= MaxFiles:
				return &field.Error{File: where, Msg: fmt.Sprintf("holds more than %d files", MaxFiles)}
			}
			files[rel] = data
			return nil
		})
		if err != nil {
			var e *field.Error
			if errors.As(err, &e) {
				return nil, e
			}
			return nil, &field.Error{File: path.Join(where, sub), Msg: "cannot read: " + err.Error()}
		}
	}
	return files, nil
}

// kustomizationRefs are the fields of a kustomization that name files or
// folders.
type kustomizationRefs struct {
	Resources  []string `yaml:"resources"`
	Components []string `yaml:"components"`
	Bases      []string `yaml:"bases"`
}

// checkLayout checks the base, the components and the references to them,
// and that kustomizations only use the blueprint's own files.
func (b *Blueprint) checkLayout(where string) error {
	var errs []error
	fail := func(file string, line int, path, format string, args ...any) {
		errs = append(errs, &field.Error{File: file, Line: line, Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	dirs := []string{"base"}
	if kustomizationFile(b.files, "base") == "" {
		fail(path.Join(where, "base"), 0, "", "has no kustomization.yaml; a blueprint needs a kustomize base in base/")
	}
	names := make([]string, 0, len(b.files))
	for name := range b.files {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	for _, name := range names {
		rest, ok := strings.CutPrefix(name, "components/")
		if !ok {
			continue
		}
		c, _, _ := strings.Cut(rest, "/")
		if seen[c] {
			continue
		}
		seen[c] = true
		dir := "components/" + c
		if kustomizationFile(b.files, dir) == "" {
			fail(path.Join(where, dir), 0, "", "has no kustomization.yaml; a component is a folder with a kustomization of kind Component")
			continue
		}
		b.Components = append(b.Components, c)
		dirs = append(dirs, dir)
	}
	sort.Strings(b.Components)
	for _, dir := range dirs {
		kf := kustomizationFile(b.files, dir)
		if kf == "" {
			continue
		}
		var refs kustomizationRefs
		if err := yaml.Unmarshal(b.files[kf], &refs); err != nil {
			fail(path.Join(where, kf), 0, "", "invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
			continue
		}
		for _, l := range []struct {
			field string
			refs  []string
		}{{"resources", refs.Resources}, {"components", refs.Components}, {"bases", refs.Bases}} {
			for i, ref := range l.refs {
				target := path.Clean(path.Join(dir, ref))
				if strings.Contains(ref, "://") || path.IsAbs(ref) || !b.exists(target) {
					fail(path.Join(where, kf), 0, fmt.Sprintf("%s[%d]", l.field, i), "%q is not a file or folder of the blueprint; a blueprint may only use its own files", ref)
				}
			}
		}
	}
	used := map[string]bool{}
	for _, p := range b.Parameters {
		check := func(c, key string) {
			used[c] = true
			if !slices.Contains(b.Components, c) {
				fail(b.file, b.lines.Of(p.field+"."+key), p.field+"."+key, "component %q does not exist; components: %s", c, listOrNone(b.Components))
			}
		}
		if p.Component != "" {
			check(p.Component, "component")
		}
		for _, opt := range sortedKeys(p.Components) {
			check(p.Components[opt], "components."+opt)
		}
	}
	for _, c := range b.Components {
		if !used[c] {
			fail(path.Join(where, "components", c), 0, "", "component %q is switched on by no parameter; name it in a parameter's component or components", c)
		}
	}
	return errors.Join(errs...)
}

// exists tells whether p is a file or folder among the blueprint's files.
func (b *Blueprint) exists(p string) bool {
	if _, ok := b.files[p]; ok {
		return true
	}
	for name := range b.files {
		if strings.HasPrefix(name, p+"/") {
			return true
		}
	}
	return false
}

// checkBuilds builds the base alone and with each component, records the
// objects each produces, and checks that every target matches an object
// and resolves to a scalar field in it.
func (b *Blueprint) checkBuilds(ctx context.Context, where string) error {
	builds := map[string]resmap.ResMap{}
	var errs []error
	for _, c := range append([]string{""}, b.Components...) {
		var comps []string
		file := kustomizationFile(b.files, "base")
		if c != "" {
			comps = []string{c}
			file = kustomizationFile(b.files, "components/"+c)
		}
		k, err := b.kustomization(Input{}, comps)
		if err == nil {
			builds[c], err = b.build(ctx, k)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, &field.Error{File: path.Join(where, file), Msg: err.Error()})
			if c == "" {
				break // every component build would fail the same way
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	b.componentIDs = map[string][]resid.ResId{}
	inBase := map[string]bool{}
	for _, r := range builds[""].Resources() {
		b.baseIDs = append(b.baseIDs, r.CurId())
		inBase[r.CurId().String()] = true
	}
	if len(b.baseIDs) == 0 {
		errs = append(errs, &field.Error{File: path.Join(where, "base"), Msg: "the base produces no objects"})
	}
	for _, c := range b.Components {
		for _, r := range builds[c].Resources() {
			if !inBase[r.CurId().String()] {
				b.componentIDs[c] = append(b.componentIDs[c], r.CurId())
			}
		}
	}
	probe := func() *kyaml.Node { return &kyaml.Node{Kind: kyaml.ScalarNode, Tag: "!!str", Value: "probe"} }
	for _, p := range b.Parameters {
		for _, t := range p.Targets {
			found := false
			for _, c := range append([]string{""}, b.Components...) {
				for _, r := range builds[c].Resources() {
					if r.GetKind() != t.Kind || (t.Name != "" && r.GetName() != t.Name) {
						continue
					}
					found = true
					if err := setScalar(r.YNode(), t.steps, probe()); err != nil {
						errs = append(errs, &field.Error{File: b.file, Line: t.line, Field: t.field + ".path",
							Msg: fmt.Sprintf("does not resolve in %s %s: %v", r.GetKind(), r.GetName(), err)})
					}
				}
			}
			if !found {
				what := t.Kind
				if t.Name != "" {
					what += " named " + t.Name
				}
				errs = append(errs, &field.Error{File: b.file, Line: t.line, Field: t.field,
					Msg: fmt.Sprintf("matches no object: the base and components have no %s; they have %s", what, b.objectList())})
			}
		}
	}
	return errors.Join(errs...)
}

// objectList names the objects of the base and components for messages.
func (b *Blueprint) objectList() string {
	var names []string
	for _, id := range b.ids(b.Components) {
		names = append(names, id.Kind+" "+id.Name)
	}
	return listOrNone(names)
}

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// digestOf fingerprints a blueprint: its name, its blueprint.yaml and every
// file of its base and components, so that two blueprints with the same
// digest render every request the same.
func digestOf(name string, spec []byte, files map[string][]byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", name, len(spec))
	h.Write(spec)
	for _, p := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "\x00%s\x00%d\x00", p, len(files[p]))
		h.Write(files[p])
	}
	return hex.EncodeToString(h.Sum(nil))
}
