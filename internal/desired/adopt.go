package desired

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/request"
)

// AdoptedDir is the folder of an environment root that holds the patches
// adopt writes, one file per object.
const AdoptedDir = "adopted"

// LiveField is one field whose live value differs from Git's, as a drift
// report names it.
type LiveField struct {
	// Path names the field, such as spec.template.spec.containers[name=app].image.
	Path string
	// Live is the JSON of the live value, "" when the cluster lacks the field.
	Live string
	// Hidden is set when Live is a fingerprint, not the value.
	Hidden bool
}

// LiveObject is a drifted object of a target.
type LiveObject struct {
	ID      manifest.ID
	Missing bool   // deleted from the cluster by hand
	Error   string // could not be compared
	Fields  []LiveField
}

// Adoption is what writing live values back to Git changes: files to
// write, one line per value adopted (for the pull request's body: the
// values are those a drift issue shows, never hidden ones), and one line
// per field or object left out, with why.
type Adoption struct {
	Files   []File
	Delete  []string
	Adopted []string
	Refused []string
}

// Adopt works out the change that makes Git hold the live values of objs,
// objects of a target that applies environments envs of the repository
// checked out in dir. A field a blueprint parameter of the object's
// request sets (blueprint.FieldTarget, without a format) is adopted into
// that parameter, the request rendered again; any other field as a JSON
// patch (RFC 6902) of the object in its environment's root, named by the
// root's kustomization under patches. Hidden values are never adopted:
// they would reach the pull request. Nor are deleted objects (adopting
// them would remove them from Git), values shortened in the report, list
// elements Git's object lacks, or values the parameter does not allow.
func Adopt(ctx context.Context, dir string, cfg *config.Repo, cat Catalog, envs []string, objs []LiveObject) (*Adoption, error) {
	tree, err := manifest.OpenTree(ctx, dir, manifest.Limits{})
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	type place struct {
		env config.Environment
		obj manifest.Object
	}
	where := map[string]place{}
	for _, name := range envs {
		env, ok := cfg.Environment(name)
		if !ok {
			continue
		}
		built, err := BuildEnvironment(tree, env)
		if err != nil {
			return nil, fmt.Errorf("build environment %s: %w", name, err)
		}
		for _, o := range built {
			where[objectKey(o.ID)] = place{env: env, obj: o}
		}
	}
	records, err := Requests(dir)
	if err != nil {
		return nil, err
	}
	a := &Adoption{}
	params := map[string]*request.Request{} // record path → request with adopted parameters
	var order []string
	patches := map[string][]patchOp{} // patch file → ops
	roots := map[string]config.Environment{}
	targets := map[string]manifest.ID{}
	for _, lo := range objs {
		name := objectKey(lo.ID)
		switch {
		case lo.Missing:
			a.Refused = append(a.Refused, fmt.Sprintf("%s: deleted from the cluster; adopting that would remove it from Git: remove its request with `/provision destroy`, or revert", name))
			continue
		case lo.Error != "":
			a.Refused = append(a.Refused, fmt.Sprintf("%s: could not be compared with Git", name))
			continue
		}
		pl, ok := where[name]
		if !ok {
			a.Refused = append(a.Refused, fmt.Sprintf("%s: not built from any environment of the target", name))
			continue
		}
		rec := owningRequest(ctx, cat, records, pl.env.Name, lo.ID)
		for _, f := range lo.Fields {
			if f.Hidden {
				a.Refused = append(a.Refused, fmt.Sprintf("%s `%s`: its value is hidden in the drift issue (Secrets, env values, data and annotations are), so adopt never writes it into a pull request; change it in Git yourself", name, f.Path))
				continue
			}
			steps, err := parseFieldPath(f.Path)
			if err != nil {
				a.Refused = append(a.Refused, fmt.Sprintf("%s `%s`: %v", name, f.Path, err))
				continue
			}
			var live any
			absent := f.Live == ""
			if !absent {
				dec := json.NewDecoder(strings.NewReader(f.Live))
				dec.UseNumber()
				if err := dec.Decode(&live); err != nil {
					a.Refused = append(a.Refused, fmt.Sprintf("%s `%s`: the value is too long to adopt from the drift report; change it in Git yourself", name, f.Path))
					continue
				}
				live = plainNumbers(live)
			}
			if rec != nil && !absent {
				r := params[rec.Path]
				if r == nil {
					r = copyRequest(rec.Request)
				}
				if p, why := adoptParameter(ctx, cat, r, lo.ID, f.Path, steps, live); p != "" {
					if params[rec.Path] == nil {
						order = append(order, rec.Path)
					}
					params[rec.Path] = r
					a.Adopted = append(a.Adopted, fmt.Sprintf("`%s`: parameter `%s` = %s (%s `%s`)", rec.Path, p, request.Code(f.Live), name, f.Path))
					continue
				} else if why != "" {
					a.Refused = append(a.Refused, fmt.Sprintf("%s `%s`: %s", name, f.Path, why))
					continue
				}
			}
			op, err := jsonPatchOp(pl.obj.Content, steps, live, absent)
			if err != nil {
				a.Refused = append(a.Refused, fmt.Sprintf("%s `%s`: %v", name, f.Path, err))
				continue
			}
			file := path.Join(pl.env.Root, AdoptedDir, patchFileName(lo.ID))
			patches[file] = append(patches[file], op)
			roots[file], targets[file] = pl.env, pl.obj.ID
			shown := f.Live
			if absent {
				shown = "(absent)"
			}
			a.Adopted = append(a.Adopted, fmt.Sprintf("`%s`: %s `%s` = %s", file, name, f.Path, request.Code(shown)))
		}
	}
	for _, p := range order {
		r := params[p]
		rendered, err := Render(ctx, cat, r)
		if err != nil {
			return nil, fmt.Errorf("render %s with the adopted parameters: %w", p, err)
		}
		data, err := r.Encode()
		if err != nil {
			return nil, err
		}
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		if origin := OriginOf(old); origin != "" {
			data = append([]byte(OriginHeader(origin)), data...)
		}
		a.Delete = append(a.Delete, r.RenderDir())
		a.Files = append(a.Files, File{Path: p, Data: data})
		a.Files = append(a.Files, rendered.Files...)
	}
	files := make([]string, 0, len(patches))
	for f := range patches {
		files = append(files, f)
	}
	sort.Strings(files)
	rootFiles := map[string][]byte{}
	for _, file := range files {
		data, err := mergePatch(dir, file, patches[file])
		if err != nil {
			return nil, err
		}
		a.Files = append(a.Files, File{Path: file, Data: data})
		env := roots[file]
		rootPath := path.Join(env.Root, "kustomization.yaml")
		root, ok := rootFiles[rootPath]
		if !ok {
			if root, err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(rootPath))); err != nil {
				return nil, fmt.Errorf("read %s: %w", rootPath, err)
			}
		}
		if root, err = withPatch(rootPath, root, path.Join(AdoptedDir, patchFileName(targets[file])), targets[file]); err != nil {
			return nil, err
		}
		rootFiles[rootPath] = root
	}
	for _, p := range sortedKeys(rootFiles) {
		a.Files = append(a.Files, File{Path: p, Data: rootFiles[p]})
	}
	return a, nil
}

func sortedKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// objectKey names an object as adopt reports it: Kind/namespace/name.
func objectKey(id manifest.ID) string {
	return request.ObjectRef{Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}.String()
}

// patchFileName is the file of an object's adopted patch.
func patchFileName(id manifest.ID) string {
	parts := []string{strings.ToLower(id.Kind)}
	if id.Namespace != "" {
		parts = append(parts, id.Namespace)
	}
	return strings.Join(append(parts, id.Name), "-") + ".yaml"
}

// owningRequest is the request record of environment env whose render
// holds the object id, or nil.
func owningRequest(ctx context.Context, cat Catalog, records []Record, env string, id manifest.ID) *Record {
	for i, rec := range records {
		if rec.Err != nil || rec.Request.Spec.Environment != env {
			continue
		}
		rendered, err := Render(ctx, cat, rec.Request)
		if err != nil {
			continue
		}
		for _, o := range rendered.Objects {
			if o.Kind == id.Kind && o.Namespace == id.Namespace && o.Name == id.Name {
				return &records[i]
			}
		}
	}
	return nil
}

func copyRequest(r *request.Request) *request.Request {
	c := *r
	c.Spec.Parameters = map[string]any{}
	for k, v := range r.Spec.Parameters {
		c.Spec.Parameters[k] = v
	}
	return &c
}

