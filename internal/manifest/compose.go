package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/resid"
)

// Composition.
//
// Most kustomizations of a desired-state repository only aggregate: an
// environment's root lists request folders, and a request folder lists
// its rendered files. kustomize builds them in time that grows with the
// square of the resources of one build (each resource it adds is compared
// with every one it holds). For such kustomizations the build is known
// without kustomize: the documents of each listed file and the build of
// each listed folder, concatenated in the order listed (kustomize's order
// when no sortOptions are given, as its default options leave it). Build
// composes them when every kustomization it reaches only aggregates and
// every document is plain YAML it reads the same way kustomize does; at
// the first thing it is not sure of (another field, an anchor, a List, a
// duplicate id, a missing file, a link, an error of any kind) it gives the
// whole build to kustomize, which produces the result or the error as it
// always did.

// errNotComposable says that a build goes to kustomize.
var errNotComposable = errors.New("not a plain aggregation")

// kustomizationAPIVersion and kustomizationKind are what an aggregating
// kustomization may say it is.
const (
	kustomizationAPIVersion = "kustomize.config.k8s.io/v1beta1"
	kustomizationKind       = "Kustomization"
)

// folderBuild is the composed build of one folder: its objects, files
// relative to the tree, and the key that names its inputs in a BuildCache
// ("" without one).
type folderBuild struct {
	objs []Object
	key  string
}

// composer composes one build of a Tree.
type composer struct {
	t     *Tree
	stack map[string]bool // folders being composed, to refuse cycles
	files int             // files read, given back when kustomize builds
	bytes int64
}

// compose returns the build of the folder dir (resolved, relative to the
// tree) when it only aggregates, or errNotComposable; any other error
// stopped the tree.
func (t *Tree) compose(dir string) ([]Object, error) {
	c := &composer{t: t, stack: map[string]bool{}}
	fb, err := c.folder(dir)
	if err == nil {
		err = distinctIDs(fb.objs)
	}
	if err != nil {
		if stopped := t.Err(); stopped != nil {
			return nil, stopped
		}
		// kustomize reads what it reads, counted as ever.
		t.uncount(c.files, c.bytes)
		return nil, errNotComposable
	}
	out := make([]Object, len(fb.objs))
	for i, o := range fb.objs {
		o = t.handOut(o)
		o.File = t.Path(o.File)
		out[i] = o
	}
	return out, nil
}

// distinctIDs refuses two objects of the same id in one build, as kustomize
// does (it names the first, and tells "" and default apart only for
// cluster-scoped kinds).
func distinctIDs(objs []Object) error {
	seen := make(map[resid.ResId]bool, len(objs))
	for _, o := range objs {
		g, v := resid.ParseGroupVersion(o.APIVersion)
		id := resid.NewResIdWithNamespace(resid.NewGvk(g, v, o.Kind), o.Name, o.Namespace)
		id.Namespace = id.EffectiveNamespace()
		if seen[id] {
			return errNotComposable
		}
		seen[id] = true
	}
	return nil
}

// folder composes the folder dir, from the tree's memory of this build or
// of earlier ones when it can.
func (c *composer) folder(dir string) (*folderBuild, error) {
	if c.stack[dir] {
		return nil, errNotComposable // a cycle: kustomize says so
	}
	c.stack[dir] = true
	defer delete(c.stack, dir)
	t := c.t
	t.memoMu.Lock()
	fb, ok := t.memo[dir]
	t.memoMu.Unlock()
	if ok {
		return fb, nil
	}
	// A folder whose build reads only its own files is known by its
	// stamp alone.
	id, stampCache, stamped := t.folderStamp(dir)
	selfKey := "self\x00" + filepath.ToSlash(dir) + "\x00" + id
	if stamped {
		if objs, ok := stampCache.get(selfKey); ok {
			fb = &folderBuild{objs: objs, key: selfKey}
			t.remember(dir, fb)
			return fb, nil
		}
	}
	kfile, err := c.kustomization(dir)
	if err != nil {
		return nil, err
	}
	v, err := t.vetted(dir)
	if err != nil || v == nil || v.file != kfile {
		return nil, errNotComposable
	}
	entries, err := aggregated(v.data)
	if err != nil {
		return nil, err
	}
	// Every input of the build, in order: the kustomization, each file
	// read and the key of each folder's build.
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s", filepath.ToSlash(kfile), len(v.data), v.data)
	type part struct {
		file string       // a file of dir and its data, or
		data []byte       //
		sub  *folderBuild // the build of a folder
	}
	parts := make([]part, 0, len(entries))
	keyed, self := true, true
	for _, e := range entries {
		p, fi, err := c.entry(dir, e)
		if err != nil {
			return nil, err
		}
		if fi.IsDir() {
			self = false
			sub, err := c.folder(p)
			if err != nil {
				return nil, err
			}
			parts = append(parts, part{sub: sub})
			fmt.Fprintf(h, "folder\x00%s\x00", sub.key)
			keyed = keyed && sub.key != ""
			continue
		}
		if !within(dir, p) || isKustomizationName(filepath.Base(p)) {
			return nil, errNotComposable // root-only restriction: kustomize refuses it
		}
		data, err := c.read(p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part{file: p, data: data})
		fmt.Fprintf(h, "file\x00%s\x00%d\x00%s", filepath.ToSlash(p), len(data), data)
	}
	key := hex.EncodeToString(h.Sum(nil))
	cache := t.buildCache()
	if !keyed {
		cache = nil // a folder composed before the cache was set
	}
	if cache != nil {
		if objs, ok := cache.get(key); ok {
			// Built before without its stamp (by a tree that had none):
			// known by the stamp from now on too.
			if stamped && self {
				stampCache.add(selfKey, objs)
			}
			fb = &folderBuild{objs: objs, key: key}
			t.remember(dir, fb)
			return fb, nil
		}
	}
	fb = &folderBuild{}
	if cache != nil {
		fb.key = key
	}
	for _, p := range parts {
		if p.sub != nil {
			fb.objs = append(fb.objs, p.sub.objs...)
			continue
		}
		objs, err := c.decode(p.file, p.data)
		if err != nil {
			return nil, err
		}
		fb.objs = append(fb.objs, objs...)
	}
	if cache != nil {
		cache.add(key, fb.objs)
	}
	if stamped && self {
		stampCache.add(selfKey, fb.objs)
	}
	t.remember(dir, fb)
	return fb, nil
}

