package desired

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/request"
)

// Place is where a file sits in the repository layout.
type Place struct {
	// Environment the file belongs to, "" when outside requests/ and the
	// environment roots.
	Environment string
	// Namespace and Request are set for a request's record and its rendered files.
	Namespace string
	Request   string
}

// Locate tells where the slash-separated repository path p sits: in a
// request's rendered folder, a request record, or an environment root.
func Locate(cfg *config.Repo, p string) Place {
	p = path.Clean(filepath.ToSlash(p))
	parts := strings.Split(p, "/")
	if len(parts) >= 4 && parts[0] == request.Dir {
		// One copy of each environment and namespace, as objects hold
		// theirs (manifest.Intern), not a piece of every file's path.
		env, ns := manifest.Intern(parts[1]), manifest.Intern(parts[2])
		pl := Place{Environment: env, Namespace: ns, Request: strings.TrimSuffix(parts[3], ".yaml")}
		if len(parts) == 4 && !strings.HasSuffix(parts[3], ".yaml") {
			return Place{Environment: env, Namespace: ns}
		}
		return pl
	}
	for _, e := range cfg.Environments {
		root := path.Clean(e.Root)
		if p == root || strings.HasPrefix(p, root+"/") {
			return Place{Environment: e.Name}
		}
	}
	return Place{}
}

// Record is a request record read from the repository.
type Record struct {
	Path    string           // slash-separated path from the repository root
	Request *request.Request // nil when Err is set
	Err     error            // why the record could not be read
}

// Requests reads every request record under requests/ of the repository in
// dir, sorted by path. A record that does not parse, or whose path does not
// match its environment, namespace and name, carries an error.
func Requests(dir string) ([]Record, error) {
	root := filepath.Join(dir, request.Dir)
	var out []Record
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if depth := strings.Count(rel, "/"); depth >= 3 {
				return filepath.SkipDir // a rendered folder
			}
			return nil
		}
		if strings.Count(rel, "/") != 3 || !strings.HasSuffix(rel, ".yaml") {
			return nil
		}
		rec := Record{Path: rel}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		rec.Request, rec.Err = request.Parse(data)
		if rec.Err == nil && rec.Request.Path() != rel {
			rec.Err = fmt.Errorf("record is at %s but its environment, namespace and name place it at %s", rel, rec.Request.Path())
			rec.Request = nil
		}
		out = append(out, rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// requestRef is how an environment root names a request's rendered folder.
func requestRef(env config.Environment, renderDir string) string {
	rel, err := filepath.Rel(filepath.FromSlash(env.Root), filepath.FromSlash(renderDir))
	if err != nil {
		return renderDir
	}
	return filepath.ToSlash(rel)
}

// refNamer names request folders as env's root does, with the way from
// the root to the environment's requests worked out once: a root lists
// thousands of folders, and working out each one's relative path took
// most of the time of rewriting it.
type refNamer struct {
	env config.Environment
	// dir is the environment's requests folder, "requests/<env>/", and
	// ref how the root names it, ending in a slash too.
	dir, ref string
	// fast is set when a folder's name is ref and the rest of its path,
	// which holds for a root outside the requests folder.
	fast bool
}

func newRefNamer(env config.Environment) refNamer {
	dir := request.Dir + "/" + env.Name
	root := path.Clean(filepath.ToSlash(env.Root))
	return refNamer{env: env, dir: dir + "/", ref: requestRef(env, dir) + "/",
		fast: !path.IsAbs(root) && root != dir && !strings.HasPrefix(root, dir+"/")}
}

// of is requestRef(env, renderDir).
func (n refNamer) of(renderDir string) string {
	if rest, ok := strings.CutPrefix(renderDir, n.dir); n.fast && ok && path.Clean(renderDir) == renderDir {
		return n.ref + rest
	}
	return requestRef(n.env, renderDir)
}

// names tells whether a resource entry of env's root points into the
// environment's requests.
func (n refNamer) names(ref string) bool { return strings.HasPrefix(ref, n.ref) }

// requestRefs are the references of env's root to the request folders
// renderDirs, sorted.
func requestRefs(env config.Environment, renderDirs []string) []string {
	n := newRefNamer(env)
	refs := make([]string, 0, len(renderDirs))
	for _, d := range renderDirs {
		refs = append(refs, n.of(d))
	}
	sort.Strings(refs)
	return refs
}

// EnvironmentRoot returns the kustomization of env with its references to
// request folders set to renderDirs (repository paths), keeping every other
// entry people added by hand, in their order, before the request folders
// in sorted order. existing may be nil for a new root.
func EnvironmentRoot(env config.Environment, existing []byte, renderDirs []string) ([]byte, error) {
	return environmentRoot(env, existing, requestRefs(env, renderDirs))
}

// environmentRoot is EnvironmentRoot with the references to the request
// folders made already, sorted (requestRefs).
func environmentRoot(env config.Environment, existing []byte, refs []string) ([]byte, error) {
	if out, ok := plainEnvironmentRoot(env, existing, refs); ok {
		return out, nil
	}
	return yamlEnvironmentRoot(env, existing, refs)
}

// yamlEnvironmentRoot is environmentRoot for any root, through YAML.
func yamlEnvironmentRoot(env config.Environment, existing []byte, refs []string) ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	top := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{doc}}
	if len(existing) > 0 {
		var root yaml.Node
		if err := yaml.Unmarshal(existing, &root); err != nil {
			return nil, fmt.Errorf("%s/kustomization.yaml: invalid YAML: %w", env.Root, err)
		}
		if len(root.Content) == 1 {
			if root.Content[0].Kind != yaml.MappingNode {
				return nil, fmt.Errorf("%s/kustomization.yaml: must be a mapping", env.Root)
			}
			top, doc = &root, root.Content[0]
		}
	}
	set := func(key string, value *yaml.Node) {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == key {
				doc.Content[i+1] = value
				return
			}
		}
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, value)
	}
	get := func(key string) *yaml.Node {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == key {
				return doc.Content[i+1]
			}
		}
		return nil
	}
	if get("apiVersion") == nil {
		set("apiVersion", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "kustomize.config.k8s.io/v1beta1"})
		set("kind", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "Kustomization"})
	}
	resources := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	if old := get("resources"); old != nil {
		if old.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s/kustomization.yaml: resources must be a list", env.Root)
		}
		names := newRefNamer(env)
		for _, n := range old.Content {
			if !names.names(n.Value) {
				resources.Content = append(resources.Content, n)
			}
		}
	}
	for _, r := range refs {
		resources.Content = append(resources.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: r})
	}
	set("resources", resources)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(top); err != nil {
		return nil, fmt.Errorf("encode %s/kustomization.yaml: %w", env.Root, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode %s/kustomization.yaml: %w", env.Root, err)
	}
	return buf.Bytes(), nil
}