// adoptParameter sets, in r, the parameter of r's blueprint that writes
// the field at fieldPath of object id to live, when there is one and the
// render with it gives live there; it returns the parameter, or else why
// the value cannot be adopted ("" when no parameter sets the field, so a
// patch may).
func adoptParameter(ctx context.Context, cat Catalog, r *request.Request, id manifest.ID, fieldPath string, steps []step, live any) (string, string) {
	bp, err := cat.Get(r.Spec.Blueprint)
	if err != nil {
		return "", ""
	}
	for _, p := range bp.Parameters {
		for _, t := range p.Targets {
			if t.Kind != id.Kind || t.Format != "" || strings.ReplaceAll(t.Path, ".[", "[") != fieldPath {
				continue
			}
			trial := copyRequest(r)
			trial.Spec.Parameters[p.Name] = live
			rendered, err := Render(ctx, cat, trial)
			if err != nil {
				return "", fmt.Sprintf("parameter `%s` sets it, and does not allow the live value: %s", p.Name, strings.Join(field.Messages(err), "; "))
			}
			for _, o := range rendered.Objects {
				if o.Kind != id.Kind || o.Namespace != id.Namespace || o.Name != id.Name {
					continue
				}
				if got, ok := valueAt(o.Content, steps); ok && reflect.DeepEqual(plainNumbers(jsonRoundTrip(got)), live) {
					r.Spec.Parameters[p.Name] = live
					return p.Name, ""
				}
			}
		}
	}
	return "", ""
}

// step is one step of a drift report's field path: a key, a list element
// by name, or a list element by index.
type step struct {
	key   string
	name  string // [name=x]
	index int    // [3], -1 when not an index
}

// parseFieldPath reads a drift report's field path, such as
// spec.template.spec.containers[name=app].image or data[index.shards].
func parseFieldPath(p string) ([]step, error) {
	var out []step
	for i := 0; i < len(p); {
		switch {
		case p[i] == '.':
			i++
		case p[i] == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("cannot read the field path")
			}
			inner := p[i+1 : i+end]
			i += end + 1
			if n, ok := strings.CutPrefix(inner, "name="); ok {
				out = append(out, step{name: n, index: -1})
			} else if idx, err := strconv.Atoi(inner); err == nil {
				out = append(out, step{index: idx})
			} else {
				out = append(out, step{key: inner, index: -1})
			}
		default:
			end := strings.IndexAny(p[i:], ".[")
			if end < 0 {
				end = len(p) - i
			}
			out = append(out, step{key: p[i : i+end], index: -1})
			i += end
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cannot read the field path")
	}
	return out, nil
}

// valueAt is the value at steps in doc.
func valueAt(doc any, steps []step) (any, bool) {
	cur := doc
	for _, s := range steps {
		switch {
		case s.name != "":
			list, _ := cur.([]any)
			found := false
			for _, e := range list {
				if m, ok := e.(map[string]any); ok && m["name"] == s.name {
					cur, found = e, true
					break
				}
			}
			if !found {
				return nil, false
			}
		case s.index >= 0:
			list, _ := cur.([]any)
			if s.index >= len(list) {
				return nil, false
			}
			cur = list[s.index]
		default:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[s.key]; !ok {
				return nil, false
			}
		}
	}
	return cur, true
}

// patchOp is one operation of a JSON patch.
type patchOp struct {
	Op    string `yaml:"op" json:"op"`
	Path  string `yaml:"path" json:"path"`
	Value any    `yaml:"value,omitempty" json:"value,omitempty"`
}

