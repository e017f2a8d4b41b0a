package manifest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// kust is an aggregating kustomization of the resources given.
func kust(resources ...string) string {
	s := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
	for _, r := range resources {
		s += "- " + r + "\n"
	}
	return s
}

// builtBy is one build of a folder: its objects, its error and what the
// tree counted.
type builtBy struct {
	objs         []Object
	err          error
	files, bytes int
}

// buildWay builds rel in a new tree on dir, by kustomize alone or as
// Build chooses; composed tells whether the composition path answered.
func buildWay(t *testing.T, dir, rel string, kustomizeOnly bool, lim Limits) (b builtBy, composed bool) {
	t.Helper()
	tree, err := OpenTree(context.Background(), dir, lim)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	tree.kustomizeOnly = kustomizeOnly
	if !kustomizeOnly {
		probe, err := OpenTree(context.Background(), dir, lim)
		if err != nil {
			t.Fatal(err)
		}
		res, fi, err := probe.resolve(filepath.Clean(filepath.FromSlash(rel)))
		if err == nil && fi != nil && fi.IsDir() && probe.vet(res, map[string]bool{}) == nil {
			_, cerr := probe.compose(res)
			composed = cerr == nil
		}
		probe.Close()
	}
	b.objs, b.err = tree.Build(rel)
	b.files, b.bytes = tree.files, int(tree.bytes)
	return b, composed
}

// sameBuild fails t unless the two builds agree on objects, contents,
// files, lines, field lines, order and errors.
func sameBuild(t *testing.T, name string, fast, slow builtBy) {
	t.Helper()
	if (fast.err == nil) != (slow.err == nil) || fast.err != nil && fast.err.Error() != slow.err.Error() {
		t.Errorf("%s: error\n composed:  %v\n kustomize: %v", name, fast.err, slow.err)
		return
	}
	if len(fast.objs) != len(slow.objs) {
		t.Errorf("%s: %d objects composed, %d by kustomize", name, len(fast.objs), len(slow.objs))
		return
	}
	for i := range fast.objs {
		f, s := fast.objs[i], slow.objs[i]
		if f.ID != s.ID || f.File != s.File || f.Line != s.Line {
			t.Errorf("%s: object %d\n composed:  %v %s:%d\n kustomize: %v %s:%d", name, i, f.ID, f.File, f.Line, s.ID, s.File, s.Line)
			continue
		}
		if !reflect.DeepEqual(f.Content, s.Content) {
			t.Errorf("%s: %v content\n composed:  %#v\n kustomize: %#v", name, f.ID, f.Content, s.Content)
		}
		for _, p := range [][]any{{"metadata", "name"}, {"metadata", "namespace"}, {"kind"}, {"spec"}, {"data"}} {
			if fl, sl := f.FieldLine(p...), s.FieldLine(p...); fl != sl {
				t.Errorf("%s: %v line of %v: composed %d, kustomize %d", name, f.ID, p, fl, sl)
			}
		}
	}
	if fast.err == nil && fast.bytes > slow.bytes {
		t.Errorf("%s: composed read %d bytes, more than kustomize's %d", name, fast.bytes, slow.bytes)
	}
}

