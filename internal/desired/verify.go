package desired

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"golang.org/x/sync/errgroup"

	"github.com/gitvend/gitvend/internal/admission"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/request"
)

// Finding is one way a repository differs from a fresh render of its requests.
type Finding struct {
	// Path is the repository path at fault.
	Path string `json:"path"`
	// Msg says what is wrong and how to fix it.
	Msg string `json:"message"`
	// Diff is a unified diff from the committed file to the fresh render,
	// when the file exists on both sides.
	Diff string `json:"diff,omitempty"`
}

// Plan is the state a repository should have: every request rendered, and
// every environment root naming exactly its requests.
type Plan struct {
	Records  []Record
	Rendered []*Rendered
	// Failed maps a record path to why it could not be rendered.
	Failed map[string]error
	// Roots are the environment kustomizations as they should be, by path.
	Roots map[string][]byte
}

// Build renders every request of the repository in dir. Requests are
// rendered in parallel, at most GOMAXPROCS at a time; the plan lists them
// in the order of Requests whichever ends first.
func Build(ctx context.Context, dir string, cfg *config.Repo, cat Catalog) (*Plan, error) {
	records, err := Requests(dir)
	if err != nil {
		return nil, err
	}
	p := &Plan{Records: records, Failed: map[string]error{}, Roots: map[string][]byte{}}
	rendered := make([]*Rendered, len(records))
	failed := make([]error, len(records))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, rec := range records {
		if rec.Err != nil {
			failed[i] = rec.Err
			continue
		}
		if _, err := admission.Environment(cfg, rec.Request.Spec.Environment); err != nil {
			failed[i] = err
			continue
		}
		g.Go(func() error {
			rendered[i], failed[i] = Render(ctx, cat, rec.Request)
			return nil
		})
	}
	_ = g.Wait() // each render keeps its own error
	dirsByEnv := map[string][]string{}
	for i, rec := range records {
		if failed[i] != nil {
			p.Failed[rec.Path] = failed[i]
			continue
		}
		p.Rendered = append(p.Rendered, rendered[i])
		dirsByEnv[rec.Request.Spec.Environment] = append(dirsByEnv[rec.Request.Spec.Environment], rec.Request.RenderDir())
	}
	for _, env := range cfg.Environments {
		rootFile := path.Join(env.Root, "kustomization.yaml")
		existing, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rootFile)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read environment root: %w", err)
		}
		if existing == nil && len(dirsByEnv[env.Name]) == 0 {
			continue
		}
		root, err := EnvironmentRoot(env, existing, dirsByEnv[env.Name])
		if err != nil {
			return nil, err
		}
		p.Roots[rootFile] = root
	}
	return p, nil
}

// Verify compares the repository in dir with a fresh render of its
// requests. It reports records that do not parse or render, rendered files
// that are missing, stale or hand-edited, files in rendered folders that no
// blueprint produced, rendered folders without a record, and environment
// roots that do not name exactly their requests. No findings means the
// repository is clean.
func Verify(ctx context.Context, dir string, cfg *config.Repo, cat Catalog) ([]Finding, error) {
	p, err := Build(ctx, dir, cfg, cat)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for rec, err := range p.Failed {
		out = append(out, Finding{Path: rec, Msg: "cannot render: " + err.Error()})
	}
	renderDirs := map[string]bool{}
	for _, rec := range p.Records {
		if rec.Request != nil {
			renderDirs[rec.Request.RenderDir()] = true
		}
	}
	// Each request's files are compared in parallel; findings are
	// sorted below.
	found := make([][]Finding, len(p.Rendered))
	errs := make([]error, len(p.Rendered))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, r := range p.Rendered {
		g.Go(func() error {
			found[i], errs[i] = verifyRendered(dir, r)
			return nil
		})
	}
	_ = g.Wait()
	for i, f := range found {
		if errs[i] != nil {
			return nil, errs[i] // the first in the plan's order
		}
		out = append(out, f...)
	}
	orphans, err := orphanDirs(dir, renderDirs)
	if err != nil {
		return nil, err
	}
	for _, d := range orphans {
		out = append(out, Finding{Path: d, Msg: "rendered folder without a request record " + d + ".yaml: remove it"})
	}
	for _, env := range cfg.Environments {
		rootFile := path.Join(env.Root, "kustomization.yaml")
		want, ok := p.Roots[rootFile]
		if !ok {
			continue
		}
		existing, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rootFile)))
		if existing == nil {
			out = append(out, Finding{Path: rootFile, Msg: "missing: the environment root must name every request of " + env.Name})
			continue
		}
		have, err := RequestRefs(env, existing)
		if err != nil {
			out = append(out, Finding{Path: rootFile, Msg: err.Error()})
			continue
		}
		need, _ := RequestRefs(env, want)
		if strings.Join(have, "\n") != strings.Join(need, "\n") {
			out = append(out, Finding{Path: rootFile, Msg: "does not name exactly the requests of " + env.Name + ": run `gitvend render --write`",
				Diff: unifiedDiff(rootFile, existing, want)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Msg < out[j].Msg
	})
	return out, nil
}