// jsonPatchOp is the operation that gives the field at steps of Git's
// object the live value (or removes it when absent): list elements are
// found by name in Git's object, and a field Git lacks is added with the
// maps above it that Git lacks too.
func jsonPatchOp(obj map[string]any, steps []step, live any, absent bool) (patchOp, error) {
	var ptr []string
	var cur any = obj
	for i, s := range steps {
		switch {
		case s.name != "" || s.index >= 0:
			list, ok := cur.([]any)
			idx := s.index
			if s.name != "" {
				idx = -1
				for j, e := range list {
					if m, ok := e.(map[string]any); ok && m["name"] == s.name {
						idx = j
					}
				}
			}
			if !ok || idx < 0 || idx >= len(list) {
				return patchOp{}, fmt.Errorf("Git's object has no such list element; add it in Git yourself")
			}
			ptr = append(ptr, strconv.Itoa(idx))
			cur = list[idx]
		default:
			m, ok := cur.(map[string]any)
			if !ok {
				return patchOp{}, fmt.Errorf("Git's object has no map here")
			}
			ptr = append(ptr, escapePointer(s.key))
			next, ok := m[s.key]
			if !ok {
				if absent {
					return patchOp{}, fmt.Errorf("neither Git nor the cluster has it")
				}
				// Git lacks the field: add it, with whatever maps lead to it.
				value := live
				for j := len(steps) - 1; j > i; j-- {
					if steps[j].name != "" || steps[j].index >= 0 {
						return patchOp{}, fmt.Errorf("Git's object has no such list element; add it in Git yourself")
					}
					value = map[string]any{steps[j].key: value}
				}
				return patchOp{Op: "add", Path: "/" + strings.Join(ptr, "/"), Value: value}, nil
			}
			cur = next
		}
	}
	if absent {
		return patchOp{Op: "remove", Path: "/" + strings.Join(ptr, "/")}, nil
	}
	// add sets a map's key whether Git has it or not, so that adopting
	// again writes the same operation; a list element is replaced.
	op := "add"
	if last := steps[len(steps)-1]; last.name != "" || last.index >= 0 {
		op = "replace"
	}
	return patchOp{Op: op, Path: "/" + strings.Join(ptr, "/"), Value: live}, nil
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// mergePatch is the patch file at file with ops, an earlier adoption's
// operations on other fields kept.
func mergePatch(dir, file string, ops []patchOp) ([]byte, error) {
	var existing []patchOp
	old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	switch {
	case err == nil:
		if err := yaml.Unmarshal(old, &existing); err != nil {
			return nil, &field.Error{File: file, Msg: "an earlier adopted patch is not a JSON patch: " + err.Error()}
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	for _, op := range ops {
		existing = slicesDeleteOp(existing, op.Path)
		existing = append(existing, op)
	}
	var buf bytes.Buffer
	buf.WriteString("# Live values adopted from the cluster by gitvend.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(existing); err != nil {
		return nil, fmt.Errorf("encode %s: %w", file, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", file, err)
	}
	return buf.Bytes(), nil
}

func slicesDeleteOp(ops []patchOp, ptr string) []patchOp {
	out := ops[:0]
	for _, op := range ops {
		if op.Path != ptr {
			out = append(out, op)
		}
	}
	return out
}

// withPatch is the kustomization root (at rootPath) naming the patch
// file rel (relative to the root) for object id under patches, once.
func withPatch(rootPath string, root []byte, rel string, id manifest.ID) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(root, &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &field.Error{File: rootPath, Msg: "must be a kustomization mapping"}
	}
	m := doc.Content[0]
	var patches *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "patches" {
			patches = m.Content[i+1]
		}
	}
	if patches == nil {
		patches = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "patches"}, patches)
	}
	if patches.Kind != yaml.SequenceNode {
		return nil, &field.Error{File: rootPath, Field: "patches", Msg: "must be a list"}
	}
	for _, p := range patches.Content {
		var entry struct {
			Path string `yaml:"path"`
		}
		if p.Decode(&entry) == nil && entry.Path == rel {
			return root, nil
		}
	}
	target := map[string]string{"kind": id.Kind, "name": id.Name}
	if g := id.Group(); g != "" {
		target["group"] = g
	}
	if id.Namespace != "" {
		target["namespace"] = id.Namespace
	}
	var entry yaml.Node
	if err := entry.Encode(map[string]any{"path": rel, "target": target}); err != nil {
		return nil, err
	}
	patches.Content = append(patches.Content, &entry)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encode %s: %w", rootPath, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", rootPath, err)
	}
	return buf.Bytes(), nil
}

// plainNumbers turns json.Numbers into int64 where integral, float64
// otherwise, as rendered objects hold them.
func plainNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = plainNumbers(e)
		}
	case int:
		return int64(t)
	}
	return v
}

// jsonRoundTrip is v as JSON decodes it, numbers kept exact.
func jsonRoundTrip(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return v
	}
	return out
}
