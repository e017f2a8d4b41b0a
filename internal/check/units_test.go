package check

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/manifest/stamptest"
)

// unitsRepo is a repository of requests whose environments only list
// request folders, each built on its own: what a check can assemble from
// the commit checked before.
func unitsRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeRepo(t, dir, 40)
	// A kind gitvend does not know, whose notice a check that keeps its
	// unit must report as the whole load does.
	folder := "requests/prod/team-3/app-3"
	writeIn(t, dir, folder+"/crontab.yaml", "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: app-3\n  namespace: team-3\nspec:\n  cronSpec: \"* * * * */5\"\n")
	editIn(t, dir, folder+"/kustomization.yaml", "- service.yaml\n", "- service.yaml\n- crontab.yaml\n")
	return dir
}

// writeIn writes data to the file rel of dir, making its folders.
func writeIn(t testing.TB, dir, rel, data string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// editIn replaces old with new in the file rel of dir, which must hold it.
func editIn(t testing.TB, dir, rel, old, new string) {
	t.Helper()
	data := readFile(t, filepath.Join(dir, filepath.FromSlash(rel)))
	if !strings.Contains(data, old) {
		t.Fatalf("%s does not hold %q", rel, old)
	}
	writeIn(t, dir, rel, strings.Replace(data, old, new, 1))
}

// addRequest renders a request folder and its record into dir, and lists
// the folder in its environment's root when listed.
func addRequest(t testing.TB, dir, env, ns, name string, listed bool) {
	t.Helper()
	folder := "requests/" + env + "/" + ns + "/" + name
	writeIn(t, dir, folder+".yaml", "apiVersion: gitvend.dev/v1alpha1\nkind: Request\nmetadata:\n  name: "+name+
		"\nspec:\n  blueprint: web-service\n  environment: "+env+"\n  namespace: "+ns+"\n  owner: platform\n")
	writeIn(t, dir, folder+"/kustomization.yaml", "resources:\n- deployment.yaml\n")
	writeIn(t, dir, folder+"/deployment.yaml", synthDeployment(name, ns, "1.0"))
	if listed {
		root := "environments/" + env + "/kustomization.yaml"
		writeIn(t, dir, root, readFile(t, filepath.Join(dir, root))+"- ../../"+folder+"\n")
	}
}

// TestUnitsEqualWhole checks the head of a pull request with a checker
// that checked the commit before it (and keeps it as units) and with a
// fresh checker that loads everything, and wants the same report from
// both, for every kind of change; and wants the head assembled from the
// units exactly where that is sure to find what the whole load finds.
func TestUnitsEqualWhole(t *testing.T) {
	ctx := context.Background()
	base := unitsRepo(t)
	cases := []struct {
		name   string
		change func(t *testing.T, head string)
		units  bool // assembled from the commit before
		want   func(t *testing.T, rep *Report)
	}{
		{"request added", func(t *testing.T, head string) {
			addRequest(t, head, "dev", "team-3", "new-app", true)
		}, true, func(t *testing.T, rep *Report) {
			if rep.Change.Added != 1 {
				t.Errorf("change %+v, want one added", rep.Change)
			}
		}},
		{"request changed", func(t *testing.T, head string) {
			writeIn(t, head, "requests/prod/team-1/app-1/deployment.yaml", synthDeployment("app-1", "team-1", "2.0"))
		}, true, func(t *testing.T, rep *Report) {
			if rep.Change.Changed != 1 {
				t.Errorf("change %+v, want one changed", rep.Change)
			}
		}},
		{"request changed to be denied", func(t *testing.T, head string) {
			writeIn(t, head, "requests/dev/team-2/app-2/deployment.yaml",
				strings.Replace(synthDeployment("app-2", "team-2", "2.0"), "runAsNonRoot: true", "runAsNonRoot: false", 1))
		}, true, func(t *testing.T, rep *Report) {
			if len(rep.Violations) == 0 {
				t.Errorf("violations %v, want a finding", rep.Violations)
			}
		}},
		{"request removed", func(t *testing.T, head string) {
			if err := os.RemoveAll(filepath.Join(head, "requests/dev/team-4/app-4")); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(head, "requests/dev/team-4/app-4.yaml")); err != nil {
				t.Fatal(err)
			}
			editIn(t, head, "environments/dev/kustomization.yaml", "- ../../requests/dev/team-4/app-4\n", "")
		}, true, func(t *testing.T, rep *Report) {
			if rep.Change.Removed != 2 {
				t.Errorf("change %+v, want two removed", rep.Change)
			}
		}},
		{"record names another owner", func(t *testing.T, head string) {
			editIn(t, head, "requests/dev/team-2/app-2.yaml", "owner: platform", "owner: intruder")
		}, true, func(t *testing.T, rep *Report) {
			if rep.Passed {
				t.Errorf("a request owned by a team gitvend.yaml does not declare passed: %v", rep.Violations)
			}
		}},
		{"file added to a request folder", func(t *testing.T, head string) {
			writeIn(t, head, "requests/dev/team-0/app-0/notes.yaml", "not: listed\n")
		}, true, nil},
		{"file that holds nothing, outside the builds", func(t *testing.T, head string) {
			writeIn(t, head, "README.md", "# infra\n")
			writeIn(t, head, ".github/workflows/x.yaml", "on: push\n")
			writeIn(t, head, "docs/note.yaml", "# only a comment\n")
		}, true, nil},
		{"object outside the builds", func(t *testing.T, head string) {
			writeIn(t, head, "requests/dev/team-1/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: team-1}\ndata: {a: b}\n")
		}, false, func(t *testing.T, rep *Report) {
			if rep.Change.Added != 1 {
				t.Errorf("change %+v, want the loose object added", rep.Change)
			}
		}},
		{"request folder no root lists", func(t *testing.T, head string) {
			addRequest(t, head, "dev", "team-3", "orphan", false)
		}, false, nil},
		{"hand-written file in a root", func(t *testing.T, head string) {
			writeIn(t, head, "environments/prod/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: team-5}\ndata: {a: b}\n")
			editIn(t, head, "environments/prod/kustomization.yaml", "resources:\n", "resources:\n- extra.yaml\n")
		}, false, nil},
		{"object of another request again", func(t *testing.T, head string) {
			addRequest(t, head, "dev", "team-0", "copy", true)
			writeIn(t, head, "requests/dev/team-0/copy/deployment.yaml", synthDeployment("app-0", "team-0", "1.0"))
		}, false, func(t *testing.T, rep *Report) {
			if len(rep.Errors) == 0 {
				t.Errorf("no error for an object built twice in one environment")
			}
		}},
		{"request folder reads another", func(t *testing.T, head string) {
			addRequest(t, head, "dev", "team-3", "borrow", true)
			writeIn(t, head, "requests/dev/team-3/borrow/kustomization.yaml", "resources:\n- deployment.yaml\n- ../../team-0/app-0/service.yaml\n")
		}, false, nil},
		{"folder listed twice", func(t *testing.T, head string) {
			editIn(t, head, "environments/dev/kustomization.yaml", "resources:\n", "resources:\n- ../../requests/dev/team-4/app-4/\n")
		}, false, func(t *testing.T, rep *Report) {
			if len(rep.Errors) == 0 {
				t.Errorf("no error for a folder listed twice")
			}
		}},
		{"folder dropped from a root but kept", func(t *testing.T, head string) {
			editIn(t, head, "environments/dev/kustomization.yaml", "- ../../requests/dev/team-4/app-4\n", "")
		}, false, nil},
		{"broken manifest in a new request", func(t *testing.T, head string) {
			addRequest(t, head, "prod", "team-1", "broken", true)
			writeIn(t, head, "requests/prod/team-1/broken/deployment.yaml", "kind: [\n")
		}, false, func(t *testing.T, rep *Report) {
			if rep.Passed || len(rep.Errors) == 0 {
				t.Errorf("a broken manifest passed: %+v", rep.Errors)
			}
		}},
		{"request folder with a patch", func(t *testing.T, head string) {
			addRequest(t, head, "prod", "team-1", "patched", true)
			writeIn(t, head, "requests/prod/team-1/patched/kustomization.yaml", "resources:\n- deployment.yaml\n"+
				"patches:\n- patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 5\n  target: {kind: Deployment}\n")
		}, true, nil},
		{"root entry leaving the repository", func(t *testing.T, head string) {
			editIn(t, head, "environments/dev/kustomization.yaml", "resources:\n", "resources:\n- ../../../outside/app\n")
		}, false, func(t *testing.T, rep *Report) {
			if len(rep.Errors) == 0 {
				t.Errorf("no error for a root entry outside the repository")
			}
		}},
		{"link in a request folder", func(t *testing.T, head string) {
			if err := os.Symlink("deployment.yaml", filepath.Join(head, "requests/dev/team-0/app-0/again.yaml")); err != nil {
				t.Fatal(err)
			}
			editIn(t, head, "requests/dev/team-0/app-0/kustomization.yaml", "- service.yaml\n", "- service.yaml\n- again.yaml\n")
		}, false, nil},
		{"gitvend.yaml changed", func(t *testing.T, head string) {
			writeIn(t, head, "gitvend.yaml", readFile(t, filepath.Join(head, "gitvend.yaml"))+"budgets:\n- owner: platform\n  monthly: 1\n")
		}, false, nil},
		{"environment root no longer only lists", func(t *testing.T, head string) {
			editIn(t, head, "environments/dev/kustomization.yaml", "resources:\n", "namePrefix: x-\nresources:\n")
		}, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := t.TempDir()
			if err := copyTree(base, head); err != nil {
				t.Fatal(err)
			}
			tc.change(t, head)
			fresh, err := New(ctx, base, nil)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := fresh.For(head).Check(ctx, []string{head}, base)
			if err != nil {
				t.Fatal(err)
			}
			caching := fresh.KeepingCommits().For(base).CachingBases()
			if _, err := caching.For(base).WithStamps(stamptest.Of(t, base)).Check(ctx, []string{base}, base); err != nil {
				t.Fatal(err)
			}
			if caching.trees.latest() == nil {
				t.Fatal("the base was not kept as units")
			}
			got, err := caching.For(head).WithStamps(stamptest.Of(t, head)).Check(ctx, []string{head}, base)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := reportJSON(t, whole), reportJSON(t, got); !bytes.Equal(a, b) {
				t.Errorf("report differs from the whole load's:\nwhole: %s\nunits: %s", a, b)
			}
			if len(got.Errors) == 0 && !slices.ContainsFunc(got.Notices, func(p Problem) bool { return strings.HasPrefix(p.Message, "CronTab ") }) {
				t.Errorf("notices %v, want the CronTab's", got.Notices)
			}
			if units := caching.trees.revised == 1; units != tc.units {
				t.Errorf("assembled from the commit before: %v, want %v", units, tc.units)
			}
			if tc.want != nil {
				tc.want(t, got)
			}
		})
	}
}

