package load

import (
	"context"
	"testing"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/desired"
)

// TestTemplateEqualsRender shows that writing a request from its
// blueprint's one render, names changed, gives byte for byte what
// desired.Render gives, for every shape of request the synthetic
// repository holds.
func TestTemplateEqualsRender(t *testing.T) {
	ctx := context.Background()
	cat, err := blueprint.Load(ctx, blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	tpl := newTemplates(cat)
	reqs := Requests(600, EnvNames(3))
	checked := map[string]int{}
	for i, r := range reqs {
		// Every team-namespace request, and a spread of web services
		// (names and images of every length the generator makes).
		if r.Spec.Blueprint != "team-namespace" && i%7 != 0 {
			continue
		}
		checked[r.Spec.Blueprint]++
		want, err := desired.Render(ctx, cat, r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tpl.render(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want.Files) {
			t.Fatalf("%s: %d files, want %d", r.Path(), len(got), len(want.Files))
		}
		for j := range got {
			if got[j].Path != want.Files[j].Path || string(got[j].Data) != string(want.Files[j].Data) {
				t.Fatalf("%s: file %s differs from the render's %s:\n%s\n--- want\n%s", r.Path(), got[j].Path, want.Files[j].Path, got[j].Data, want.Files[j].Data)
			}
		}
	}
	if checked["web-service"] < 10 || checked["scheduled-job"] < 5 || checked["team-namespace"] < 5 {
		t.Fatalf("too few requests compared: %v", checked)
	}
}