// equivalenceCases are repositories built both ways; compose tells
// whether the composition path must answer (false: it must give the
// build to kustomize).
var equivalenceCases = []struct {
	name    string
	files   map[string]string
	root    string
	compose bool
}{
	{"one file", map[string]string{"env/kustomization.yaml": kust("a.yaml"), "env/a.yaml": cm("a")}, "env", true},
	{"request folders", map[string]string{
		"env/kustomization.yaml":   kust("extra.yaml", "../req/b", "../req/a"),
		"env/extra.yaml":           cm("extra"),
		"req/a/kustomization.yaml": kust("cm.yaml", "svc.yaml"),
		"req/a/cm.yaml":            cm("a") + "---\n" + cm("a2"),
		"req/a/svc.yaml":           "# a comment\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: a\nspec:\n  ports:\n  - port: 80\n",
		"req/b/kustomization.yaml": kust("cm.yaml"),
		"req/b/cm.yaml":            "---\n---\n" + cm("b") + "---\n# only a comment\n",
	}, "env", true},
	{"nested folders", map[string]string{
		"env/kustomization.yaml":        kust("team"),
		"env/team/kustomization.yaml":   kust("a", "../../shared"),
		"env/team/a/kustomization.yaml": kust("x.yaml"),
		"env/team/a/x.yaml":             cm("x"),
		"shared/kustomization.yaml":     kust("y.yml"),
		"shared/y.yml":                  cm("y"),
	}, "env", true},
	{"yaml 1.1 oddities", map[string]string{
		"env/kustomization.yaml": kust("pod.yaml"),
		"env/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a, labels: {on: 'x'}}\nspec:\n  hostNetwork: yes\n  hostPID: off\n" +
			"  containers:\n  - name: c\n    tty: on\n    stdin: No\n    args: [yes, no, on, off, 0777, 1e3, ~, 0x1F, -.5, '', null, 12345678901]\n" +
			"    env:\n    - {name: A, value: yes}\n    - name: B\n      value:\n  volumes:\n  - name: v\n    configMap: {name: c, defaultMode: 0644, optional: y}\n",
	}, "env", true},
	{"same kind and name in two namespaces of one file", map[string]string{
		"env/kustomization.yaml": kust("r.yaml"),
		"env/r.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: admin, namespace: a}\n---\n" +
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: admin, namespace: b}\n---\n" +
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: admin2, namespace: b}\n",
	}, "env", true},
	{"default namespace spelled both ways", map[string]string{
		"env/kustomization.yaml": kust("a.yaml", "b.yaml"),
		"env/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
		"env/b.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\n",
	}, "env", false},
	{"cluster-scoped kind in two namespaces", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, namespace: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x, namespace: b}\n",
	}, "env", false},
	{"same name, other version", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: example.com/v1\nkind: W\nmetadata: {name: x, namespace: a}\n---\napiVersion: example.com/v2\nkind: W\nmetadata: {name: x, namespace: a}\n",
	}, "env", true},
	{"duplicate across folders", map[string]string{
		"env/kustomization.yaml": kust("../a", "../b"),
		"a/kustomization.yaml":   kust("cm.yaml"), "a/cm.yaml": cm("same"),
		"b/kustomization.yaml": kust("cm.yaml"), "b/cm.yaml": cm("same"),
	}, "env", false},
	{"folder reached twice", map[string]string{
		"env/kustomization.yaml": kust("../a", "../b"),
		"a/kustomization.yaml":   kust("../c"),
		"b/kustomization.yaml":   kust("../c"),
		"c/kustomization.yaml":   kust("cm.yaml"), "c/cm.yaml": cm("c"),
	}, "env", false},
	{"empty folder reached twice", map[string]string{
		"env/kustomization.yaml": kust("../c", "../c"),
		"c/kustomization.yaml":   "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
	}, "env", true},
	{"cycle", map[string]string{
		"env/kustomization.yaml": kust("../a"),
		"a/kustomization.yaml":   kust("../env"),
	}, "env", false},
	{"List", map[string]string{
		"env/kustomization.yaml": kust("l.yaml"),
		"env/l.yaml":             "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(cm("i")), "\n", "\n  ") + "\n",
	}, "env", false},
	{"ConfigMapList", map[string]string{
		"env/kustomization.yaml": kust("l.yaml"),
		"env/l.yaml":             "apiVersion: v1\nkind: ConfigMapList\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(cm("i")), "\n", "\n  ") + "\n",
	}, "env", false},
	{"no kind", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: v1\nmetadata: {name: a}\n",
	}, "env", false},
	{"no name", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: a}\n",
	}, "env", false},
	{"missing file", map[string]string{"env/kustomization.yaml": kust("a.yaml")}, "env", false},
	{"folder without kustomization", map[string]string{
		"env/kustomization.yaml": kust("../a"), "a/cm.yaml": cm("a"),
	}, "env", false},
	{"file outside the folder", map[string]string{
		"env/kustomization.yaml": kust("../a/cm.yaml"), "a/cm.yaml": cm("a"),
	}, "env", false},
	{"transformer", map[string]string{
		"env/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: z\nresources:\n- ../a\n",
		"a/kustomization.yaml":   kust("cm.yaml"), "a/cm.yaml": cm("a"),
	}, "env", false},
	{"transformer below", map[string]string{
		"env/kustomization.yaml": kust("../a", "../b"),
		"a/kustomization.yaml":   "resources: [cm.yaml]\ncommonLabels: {x: y}\n", "a/cm.yaml": cm("a"),
		"b/kustomization.yaml": kust("cm.yaml"), "b/cm.yaml": cm("b"),
	}, "env", false},
	{"no apiVersion and kind", map[string]string{
		"env/kustomization.yaml": "resources:\n- a.yaml\n", "env/a.yaml": cm("a"),
	}, "env", true},
	{"anchors", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: &l {x: y}, annotations: *l}\n",
	}, "env", false},
	{"timestamp", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {when: 2024-01-02}\n",
	}, "env", false},
	{"empty annotations and labels", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {}, labels: {}}\n",
	}, "env", false},
	{"null values", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: n}\nspec:\n  replicas: null\n  template:\n    spec: ~\n",
	}, "env", true},
	{"null document", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "null\n---\n" + cm("a"),
	}, "env", true},
	{"remote", map[string]string{
		"env/kustomization.yaml": kust("../a"),
		"a/kustomization.yaml":   kust("https://example.com/x.yaml"),
	}, "env", false},
	{"two kustomization files", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"), "env/kustomization.yml": kust("a.yaml"), "env/a.yaml": cm("a"),
	}, "env", false},
	{"Kustomization and kustomization.yml", map[string]string{
		"env/Kustomization": kust("../a/"), "a/kustomization.yml": kust("./cm.yaml", "sub/../more.yaml"),
		"a/cm.yaml": cm("a"), "a/more.yaml": cm("more"),
	}, "env", true},
	{"file listed twice", map[string]string{
		"env/kustomization.yaml": kust("a.yaml", "./a.yaml"), "env/a.yaml": cm("a"),
	}, "env", false},
	{"number out of range", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nspec: {big: 99999999999999999999, inf: .inf}\n",
	}, "env", false},
	{"annotation kustomize sets", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {config.kubernetes.io/index: '3'}}\n",
	}, "env", false},
	{"annotations and labels of strings", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {note: \"yes\"}, labels: {'app': web}}\n",
	}, "env", true},
	{"numbers in labels", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {tier: 1}}\n",
	}, "env", false},
	{"CRLF, quoted keys and unicode", map[string]string{
		"env/kustomization.yaml": strings.ReplaceAll(kust("a.yaml"), "\n", "\r\n"),
		"env/a.yaml":             "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {\"name\": a}\r\ndata:\r\n  'ключ': \"värde ✓\"\r\n  block: |\r\n    two\r\n    lines\r\n",
	}, "env", true},
	{"kustomization with two documents", map[string]string{
		"env/kustomization.yaml": kust("a.yaml") + "---\n" + kust("a.yaml"), "env/a.yaml": cm("a"),
	}, "env", false},
	{"null resources", map[string]string{
		"env/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
	}, "env", false},
	{"no documents", map[string]string{
		"env/kustomization.yaml": kust("a.yaml"),
		"env/a.yaml":             "# nothing yet\n",
	}, "env", true},
}