// TestUnitsChain checks a run of pull requests on one base, each head
// assembled from the one checked before it (a sibling, not its base), and
// the base moving on, and wants every report to be the whole load's.
func TestUnitsChain(t *testing.T) {
	ctx := context.Background()
	base := unitsRepo(t)
	// Quotas: one the steps fill past its hard values, one they leave.
	for _, q := range []struct{ folder, ns, pods string }{{"requests/dev/team-2/app-2", "team-2", "3"}, {"requests/dev/team-0/app-0", "team-0", "50"}} {
		writeIn(t, base, q.folder+"/quota.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: "+q.ns+"}\n"+
			"spec: {hard: {pods: \""+q.pods+"\", requests.cpu: \"8\", example.com/gpus: \"1\"}}\n")
		editIn(t, base, q.folder+"/kustomization.yaml", "- service.yaml\n", "- service.yaml\n- quota.yaml\n")
	}
	fresh, err := New(ctx, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	caching := fresh.KeepingCommits().For(base).CachingBases()
	if _, err := caching.For(base).WithStamps(stamptest.Of(t, base)).Check(ctx, []string{base}, base); err != nil {
		t.Fatal(err)
	}
	steps := []func(t *testing.T, head string){
		func(t *testing.T, head string) { addRequest(t, head, "dev", "team-1", "first", true) },
		func(t *testing.T, head string) { addRequest(t, head, "dev", "team-2", "second", true) },
		func(t *testing.T, head string) {
			addRequest(t, head, "prod", "team-2", "third", true)
			editIn(t, head, "requests/dev/team-0/app-0.yaml", "owner: platform", "owner: nobody")
		},
		func(t *testing.T, head string) {
			writeIn(t, head, "requests/prod/team-1/app-1/deployment.yaml", synthDeployment("app-1", "team-1", "3.0"))
		},
	}
	for i, step := range steps {
		head := t.TempDir()
		if err := copyTree(base, head); err != nil {
			t.Fatal(err)
		}
		step(t, head)
		whole, err := fresh.For(head).Check(ctx, []string{head}, base)
		if err != nil {
			t.Fatal(err)
		}
		got, err := caching.For(head).WithStamps(stamptest.Of(t, head)).Check(ctx, []string{head}, base)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := reportJSON(t, whole), reportJSON(t, got); !bytes.Equal(a, b) {
			t.Errorf("step %d: report differs from the whole load's:\nwhole: %s\nunits: %s", i, a, b)
		}
		if caching.trees.revised != i+1 {
			t.Errorf("step %d: %d heads assembled from the one before, want %d", i, caching.trees.revised, i+1)
		}
		if i == 1 && len(got.Violations) == 0 {
			t.Errorf("step %d: a quota filled past its pods passed", i)
		}
	}
}

// BenchmarkUnitsCheck checks pull request heads of a repository of 5,000
// requests one after the other, each a request added to the base: every
// head is assembled from the one checked before, as the App checks the
// pull requests of one base.
func BenchmarkUnitsCheck(b *testing.B) {
	ctx := context.Background()
	base := b.TempDir()
	writeRepo(b, base, 5000)
	heads := make([]string, 2)
	stamps := make([]*stamptest.Stamps, 2)
	for i := range heads {
		heads[i] = b.TempDir()
		if err := copyTree(base, heads[i]); err != nil {
			b.Fatal(err)
		}
		addRequest(b, heads[i], "dev", "team-3", fmt.Sprintf("bench-%d", i), true)
		stamps[i] = stamptest.Of(b, heads[i])
	}
	fresh, err := New(ctx, base, nil)
	if err != nil {
		b.Fatal(err)
	}
	caching := fresh.KeepingCommits().For(base).CachingBases()
	if _, err := caching.For(base).WithStamps(stamptest.Of(b, base)).Check(ctx, []string{base}, base); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		h := i % 2
		i++
		rep, err := caching.For(heads[h]).WithStamps(stamps[h]).Check(ctx, []string{heads[h]}, base)
		if err != nil || rep.Change.Added != 1 {
			b.Fatalf("check: %v, change %+v", err, rep.Change)
		}
	}
	if caching.trees.revised != i {
		b.Fatalf("%d of %d heads assembled from the one before", caching.trees.revised, i)
	}
}

