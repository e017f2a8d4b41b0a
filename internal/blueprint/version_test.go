package blueprint

import (
	"context"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitvend/gitvend/templates"
)

// withVersions copies the built-in web-service into folder web-service at
// version current, and into web-service@<v> for each kept version, each
// spec rewritten by edit.
func withVersions(t *testing.T, current int, kept map[string]int) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	copyAs := func(dir string, version int) {
		err := fs.WalkDir(templates.FS, "web-service", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(templates.FS, p)
			if err != nil {
				return err
			}
			if p == "web-service/"+SpecFile {
				data = []byte(strings.Replace(string(data), "  version: 1\n", "  version: "+itoa(version)+"\n", 1))
			}
			out[dir+strings.TrimPrefix(p, "web-service")] = &fstest.MapFile{Data: data}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	copyAs("web-service", current)
	for dir, v := range kept {
		copyAs(dir, v)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCatalogVersions(t *testing.T) {
	ctx := context.Background()
	c, err := Load(ctx, Source{Root: "blueprints", FS: withVersions(t, 3, map[string]int{"web-service@1": 1, "web-service@2": 2})})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Versions("web-service"); len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Errorf("Versions = %v, want [1 2 3]", got)
	}
	if n := len(c.List()); n != 1 {
		t.Errorf("List holds %d blueprints; kept versions are not blueprints of their own", n)
	}
	for ref, want := range map[string]int{"web-service": 3, "web-service@3": 3, "web-service@2": 2, "web-service@1": 1} {
		b, err := c.Get(ref)
		if err != nil || b.Version != want || b.Name != "web-service" {
			t.Errorf("Get(%q) = %v, %v; want version %d of web-service", ref, b, err, want)
		}
	}
	if b, _ := c.Get("web-service@2"); b.Source != "blueprints/web-service@2" || b.Ref() != "web-service@2" {
		t.Errorf("kept version: source %q, ref %q", b.Source, b.Ref())
	}
	_, err = c.Get("web-service@5")
	if err == nil || err.Error() != "blueprint web-service has no version 5; versions available: web-service@1, web-service@2, web-service@3 (current), or web-service to follow the blueprint as it changes" {
		t.Errorf("unknown version: %v", err)
	}
	if _, err := c.Get("web-service@x"); err == nil || !strings.Contains(err.Error(), "must be a whole number") {
		t.Errorf("bad version: %v", err)
	}
}

func TestCatalogKeptVersionMismatch(t *testing.T) {
	ctx := context.Background()
	for name, c := range map[string]struct {
		kept map[string]int
		want string
	}{
		"folder and spec disagree": {map[string]int{"web-service@2": 1}, `blueprints/web-service@2/blueprint.yaml:7: spec.version: must be 2, the version its folder name keeps, got 1`},
		"kept is current":          {map[string]int{"web-service@3": 3}, `keeps version 3 of blueprint "web-service", which is its current version`},
		"bad folder name":          {map[string]int{"web-service@v2": 2}, `a folder of a kept blueprint version is named <blueprint>@<version>`},
	} {
		t.Run(name, func(t *testing.T) {
			cat, err := Load(ctx, Source{Root: "blueprints", FS: withVersions(t, 3, c.kept)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: %v, want an error containing %q", err, c.want)
			}
			if _, err := cat.Get("web-service"); err != nil {
				t.Errorf("the current version still loads: %v", err)
			}
		})
	}
}

func TestSpecVersionAndChangelog(t *testing.T) {
	ctx := context.Background()
	c, err := Load(ctx, Builtin())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range c.List() {
		if b.Version != 1 || b.Changelog == "" {
			t.Errorf("built-in %s: version %d, changelog %q; every blueprint carries both", b.Name, b.Version, b.Changelog)
		}
	}
	fsys := withVersions(t, 2, nil)
	spec := fsys["web-service/"+SpecFile]
	spec.Data = []byte(strings.Replace(string(spec.Data), "changelog: First version.", "changelog: \"two\\nlines\"", 1))
	if _, err := Load(ctx, Source{Root: "blueprints", FS: fsys}); err == nil || !strings.Contains(err.Error(), "spec.changelog: must be a single line") {
		t.Errorf("a changelog of two lines: %v", err)
	}
	spec.Data = []byte(strings.Replace(string(spec.Data), "version: 2", "version: 0", 1))
	if _, err := Load(ctx, Source{Root: "blueprints", FS: fsys}); err == nil || !strings.Contains(err.Error(), "spec.version: must be a whole number from 1") {
		t.Errorf("version 0: %v", err)
	}
}