// TestComposeMatchesKustomize builds every case both ways and requires
// the same objects, contents, files, lines, order and errors, and that
// the composition path answers exactly where it is meant to.
func TestComposeMatchesKustomize(t *testing.T) {
	for _, c := range equivalenceCases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, c.files)
			fast, composed := buildWay(t, dir, c.root, false, Limits{})
			slow, _ := buildWay(t, dir, c.root, true, Limits{})
			sameBuild(t, c.name, fast, slow)
			if composed != c.compose {
				t.Errorf("composed = %v, want %v (kustomize: %d objects, %v)", composed, c.compose, len(slow.objs), slow.err)
			}
		})
	}
}

// TestComposeLinks checks that links keep their refusals, and that a
// link to a file (allowed) goes to kustomize.
func TestComposeLinks(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"env/kustomization.yaml":     kust("../a", "link.yaml"),
		"a/kustomization.yaml":       kust("cm.yaml"),
		"a/cm.yaml":                  cm("a"),
		"other.yaml":                 cm("o"),
		"bad/kustomization.yaml":     kust("../linked"),
		"out/kustomization.yaml":     kust("secret.yaml"),
		"real/kustomization.yaml":    kust("cm.yaml"),
		"real/cm.yaml":               cm("r"),
		"viafile/kustomization.yaml": kust("f.yaml"),
	})
	link(t, dir, "env/link.yaml", "../other.yaml")
	link(t, dir, "linked", "real")
	link(t, dir, "out/secret.yaml", "/etc/hostname")
	link(t, dir, "viafile/f.yaml", "../a/cm.yaml")
	for _, root := range []string{"env", "bad", "out", "viafile"} {
		fast, composed := buildWay(t, dir, root, false, Limits{})
		slow, _ := buildWay(t, dir, root, true, Limits{})
		sameBuild(t, root, fast, slow)
		if composed {
			t.Errorf("%s: composed through a link", root)
		}
	}
}