// verifyRendered compares the files of one rendered request with the
// repository in dir.
func verifyRendered(dir string, r *Rendered) ([]Finding, error) {
	var out []Finding
	want := map[string]bool{}
	for _, f := range r.Files {
		want[f.Path] = true
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, Finding{Path: f.Path, Msg: "missing: run `gitvend render --write` and commit the result"})
		case err != nil:
			return nil, fmt.Errorf("read rendered file: %w", err)
		case !bytes.Equal(got, f.Data):
			out = append(out, Finding{Path: f.Path, Msg: "differs from a fresh render of " + r.Request.Path() +
				" (edited by hand, or the blueprint changed): change the request instead and run `gitvend render --write`",
				Diff: unifiedDiff(f.Path, got, f.Data)})
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, filepath.FromSlash(r.Request.RenderDir())))
	for _, e := range entries {
		p := path.Join(r.Request.RenderDir(), e.Name())
		if !want[p] {
			out = append(out, Finding{Path: p, Msg: "not produced by blueprint " + r.Request.Spec.Blueprint + ": remove it, or put hand-written manifests in the environment root"})
		}
	}
	return out, nil
}

// orphanDirs lists folders at requests/<env>/<ns>/<name> that no record claims.
func orphanDirs(dir string, claimed map[string]bool) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, request.Dir, "*", "*", "*"))
	if err != nil {
		return nil, fmt.Errorf("list rendered folders: %w", err)
	}
	var out []string
	for _, m := range matches {
		info, err := os.Stat(m)
		if err != nil || !info.IsDir() {
			continue
		}
		rel, _ := filepath.Rel(dir, m)
		rel = filepath.ToSlash(rel)
		if !claimed[rel] {
			out = append(out, rel)
		}
	}
	return out, nil
}

// Write brings the repository in dir to the plan: rendered files written,
// files no blueprint produced removed from rendered folders, and
// environment roots updated. It returns the paths it changed. Records that
// failed to render are left untouched; their errors are returned joined.
func Write(ctx context.Context, dir string, p *Plan) ([]string, error) {
	var changed []string
	write := func(rel string, data []byte) error {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		if old, err := os.ReadFile(full); err == nil && bytes.Equal(old, data) {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", rel, err)
		}
		if err := writeAtomic(full, data); err != nil {
			return fmt.Errorf("write %s: %w", rel, err)
		}
		changed = append(changed, rel)
		return nil
	}
	for _, r := range p.Rendered {
		want := map[string]bool{}
		for _, f := range r.Files {
			want[path.Base(f.Path)] = true
			if err := write(f.Path, f.Data); err != nil {
				return changed, err
			}
		}
		renderDir := filepath.Join(dir, filepath.FromSlash(r.Request.RenderDir()))
		entries, _ := os.ReadDir(renderDir)
		for _, e := range entries {
			if !want[e.Name()] && !e.IsDir() {
				if err := os.Remove(filepath.Join(renderDir, e.Name())); err != nil {
					return changed, fmt.Errorf("remove stale file: %w", err)
				}
				changed = append(changed, path.Join(r.Request.RenderDir(), e.Name()))
			}
		}
	}
	roots := make([]string, 0, len(p.Roots))
	for rel := range p.Roots {
		roots = append(roots, rel)
	}
	sort.Strings(roots)
	for _, rel := range roots {
		if err := write(rel, p.Roots[rel]); err != nil {
			return changed, err
		}
	}
	var errs []error
	for rec, err := range p.Failed {
		errs = append(errs, fmt.Errorf("%s: %w", rec, err))
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return changed, errors.Join(errs...)
}

// writeAtomic replaces path with data through a temporary file and a rename,
// so that readers never see a partial file.
func writeAtomic(p string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".gitvend-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

func unifiedDiff(name string, a, b []byte) string {
	return unifiedDiffNamed(name+" (committed)", name+" (fresh render)", a, b)
}

// unifiedDiffNamed is a unified diff from a (named from) to b (named to),
// with two lines of context.
func unifiedDiffNamed(from, to string, a, b []byte) string {
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(a)), B: difflib.SplitLines(string(b)),
		FromFile: from, ToFile: to, Context: 2,
	})
	if err != nil {
		return ""
	}
	return d
}