// TestRootRefs: a root's entries keep the folders known for them, new
// ones are added, and a root that lost more than a quarter of what was
// known is resolved afresh, so entries long gone are not kept.
func TestRootRefs(t *testing.T) {
	known := map[string]string{"../../a": "requests/dev/a", "../../b": "requests/dev/b"}
	got := rootRefs(known, []string{"../../a", "../../b", "../../c"}, []string{"requests/dev/a", "requests/dev/b", "requests/dev/c"})
	want := map[string]string{"../../a": "requests/dev/a", "../../b": "requests/dev/b", "../../c": "requests/dev/c"}
	if !maps.Equal(got, want) {
		t.Errorf("added: %v, want %v", got, want)
	}
	if len(known) != 2 {
		t.Errorf("the known entries were changed: %v", known)
	}
	got = rootRefs(want, []string{"../../c"}, []string{"requests/dev/c"})
	if want := map[string]string{"../../c": "requests/dev/c"}; !maps.Equal(got, want) {
		t.Errorf("after most entries left: %v, want %v", got, want)
	}
}

// TestBasesShareWhatTheyRememberByContent: the checker of the next base
// (after a merge) takes the folders its predecessor built from what they
// share by content, and reports what a fresh checker reports.
func TestBasesShareWhatTheyRememberByContent(t *testing.T) {
	ctx := context.Background()
	base := unitsRepo(t)
	fresh, err := New(ctx, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	keep := fresh.KeepingCommits()
	if _, err := keep.For(base).CachingBases().Check(ctx, []string{base}, base); err != nil {
		t.Fatal(err)
	}
	next := t.TempDir()
	if err := copyTree(base, next); err != nil {
		t.Fatal(err)
	}
	addRequest(t, next, "dev", "team-1", "merged", true)
	second := keep.For(next).CachingBases()
	before := second.builds.folders.Hits()
	got, err := second.Check(ctx, []string{next}, next)
	if err != nil {
		t.Fatal(err)
	}
	if second.builds.folders.Hits() == before {
		t.Error("the first check on the next base built every folder again")
	}
	whole, err := fresh.For(next).Check(ctx, []string{next}, next)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := reportJSON(t, whole), reportJSON(t, got); !bytes.Equal(a, b) {
		t.Errorf("report differs from a fresh checker's:\nfresh:  %s\nshared: %s", a, b)
	}
}
