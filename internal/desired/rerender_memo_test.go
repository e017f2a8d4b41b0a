package desired

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/request"
	"github.com/gitvend/gitvend/templates"
)

// countingCatalog counts the blueprints asked of it.
type countingCatalog struct {
	Catalog
	gets atomic.Int64
}

func (c *countingCatalog) Get(name string) (*blueprint.Blueprint, error) {
	c.gets.Add(1)
	return c.Catalog.Get(name)
}

// TestRerenderMemo: a fan-out that found requests current does not render
// them again while their records, blueprints and committed files stay the
// same, and finds exactly what a Rerender without the memo finds when any
// of the three changes: a rendered file edited by hand, a record changed,
// the blueprint's files changed.
func TestRerenderMemo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.DefaultRepo()
	// web-service as the repository's own blueprint, so that a test can
	// change its files.
	own := fstest.MapFS{}
	err := fs.WalkDir(templates.FS, "web-service", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templates.FS, p)
		own[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	load := func() *countingCatalog {
		cat, err := blueprint.Load(ctx, blueprint.Builtin(), blueprint.Source{Root: "blueprints", FS: own})
		if err != nil {
			t.Fatal(err)
		}
		return &countingCatalog{Catalog: cat}
	}
	cat := load()
	var records []*request.Request
	for _, name := range []string{"one", "two", "three"} {
		r := request.New(name, request.Spec{Blueprint: "web-service", Environment: "dev", Namespace: "team-a", Owner: "a",
			Parameters: map[string]any{"image": "ghcr.io/acme/" + name + ":1.0"}})
		data, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, r.Path(), data)
		records = append(records, r)
	}
	plan, err := Build(ctx, dir, cfg, cat)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(ctx, dir, plan); err != nil {
		t.Fatal(err)
	}

	memo := &CurrentMemo{}
	same := func(what string, cat Catalog) *Rerenders {
		t.Helper()
		want, err := Rerender(ctx, dir, cfg, cat)
		if err != nil {
			t.Fatal(err)
		}
		got, err := RerenderWith(ctx, dir, cfg, cat, memo)
		if err != nil {
			t.Fatal(err)
		}
		if got.Current != want.Current || len(got.Stale) != len(want.Stale) || len(got.Failing) != len(want.Failing) {
			t.Fatalf("%s: with the memo current %d, stale %d, failing %d; without it %d, %d, %d", what,
				got.Current, len(got.Stale), len(got.Failing), want.Current, len(want.Stale), len(want.Failing))
		}
		for i := range want.Stale {
			if got.Stale[i].Path != want.Stale[i].Path || got.Stale[i].Diff != want.Stale[i].Diff {
				t.Errorf("%s: stale %d is %s, want %s", what, i, got.Stale[i].Path, want.Stale[i].Path)
			}
		}
		return got
	}
	if rr := same("first", cat); rr.Current != 3 {
		t.Fatalf("first fan-out: %d current, want 3", rr.Current)
	}
	before := cat.gets.Load()
	if _, err := RerenderWith(ctx, dir, cfg, cat, memo); err != nil {
		t.Fatal(err)
	}
	if asked := cat.gets.Load() - before; asked != 3 {
		t.Errorf("a fan-out with nothing changed asked the catalog %d times, want 3 (one look-up per request, no render)", asked)
	}

	// A rendered file edited by hand.
	svc := records[0].RenderDir() + "/service-one.yaml"
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(svc)))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, svc, []byte(strings.Replace(string(data), "ClusterIP", "NodePort", 1)))
	if rr := same("a rendered file edited", cat); len(rr.Stale) != 1 || rr.Stale[0].Path != records[0].Path() {
		t.Fatalf("after a hand edit: %+v", rr.Stale)
	}
	// A record changed (the render is now older than the record).
	r := *records[1]
	r.Spec.Parameters = map[string]any{"image": "ghcr.io/acme/two:2.0"}
	enc, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, r.Path(), enc)
	if rr := same("a record changed", cat); len(rr.Stale) != 2 {
		t.Fatalf("after a record changed: %d stale, want 2", len(rr.Stale))
	}
	// The blueprint's files changed: every request is stale.
	svcFile := own["web-service/base/service.yaml"]
	if svcFile == nil {
		t.Fatal("web-service has no base/service.yaml")
	}
	own["web-service/base/service.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(string(svcFile.Data), "    protocol: TCP\n", "    protocol: TCP\n    appProtocol: http\n", 1))}
	if rr := same("the blueprint changed", load()); len(rr.Stale) != 3 {
		t.Fatalf("after the blueprint changed: %d stale, want 3", len(rr.Stale))
	}
}

// writeFile writes data at the slash path rel under dir.
func writeFile(t *testing.T, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