// TestComposeSynthetic builds repositories of many request folders, with
// several documents per file, both ways.
func TestComposeSynthetic(t *testing.T) {
	for _, n := range []int{1, 7, 40} {
		files := map[string]string{}
		var folders []string
		for i := 0; i < n; i++ {
			req := fmt.Sprintf("requests/dev/team-%d/app-%d", i%3, i)
			folders = append(folders, "../../"+req)
			files[req+"/kustomization.yaml"] = kust("cm.yaml", "deploy.yaml")
			files[req+"/cm.yaml"] = cm(fmt.Sprintf("app-%d", i)) + "---\n" + cm(fmt.Sprintf("app-%d-extra", i))
			files[req+"/deploy.yaml"] = fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%d\n  namespace: team-%d\n"+
				"spec:\n  replicas: %d\n  template:\n    spec:\n      automountServiceAccountToken: no\n      containers:\n      - name: c\n        image: x:%d\n", i, i%3, i%4, i)
		}
		files["environments/dev/kustomization.yaml"] = kust(folders...)
		dir := writeTree(t, files)
		fast, composed := buildWay(t, dir, "environments/dev", false, Limits{})
		slow, _ := buildWay(t, dir, "environments/dev", true, Limits{})
		sameBuild(t, fmt.Sprintf("%d requests", n), fast, slow)
		if !composed || len(fast.objs) != 3*n {
			t.Errorf("%d requests: composed %v, %d objects", n, composed, len(fast.objs))
		}
	}
}