// remember keeps the build of dir for the rest of the tree's builds.
func (t *Tree) remember(dir string, fb *folderBuild) {
	t.memoMu.Lock()
	defer t.memoMu.Unlock()
	if t.memo == nil {
		t.memo = map[string]*folderBuild{}
	}
	t.memo[dir] = fb
}

// read reads the file p through the tree, keeping what it counted.
func (c *composer) read(p string) ([]byte, error) {
	data, err := c.t.readFile(p)
	if err == nil {
		c.files++
		c.bytes += int64(len(data))
	}
	return data, err
}

// kustomization returns the one kustomization file of dir.
func (c *composer) kustomization(dir string) (string, error) {
	found := ""
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		res, fi, err := c.t.resolve(p)
		if err != nil {
			return "", err
		}
		if fi == nil {
			continue
		}
		if found != "" || res != p || !fi.Mode().IsRegular() {
			return "", errNotComposable // several, or a link: kustomize decides
		}
		found = p
	}
	if found == "" {
		return "", errNotComposable
	}
	return found, nil
}

// entry resolves the resource e of the kustomization of dir to a file or
// folder of the tree reached without links.
func (c *composer) entry(dir, e string) (string, fsInfo, error) {
	p := filepath.Join(dir, filepath.FromSlash(e))
	if p == ".." || strings.HasPrefix(p, ".."+string(filepath.Separator)) {
		return "", nil, errNotComposable
	}
	if c.t.isStampedFolder(p) {
		return p, folderInfo{}, nil
	}
	res, fi, err := c.t.resolve(p)
	if err != nil {
		return "", nil, err
	}
	if fi == nil || res != p || !(fi.IsDir() || fi.Mode().IsRegular()) {
		return "", nil, errNotComposable
	}
	return p, fi, nil
}

// fsInfo is what entry tells of a path.
type fsInfo interface {
	IsDir() bool
}

// within tells whether p lies in the folder dir.
func within(dir, p string) bool {
	return dir == "." || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// decode decodes the documents of the file p, read as data, as
// kustomize reads them, with the file and line the kustomize path gives
// each object.
func (c *composer) decode(p string, data []byte) ([]Object, error) {
	// Decode, for documents plainYAML accepts.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []Object
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || !plainNode(&doc) || listLike(&doc) {
			return nil, errNotComposable
		}
		got, err := decodeDocument(p, &doc)
		if err != nil {
			return nil, errNotComposable
		}
		docs = append(docs, got...)
	}
	// The kustomize path finds each object's document by kind and name
	// (pick); most are alone of their kind and name in their file.
	type kindName struct{ kind, name string }
	count := make(map[kindName]int, len(docs))
	for _, d := range docs {
		count[kindName{d.Kind, d.Name}]++
	}
	out := make([]Object, 0, len(docs))
	for _, d := range docs {
		if d.Name == "" || !plainMetadata(d.Content) {
			return nil, errNotComposable
		}
		o := Object{ID: d.ID, Content: d.Content, File: p}
		if count[kindName{d.Kind, d.Name}] == 1 {
			o.Line, o.lines = d.Line, d.lines
		} else {
			o.Line, o.lines = pick(docs, o.Kind, o.Name)
		}
		o.Digest() // kept with the folder's build, and with its copies
		out = append(out, o)
	}
	return out, nil
}

// plainMetadata tells whether kustomize leaves the metadata of content as
// it is: annotations and labels, when given, are non-empty maps of
// strings, and no annotation is one kustomize sets or removes itself.
func plainMetadata(content map[string]any) bool {
	md, _ := content["metadata"].(map[string]any)
	for _, f := range []string{"annotations", "labels"} {
		v, ok := md[f]
		if !ok {
			continue
		}
		m, isMap := v.(map[string]any)
		if !isMap || len(m) == 0 {
			return false
		}
		for k, val := range m {
			if _, isString := val.(string); !isString {
				return false
			}
			if f == "annotations" && (strings.Contains(k, "config.kubernetes.io/") || strings.Contains(k, "kustomize.config.k8s.io/") || strings.HasPrefix(k, "kustomize.")) {
				return false
			}
		}
	}
	return true
}