// plainRootHeader begins an environment root as EnvironmentRoot writes it.
const plainRootHeader = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"

// plainEnvironmentRoot is environmentRoot for the root it writes itself,
// edited as lines: the header, then "  - path" for every entry, each path
// a plain one (manifest.PlainPath), which YAML writes as it is. It gives
// the bytes the YAML round trip gives, in a fraction of the time for a
// root of thousands of requests, written once into a buffer of its size;
// ok is false for any other root, or entries, which the round trip
// writes.
func plainEnvironmentRoot(env config.Environment, existing []byte, refs []string) ([]byte, bool) {
	body, ok := strings.CutPrefix(string(existing), plainRootHeader)
	if !ok {
		return nil, false
	}
	body, ok = strings.CutSuffix(body, "\n")
	if !ok {
		return nil, false
	}
	// The entries people added by hand, kept first.
	var hand []string
	names := newRefNamer(env)
	size := len(plainRootHeader)
	for line := range strings.SplitSeq(body, "\n") {
		ref, ok := strings.CutPrefix(line, "  - ")
		if !ok || !manifest.PlainPath(ref) {
			return nil, false
		}
		if !names.names(ref) {
			hand = append(hand, ref)
			size += len(line) + 1
		}
	}
	for _, ref := range refs {
		if !manifest.PlainPath(ref) {
			return nil, false
		}
		size += len("  - \n") + len(ref)
	}
	if len(hand)+len(refs) == 0 {
		return nil, false // YAML writes an empty list its own way
	}
	out := make([]byte, 0, size)
	out = append(out, plainRootHeader...)
	for _, list := range [][]string{hand, refs} {
		for _, ref := range list {
			out = append(out, "  - "...)
			out = append(out, ref...)
			out = append(out, '\n')
		}
	}
	return out, true
}

// RequestRefs lists the request folders (as repository paths) that the
// kustomization of env names.
func RequestRefs(env config.Environment, kustomization []byte) ([]string, error) {
	var k struct {
		Resources []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(kustomization, &k); err != nil {
		return nil, fmt.Errorf("%s/kustomization.yaml: invalid YAML: %w", env.Root, err)
	}
	var out []string
	names := newRefNamer(env)
	for _, r := range k.Resources {
		if names.names(r) {
			out = append(out, path.Join(env.Root, r))
		}
	}
	sort.Strings(out)
	return out, nil
}