// TestComposeProjectKustomizations builds every kustomization of the
// project (examples, templates, deployment, test data) both ways, from
// the root of the module.
func TestComposeProjectKustomizations(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && isKustomizationName(d.Name()) {
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			dirs = append(dirs, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(dirs)
	if len(dirs) < 10 {
		t.Fatalf("found only %d kustomizations under %s", len(dirs), root)
	}
	composedAny := false
	for _, rel := range dirs {
		fast, composed := buildWay(t, root, rel, false, Limits{})
		slow, _ := buildWay(t, root, rel, true, Limits{})
		sameBuild(t, rel, fast, slow)
		composedAny = composedAny || composed
	}
	if !composedAny {
		t.Error("no kustomization of the project was composed")
	}
}

// TestComposeLimits checks that the limits of a tree stop a composed
// build as they stop kustomize's.
func TestComposeLimits(t *testing.T) {
	files := map[string]string{"env/kustomization.yaml": kust("../a", "../b")}
	for _, f := range []string{"a", "b"} {
		files[f+"/kustomization.yaml"] = kust("cm.yaml")
		files[f+"/cm.yaml"] = cm(f)
	}
	dir := writeTree(t, files)
	for _, lim := range []Limits{{Objects: 1}, {Files: 2}, {Bytes: 100}, {Depth: 1}} {
		fast, _ := buildWay(t, dir, "env", false, lim)
		slow, _ := buildWay(t, dir, "env", true, lim)
		if fast.err == nil || slow.err == nil {
			t.Errorf("limits %+v: composed %v, kustomize %v; want both stopped", lim, fast.err, slow.err)
		}
	}
}

// TestComposeCache checks that a folder built in one tree is not decoded
// again in another tree with the same files, and that a change to one
// folder rebuilds only it.
func TestComposeCache(t *testing.T) {
	files := map[string]string{"env/kustomization.yaml": kust("../a", "../b", "../c")}
	for _, f := range []string{"a", "b", "c"} {
		files[f+"/kustomization.yaml"] = kust("cm.yaml")
		files[f+"/cm.yaml"] = cm(f)
	}
	base := writeTree(t, files)
	files["b/cm.yaml"] = cm("b") + "data: {changed: 'yes'}\n"
	head := writeTree(t, files)
	cache := NewBuildCache(16)
	build := func(dir string) []Object {
		tree, err := OpenTree(context.Background(), dir, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer tree.Close()
		tree.UseCache(cache)
		objs, err := tree.Build("env")
		if err != nil {
			t.Fatal(err)
		}
		again, err := tree.Build("env") // from the tree's memory
		if err != nil || !reflect.DeepEqual(objs, again) {
			t.Fatalf("second build of one tree differs: %v", err)
		}
		return objs
	}
	build(base)[0].Content["mutated"] = true // the caller's copy only
	hits := cache.Hits()
	got := build(head)
	if d := cache.Hits() - hits; d != 2 {
		t.Errorf("head build: %d folders from the cache, want 2 (a and c)", d)
	}
	want, _ := buildWay(t, head, "env", true, Limits{})
	sameBuild(t, "head", builtBy{objs: unmutated(got)}, want)
	fromBase := build(base)
	if _, ok := fromBase[0].Content["mutated"]; ok {
		t.Error("a caller's change reached the cache")
	}
	for _, o := range fromBase {
		if !strings.HasPrefix(o.File, base) {
			t.Errorf("%v named in %s, not in the tree built", o.ID, o.File)
		}
	}
}

// TestComposeCacheReadOnly checks that a tree whose caller only reads
// gets the cache's objects without copies, equal to the copies others get.
func TestComposeCacheReadOnly(t *testing.T) {
	files := map[string]string{"env/kustomization.yaml": kust("../a", "../b")}
	for _, f := range []string{"a", "b"} {
		files[f+"/kustomization.yaml"] = kust("cm.yaml")
		files[f+"/cm.yaml"] = cm(f)
	}
	dir := writeTree(t, files)
	cache := NewBuildCache(16)
	build := func(readOnly bool) []Object {
		tree, err := OpenTree(context.Background(), dir, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer tree.Close()
		tree.UseCache(cache)
		if readOnly {
			tree.ReadOnly()
		}
		objs, err := tree.Build("env")
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	copied := build(false)
	first, second := build(true), build(true)
	if !reflect.DeepEqual(copied, first) {
		t.Fatalf("read-only build differs from the copying one:\n%v\n%v", first, copied)
	}
	for i := range first {
		if !sameMap(first[i].Content, second[i].Content) {
			t.Errorf("%v: read-only builds got copies of the cached content", first[i].ID)
		}
		if sameMap(first[i].Content, copied[i].Content) {
			t.Errorf("%v: a copying build shares the cached content", first[i].ID)
		}
		if first[i].Digest() != copied[i].Digest() {
			t.Errorf("%v: digests differ", first[i].ID)
		}
	}
}

func unmutated(objs []Object) []Object {
	for _, o := range objs {
		delete(o.Content, "mutated")
	}
	return objs
}

// TestComposeStopped checks that a cancelled build reports the context's
// error, not kustomize's.
func TestComposeStopped(t *testing.T) {
	dir := writeTree(t, map[string]string{"env/kustomization.yaml": kust("a.yaml"), "env/a.yaml": cm("a")})
	ctx, cancel := context.WithCancel(context.Background())
	tree, err := OpenTree(ctx, dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	cancel()
	if _, err := tree.Build("env"); !errors.Is(err, context.Canceled) {
		t.Errorf("Build after cancel = %v, want context.Canceled", err)
	}
	_ = os.Remove(dir)
}

// docPool are documents, plain and odd, that the random repositories of
// TestComposeRandomRepos are made of; %d is replaced by a small number so
// that names sometimes collide.
var docPool = []string{
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: a}\ndata: {k: v}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: b\n  labels: {app: x}\n",
	"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d-%d, namespace: a}\nspec:\n  paused: yes\n  replicas: 0777\n  template: {spec: {hostNetwork: off, containers: [{name: c, args: [on, 1e3, ~]}]}}\n",
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-%d}\n",
	"# comment only\n",
	"null\n",
	"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s-%d, namespace: a}}\n",
	"apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d, namespace: a, annotations: {x: &a y, z: *a}}\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: a}\n",
}

// TestComposeRandomRepos builds random repositories of nested folders
// and multi-document files both ways.
func TestComposeRandomRepos(t *testing.T) {
	composedN := 0
	for seed := int64(0); seed < 60; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		n := 2 + rng.IntN(6)
		files := map[string]string{}
		for i := 0; i < n; i++ {
			var res []string
			for f := 0; f < rng.IntN(3); f++ {
				name := fmt.Sprintf("f%d.yaml", f)
				var docs []string
				for d := 0; d < 1+rng.IntN(3); d++ {
					pool := docPool
					if rng.IntN(4) > 0 {
						pool = docPool[:4] // mostly plain documents
					}
					docs = append(docs, strings.ReplaceAll(pool[rng.IntN(len(pool))], "%d", fmt.Sprint(rng.IntN(20))))
				}
				files[fmt.Sprintf("k%d/%s", i, name)] = strings.Join(docs, "---\n")
				res = append(res, name)
			}
			for j := i + 1; j < n; j++ {
				if rng.IntN(3) == 0 {
					res = append(res, fmt.Sprintf("../k%d", j))
				}
			}
			rng.Shuffle(len(res), func(a, b int) { res[a], res[b] = res[b], res[a] })
			files[fmt.Sprintf("k%d/kustomization.yaml", i)] = kust(res...)
		}
		dir := writeTree(t, files)
		fast, composed := buildWay(t, dir, "k0", false, Limits{})
		slow, _ := buildWay(t, dir, "k0", true, Limits{})
		sameBuild(t, fmt.Sprintf("seed %d", seed), fast, slow)
		if composed {
			composedN++
		}
	}
	if composedN < 10 {
		t.Errorf("only %d of 60 random repositories were composed", composedN)
	}
	t.Logf("%d of 60 random repositories composed", composedN)
}

// TestComposeConcurrentBuilds builds environments that share folders in
// parallel on one tree with a cache, as a check builds environments.
func TestComposeConcurrentBuilds(t *testing.T) {
	files := map[string]string{}
	for _, env := range []string{"dev", "prod", "qa", "stage"} {
		files["environments/"+env+"/kustomization.yaml"] = kust("../../shared", "../../"+env)
		files[env+"/kustomization.yaml"] = kust("cm.yaml")
		files[env+"/cm.yaml"] = cm(env)
	}
	files["shared/kustomization.yaml"] = kust("cm.yaml")
	files["shared/cm.yaml"] = cm("shared")
	dir := writeTree(t, files)
	tree, err := OpenTree(context.Background(), dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	envs := []string{"dev", "prod", "qa", "stage"}
	got := make([][]Object, len(envs))
	errs := make([]error, len(envs))
	done := make(chan int)
	for i, env := range envs {
		go func() {
			tree.UseCache(NewBuildCache(8))
			got[i], errs[i] = tree.Build("environments/" + env)
			done <- i
		}()
	}
	for range envs {
		<-done
	}
	for i, env := range envs {
		want, _ := buildWay(t, dir, "environments/"+env, true, Limits{})
		sameBuild(t, env, builtBy{objs: got[i], err: errs[i]}, want)
	}
}

// BenchmarkBuild builds an environment of 1,000 objects in four files of
// one kustomization, and one of 500 request folders of two objects each,
// composed and through kustomize.
func BenchmarkBuild(b *testing.B) {
	flat := map[string]string{}
	var names []string
	for f := range 4 {
		var docs []string
		for i := range 250 {
			docs = append(docs, fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: obj-%04d\n  namespace: ns-%d\n"+
				"  labels: {app: obj-%04d}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: obj-%04d}}\n  template:\n"+
				"    metadata: {labels: {app: obj-%04d}}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.27\n"+
				"        resources: {requests: {cpu: 10m, memory: 16Mi}}\n", i, f, i, i, i))
		}
		name := fmt.Sprintf("ns-%d.yaml", f)
		flat["env/"+name] = strings.Join(docs, "---\n")
		names = append(names, name)
	}
	flat["env/kustomization.yaml"] = kust(names...)
	folders := map[string]string{}
	var refs []string
	for i := range 500 {
		req := fmt.Sprintf("requests/app-%d", i)
		refs = append(refs, "../"+req)
		folders[req+"/kustomization.yaml"] = kust("cm.yaml", "svc.yaml")
		folders[req+"/cm.yaml"] = cm(fmt.Sprintf("app-%d", i))
		folders[req+"/svc.yaml"] = fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: app-%d, namespace: a}\nspec: {ports: [{port: 80}]}\n", i)
	}
	folders["env/kustomization.yaml"] = kust(refs...)
	for _, shape := range []struct {
		name  string
		files map[string]string
	}{{"objects=1000/files=4", flat}, {"requests=500", folders}} {
		dir := b.TempDir()
		for name, content := range shape.files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		for _, way := range []string{"composed", "kustomize"} {
			b.Run(shape.name+"/"+way, func(b *testing.B) {
				for b.Loop() {
					tree, err := OpenTree(context.Background(), dir, Limits{})
					if err != nil {
						b.Fatal(err)
					}
					tree.kustomizeOnly = way == "kustomize"
					if _, err := tree.Build("env"); err != nil {
						b.Fatal(err)
					}
					tree.Close()
				}
			})
		}
	}
}

// TestAggregatedLinesAsYAML reads kustomizations line by line and as
// YAML, and wants the same resources wherever the line reader answers,
// and an answer for the roots gitvend writes.
func TestAggregatedLinesAsYAML(t *testing.T) {
	gitvend := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../requests/dev/ns/a\n  - ../../requests/dev/ns/b_2.x\n"
	cases := map[string]bool{ // the text, and whether the line reader must answer
		gitvend:                         true,
		"resources:\n- ../a/b\n- c/d\n": true,
		"kind: Kustomization\nresources:\n    - x/y\napiVersion: kustomize.config.k8s.io/v1beta1\n": true,
		"resources:\n- a/b\n  - c/d\n":                     false, // two indents
		"resources:\n- a/b\n\n- c/d\n":                     false,
		"resources:\n- a/b # note\n":                       false,
		"resources:\n- 'a/b'\n":                            false,
		"resources:\n- \"a/b\"\n":                          false,
		"resources:\n- a\n":                                false, // no slash
		"resources:\n- true\n":                             false,
		"resources:\n- github.com/acme/repo\n":             false,
		"resources:\n- /abs/path\n":                        false,
		"resources:\n- a/*\n":                              false,
		"resources:\n- -a/b\n":                             false,
		"resources:\n":                                     false,
		"resources:\n- a/b":                                false, // no last newline
		"resources:\n- a/b\r\n":                            false,
		"resources:\n- a/b\nresources:\n- c/d\n":           false,
		"namePrefix: x-\nresources:\n- a/b\n":              false,
		"kind: Component\nresources:\n- a/b\n":             false,
		"apiVersion: v1\nresources:\n- a/b\n":              false,
		"resources:\n- a/b\n---\nresources:\n- c/d\n":      false,
		"resources: &r\n- a/b\n":                           false,
		"resources:\n- a/b\n- ./c/d/../e\n- x.y/z-1/w_2\n": true,
		"resources:\n  - a/b\n  -  c/d\n":                  false,
		"resources:\n- a/b\nkind: Kustomization\n":         true,
		"resources:\n- a/b\nkind: Kustomization\n- c/d\n":  false,
		"apiVersion: kustomize.config.k8s.io/v1beta1\napiVersion: kustomize.config.k8s.io/v1beta1\nresources:\n- a/b\n": false,
	}
	for text, answers := range cases {
		got, ok := aggregatedLines([]byte(text))
		if ok != answers {
			t.Errorf("%q: line reader answers %v, want %v", text, ok, answers)
		}
		if !ok {
			continue
		}
		want, err := aggregatedYAML([]byte(text))
		if err != nil {
			t.Errorf("%q: lines give %q, YAML no aggregation: %v", text, got, err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: lines give %q, YAML %q", text, got, want)
		}
	}
}