// aggregated returns the resources of a kustomization that only
// aggregates local paths, or errNotComposable.
func aggregated(data []byte) ([]string, error) {
	if out, ok := aggregatedLines(data); ok {
		return out, nil
	}
	return aggregatedYAML(data)
}

// aggregatedLines reads, line by line, the kustomization gitvend writes
// for an environment's root: apiVersion, kind and resources, each once,
// every resource a path of letters, digits and ./_- with a slash in it on
// a line "- path" at one indent. Such a path is a plain string in every
// YAML schema; ok is false for anything else, which aggregatedYAML reads.
// Both give the same paths where this one answers: a root of thousands of
// requests is read here in a fraction of the time.
func aggregatedLines(data []byte) (resources []string, ok bool) {
	text, complete := strings.CutSuffix(string(data), "\n")
	if !complete {
		return nil, false
	}
	var seenAPI, seenKind, seenResources, listing bool
	indent := -1
	for line := range strings.SplitSeq(text, "\n") {
		switch {
		case line == "apiVersion: "+kustomizationAPIVersion && !seenAPI:
			seenAPI, listing = true, false
		case line == "kind: "+kustomizationKind && !seenKind:
			seenKind, listing = true, false
		case line == "resources:" && !seenResources:
			seenResources, listing = true, true
		case listing:
			item := strings.TrimLeft(line, " ")
			if at := len(line) - len(item); indent < 0 {
				indent = at
			} else if at != indent {
				return nil, false
			}
			p, isItem := strings.CutPrefix(item, "- ")
			if !isItem || !PlainPath(p) || isRemote(p) || filepath.IsAbs(p) {
				return nil, false
			}
			resources = append(resources, p)
		default:
			return nil, false
		}
	}
	if len(resources) == 0 {
		return nil, false
	}
	return resources, true
}

// PlainPath tells whether p is a path of letters, digits and ./_- with a
// slash in it, not starting with a dash: a string YAML reads and writes
// as it is, in every schema, without quotes.
func PlainPath(p string) bool {
	if p == "" || p[0] == '-' || !strings.Contains(p, "/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '/' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// aggregatedYAML is aggregated for any kustomization, read as YAML.
func aggregatedYAML(data []byte) ([]string, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, errNotComposable
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, errNotComposable // several documents: kustomize decides
	}
	if len(doc.Content) != 1 || !plainNode(&doc) {
		return nil, errNotComposable
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil, errNotComposable
	}
	var resources *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		switch {
		case k.Value == "apiVersion" && v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value == kustomizationAPIVersion:
		case k.Value == "kind" && v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value == kustomizationKind:
		case k.Value == "resources" && v.Kind == yaml.SequenceNode && resources == nil:
			resources = v
		default:
			return nil, errNotComposable
		}
	}
	if resources == nil {
		return nil, errNotComposable
	}
	out := make([]string, 0, len(resources.Content))
	for _, e := range resources.Content {
		if e.Kind != yaml.ScalarNode || e.Tag != "!!str" || e.Value == "" || inline(e) || isRemote(e.Value) ||
			filepath.IsAbs(e.Value) || strings.ContainsAny(e.Value, "*?[\\") {
			return nil, errNotComposable
		}
		out = append(out, e.Value)
	}
	return out, nil
}

// listLike tells whether a document may be a List kustomize expands.
func listLike(doc *yaml.Node) bool {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return false
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i].Value, m.Content[i+1]
		if k == "items" || k == "kind" && strings.HasSuffix(v.Value, "List") {
			return true
		}
	}
	return false
}

// plainNode tells whether n and what is under it is YAML that
// kustomize's reader and Decode read alike: no anchors, aliases, merge
// keys or explicit tags, keys that are plain strings, and scalars of the
// core types only (no timestamps, binary data or numbers out of range).
func plainNode(n *yaml.Node) bool {
	if n.Anchor != "" || n.Kind == yaml.AliasNode || n.Style&yaml.TaggedStyle != 0 {
		return false
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if !plainNode(c) {
				return false
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag != "!!str" || !plainNode(k) || !plainNode(n.Content[i+1]) {
				return false
			}
		}
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str", "!!bool", "!!null":
		case "!!int":
			var i int64
			if n.Decode(&i) != nil {
				return false
			}
		case "!!float":
			var f float64
			if n.Decode(&f) != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// deepCopy copies a JSON-compatible value, so that a remembered build
// stays as it was whatever its users do with their copy.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// Aggregates returns the paths a kustomization lists, as written, when it
// does nothing but list local resources (apiVersion, kind and resources
// only, plain YAML, no remote or glob path): its build is then the
// builds of those paths one after the other. ok is false for any other
// kustomization, which only kustomize can build.
func Aggregates(data []byte) (resources []string, ok bool) {
	out, err := aggregated(data)
	return out, err == nil
}
