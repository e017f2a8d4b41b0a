package check

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest/stamptest"
	"github.com/gitvend/gitvend/internal/policy"
)

// TestIncrementalCheckEqualsFull checks pull requests with a checker that
// remembers the builds of its base (as the App's checkers do) and with a
// fresh one that builds everything, and wants the same report from both,
// for every kind of change: a request added, changed and removed, a
// hand-written file in an environment's root, a folder two environments
// share, gitvend.yaml and policies.
func TestIncrementalCheckEqualsFull(t *testing.T) {
	ctx := context.Background()
	baseDir := t.TempDir()
	writeRepo(t, baseDir, 40)
	appendTo := func(dir, rel, data string) {
		t.Helper()
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		writeIn(t, dir, rel, string(old)+data)
	}
	// A folder both environments include.
	writeIn(t, baseDir, "shared/kustomization.yaml", "resources:\n- config.yaml\n")
	writeIn(t, baseDir, "shared/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: team-1, labels: {gitvend.dev/owner: platform}}\ndata: {a: b}\n")
	for _, env := range synthEnvironments {
		appendTo(baseDir, "environments/"+env+"/kustomization.yaml", "- ../../shared\n")
	}

	cases := []struct {
		name      string
		reused    int // environment builds the head must take from the cache
		evaluated int // objects the local policies may evaluate at most
		change    func(head string)
		want      func(t *testing.T, rep *Report)
	}{
		{"request added", 1, 1, func(head string) {
			folder := "requests/dev/team-3/new-app"
			writeIn(t, head, folder+"/kustomization.yaml", "resources:\n- deployment.yaml\n")
			writeIn(t, head, folder+"/deployment.yaml", synthDeployment("new-app", "team-3", "1.0"))
			appendTo(head, "environments/dev/kustomization.yaml", "- ../../"+folder+"\n")
		}, func(t *testing.T, rep *Report) {
			if rep.Change.Added != 1 {
				t.Errorf("change %+v, want one added", rep.Change)
			}
		}},
		{"request changed", 1, 1, func(head string) {
			writeIn(t, head, "requests/prod/team-1/app-1/deployment.yaml", synthDeployment("app-1", "team-1", "2.0"))
		}, func(t *testing.T, rep *Report) {
			if rep.Change.Changed != 1 {
				t.Errorf("change %+v, want one changed", rep.Change)
			}
		}},
		{"request changed to be denied", 1, 1, func(head string) {
			writeIn(t, head, "requests/dev/team-2/app-2/deployment.yaml",
				strings.Replace(synthDeployment("app-2", "team-2", "2.0"), "runAsNonRoot: true", "runAsNonRoot: false", 1))
		}, func(t *testing.T, rep *Report) {
			if rep.Change.Changed != 1 || len(rep.Violations) == 0 {
				t.Errorf("change %+v, violations %v: want one changed and a finding", rep.Change, rep.Violations)
			}
		}},
		{"request removed", 1, 0, func(head string) {
			if err := os.RemoveAll(filepath.Join(head, "requests/dev/team-4/app-4")); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(head, "requests/dev/team-4/app-4.yaml")); err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(head, "environments/dev/kustomization.yaml")
			data, _ := os.ReadFile(root)
			writeIn(t, head, "environments/dev/kustomization.yaml", strings.Replace(string(data), "- ../../requests/dev/team-4/app-4\n", "", 1))
		}, func(t *testing.T, rep *Report) {
			if rep.Change.Removed != 2 {
				t.Errorf("change %+v, want two removed", rep.Change)
			}
		}},
		{"request record names another owner", 0, 2, func(head string) {
			rec := "requests/dev/team-2/app-2.yaml"
			writeIn(t, head, rec, strings.Replace(readFile(t, filepath.Join(head, rec)), "owner: platform", "owner: intruder", 1))
		}, func(t *testing.T, rep *Report) {
			if rep.Passed {
				t.Errorf("a request owned by a team gitvend.yaml does not declare passed: %v", rep.Violations)
			}
		}},
		{"hand-written file in a root", 1, 1, func(head string) {
			writeIn(t, head, "environments/prod/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: team-5}\ndata: {a: b}\n")
			appendTo(head, "environments/prod/kustomization.yaml", "- extra.yaml\n")
		}, func(t *testing.T, rep *Report) {
			if rep.Change.Added != 1 {
				t.Errorf("change %+v, want one added", rep.Change)
			}
		}},
		{"shared folder changed", 0, 2, func(head string) {
			writeIn(t, head, "shared/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: team-1, labels: {gitvend.dev/owner: platform}}\ndata: {a: c}\n")
		}, func(t *testing.T, rep *Report) {
			if rep.Change.Changed == 0 {
				t.Errorf("change %+v, want the shared object changed", rep.Change)
			}
		}},
		{"gitvend.yaml changed", 2, 0, func(head string) {
			appendTo(head, "gitvend.yaml", "budgets:\n- owner: platform\n  monthly: 1\n")
		}, nil}, // judged with the base's settings, as every pull request
		{"environment root moved", 1, 200, func(head string) {
			if err := os.Rename(filepath.Join(head, "environments/prod"), filepath.Join(head, "envs-prod")); err != nil {
				t.Fatal(err)
			}
			writeIn(t, head, "envs-prod/kustomization.yaml", strings.ReplaceAll(readFile(t, filepath.Join(head, "envs-prod/kustomization.yaml")), "../../", "../"))
			appendTo(head, "gitvend.yaml", "") // the roots below
			data := readFile(t, filepath.Join(head, "gitvend.yaml"))
			writeIn(t, head, "gitvend.yaml", strings.Replace(data, "- name: prod\n", "- name: prod\n  root: envs-prod\n", 1))
		}, nil},
		{"policies changed", 2, 0, func(head string) {
			writeIn(t, head, "policies/extra.rego", "package gitvend.extra\n\ndeny contains msg if { false; msg := \"never\" }\n")
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			headDir := t.TempDir()
			if err := copyTree(baseDir, headDir); err != nil {
				t.Fatal(err)
			}
			tc.change(headDir)

			fresh, err := New(ctx, baseDir, nil)
			if err != nil {
				t.Fatal(err)
			}
			full, err := fresh.For(headDir).Check(ctx, []string{headDir}, baseDir)
			if err != nil {
				t.Fatal(err)
			}
			// The caching checker has seen the base and another pull
			// request on it before.
			caching := fresh.For(baseDir).CachingBases()
			other := t.TempDir()
			if err := copyTree(baseDir, other); err != nil {
				t.Fatal(err)
			}
			writeIn(t, other, "requests/prod/team-7/app-7/deployment.yaml", synthDeployment("app-7", "team-7", "9.9"))
			for _, dir := range []string{baseDir, other} {
				if _, err := caching.For(dir).Check(ctx, []string{dir}, baseDir); err != nil {
					t.Fatal(err)
				}
			}
			hits := caching.builds.hits
			_, missed := caching.engine.MemoStats()
			incremental, err := caching.For(headDir).Check(ctx, []string{headDir}, baseDir)
			if err != nil {
				t.Fatal(err)
			}
			// Objects seen in the base are judged from the policies'
			// memo; only new or changed ones are evaluated.
			if _, m := caching.engine.MemoStats(); m-missed > tc.evaluated {
				t.Errorf("%d objects evaluated by the local policies, want at most %d", m-missed, tc.evaluated)
			}
			if tc.reused > 0 && caching.builds.hits-hits < tc.reused {
				t.Errorf("%d environment builds reused, want at least %d", caching.builds.hits-hits, tc.reused)
			}
			if a, b := reportJSON(t, full), reportJSON(t, incremental); !bytes.Equal(a, b) {
				t.Errorf("incremental report differs from the full one:\nfull:        %s\nincremental: %s", a, b)
			}
			if full.Change == nil || full.Change.Total == 0 {
				t.Fatalf("change %+v: nothing checked", full.Change)
			}
			if tc.want != nil {
				tc.want(t, incremental)
			}

			// With stamps, as the bot checks a pull request's checkout:
			// the same report, from the folders' stamps.
			stamping := fresh.For(baseDir).CachingBases()
			for _, dir := range []string{baseDir, other} {
				if _, err := stamping.For(dir).WithStamps(stamptest.Of(t, dir)).Check(ctx, []string{dir}, baseDir); err != nil {
					t.Fatal(err)
				}
			}
			hits = stamping.builds.hits
			stamped, err := stamping.For(headDir).WithStamps(stamptest.Of(t, headDir)).Check(ctx, []string{headDir}, baseDir)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := reportJSON(t, full), reportJSON(t, stamped); !bytes.Equal(a, b) {
				t.Errorf("stamped report differs from the full one:\nfull:    %s\nstamped: %s", a, b)
			}
			if tc.reused > 0 && stamping.builds.hits-hits < tc.reused {
				t.Errorf("%d environment builds reused with stamps, want at least %d", stamping.builds.hits-hits, tc.reused)
			}
		})
	}
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func reportJSON(t *testing.T, rep *Report) []byte {
	t.Helper()
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestIncrementalCheckEqualsFullSettings checks a pull request with a
// checker whose policies' memo was filled by a check of the base under
// other settings, and with a fresh checker under the new settings, and
// wants the same report: the memo must not answer for other policies or
// params, nor for an object whose context (its owner's namespaces)
// moved in gitvend.yaml while the object stayed the same; exceptions
// apply after the memo, so it may answer then.
func TestIncrementalCheckEqualsFullSettings(t *testing.T) {
	ctx := context.Background()
	baseDir := t.TempDir()
	const requests = 20
	writeRepo(t, baseDir, requests)
	headDir := t.TempDir()
	if err := copyTree(baseDir, headDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(headDir, "requests/dev/team-2/app-2/deployment.yaml"), []byte(
		strings.Replace(synthDeployment("app-2", "team-2", "2.0"), "runAsNonRoot: true", "runAsNonRoot: false", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	base, err := New(ctx, baseDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	objects := 2 * requests
	cases := []struct {
		name   string
		change func(cfg *config.Repo, opts *policy.Options)
		hits   bool // whether the memo may answer
		want   func(t *testing.T, rep *Report)
	}{
		{"params changed", func(cfg *config.Repo, opts *policy.Options) {
			cfg.Policy.Policies = map[string]config.PolicySetting{"replica-limits": {Params: map[string]any{"max": 1}}}
		}, false, func(t *testing.T, rep *Report) {
			if len(rep.Violations) < objects/2 {
				t.Errorf("%d violations, want every Deployment over the replica limit", len(rep.Violations))
			}
		}},
		{"policies changed", func(cfg *config.Repo, opts *policy.Options) {
			opts.Extra = fstest.MapFS{"team_label.rego": {Data: []byte(`package gitvend.policies.team_label

metadata := {"id": "team-label", "severity": "deny", "title": "t", "description": "d", "fix": "f", "params": {}}

violation contains {"subject": i, "message": "no team label", "path": ["metadata"]} if {
	some i, s in input.subjects
	not s.object.metadata.labels.team
}
`)}}
		}, false, func(t *testing.T, rep *Report) {
			if len(rep.Violations) < objects {
				t.Errorf("%d violations, want one per object from the new policy", len(rep.Violations))
			}
		}},
		{"exceptions changed", func(cfg *config.Repo, opts *policy.Options) {
			cfg.Policy.Exceptions = []config.Exception{{Policy: "run-as-non-root", Kind: "Deployment", Namespace: "team-2", Name: "app-2", Reason: "legacy image"}}
		}, true, func(t *testing.T, rep *Report) {
			if len(rep.Excepted) == 0 {
				t.Errorf("no excepted finding: %+v", rep.Violations)
			}
		}},
		{"owner moved", func(cfg *config.Repo, opts *policy.Options) {
			cfg.Teams = []config.Team{{Name: "platform", Namespaces: []string{"team-1"}}}
		}, false, func(t *testing.T, rep *Report) {
			if len(rep.Violations) < objects/2 {
				t.Errorf("%d violations, want the objects outside team-1 denied", len(rep.Violations))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			memo := policy.NewMemo()
			before, err := policy.New(ctx, policy.Options{Settings: base.cfg.Policy, Memo: memo})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := NewWith(baseDir, base.cfg, before).CachingBases().Check(ctx, []string{baseDir}, baseDir); err != nil {
				t.Fatal(err)
			}
			cfg := *base.cfg
			opts := policy.Options{Memo: memo}
			tc.change(&cfg, &opts)
			opts.Settings = cfg.Policy
			after, err := policy.New(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			opts.Memo = nil
			fresh, err := policy.New(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			full, err := NewWith(baseDir, &cfg, fresh).For(headDir).Check(ctx, []string{headDir}, baseDir)
			if err != nil {
				t.Fatal(err)
			}
			h0, m0 := memo.Stats()
			incremental, err := NewWith(baseDir, &cfg, after).CachingBases().For(headDir).Check(ctx, []string{headDir}, baseDir)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := reportJSON(t, full), reportJSON(t, incremental); !bytes.Equal(a, b) {
				t.Errorf("incremental report differs from the full one:\nfull:        %s\nincremental: %s", a, b)
			}
			h, m := memo.Stats()
			switch {
			case !tc.hits && h > h0:
				t.Errorf("memo answered %d objects under other settings", h-h0)
			case tc.hits && (h-h0 != objects-1 || m-m0 != 1):
				t.Errorf("memo answered %d and evaluated %d objects, want %d and 1", h-h0, m-m0, objects-1)
			}
			tc.want(t, incremental)
		})
	}
}
