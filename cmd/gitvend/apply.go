package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/rollout"
)

// targetFlags are the flags apply and drift share.
type targetFlags struct {
	config, target, repo, format *string
}

func addTargetFlags(fs interface {
	String(name, value, usage string) *string
}) targetFlags {
	return targetFlags{
		config: fs.String("config", "", "server configuration file (required)"),
		target: fs.String("target", "", "target to reach, as named in the configuration (required)"),
		repo:   fs.String("repo", ".", "checkout of the desired-state repository"),
		format: fs.String("format", "text", "output format: text or json"),
	}
}

// open loads the configuration and builds the target's reconciler.
func (f targetFlags) open(io streams, reportOnly bool) (*reconcile.Reconciler, cluster.Connection, error) {
	switch {
	case *f.config == "":
		return nil, cluster.Connection{}, usageError("--config is required")
	case *f.target == "":
		return nil, cluster.Connection{}, usageError("--target is required")
	case *f.format != "text" && *f.format != "json":
		return nil, cluster.Connection{}, usageError("--format: unknown format %q; allowed: text, json", *f.format)
	}
	cfg, err := config.LoadTargets(*f.config, os.Getenv)
	if err != nil {
		return nil, cluster.Connection{}, &exitError{code: exitBadUse, err: err}
	}
	tc, ok := cfg.Target(*f.target)
	if !ok {
		var names []string
		for _, t := range cfg.Targets {
			names = append(names, t.Name)
		}
		return nil, cluster.Connection{}, usageError("--target: no target %q in %s; targets: %s", *f.target, *f.config, strings.Join(names, ", "))
	}
	if reportOnly {
		// A report-only run writes nothing, so it heals nothing either.
		tc.ReportOnly, tc.SelfHeal = true, false
	}
	t, err := cluster.Connect(tc)
	if err != nil {
		return nil, cluster.Connection{}, &exitError{code: exitBadUse, err: err}
	}
	logger := slog.New(slog.NewTextHandler(io.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctrllog.SetLogger(logr.FromSlogHandler(logger.Handler()))
	rec, err := reconcile.New(t.Config, t.Target, reconcile.Options{Logger: logger})
	if err != nil {
		return nil, cluster.Connection{}, &exitError{code: exitBadUse, err: err}
	}
	return rec, t, nil
}

func runApply(ctx context.Context, args []string, io streams) error {
	fs := newFlags("apply", io.stderr)
	f := addTargetFlags(fs)
	dryRun := fs.Bool("dry-run", false, "server-side dry run: print the plan (what would be created, changed, pruned and refused), write nothing")
	confirmPrune := fs.Bool("confirm-prune", false, "let this apply prune past the target's threshold (maxPrune, maxPrunePercent)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rec, t, err := f.open(io, *dryRun)
	if err != nil {
		return err
	}
	objs, err := reconcile.Desired(ctx, *f.repo, t.Target)
	if err != nil {
		return &exitError{code: exitBadUse, err: err}
	}
	if *dryRun {
		return dryRunPlan(ctx, io, rec, objs, revision(ctx, *f.repo), *f.format)
	}
	opts := reconcile.ApplyOptions{}
	if *confirmPrune {
		opts.ConfirmPrune = reconcile.Confirmed
	}
	res, applyErr := rec.ApplyWith(ctx, objs, revision(ctx, *f.repo), opts)
	if res != nil {
		if err := writeResult(io.stdout, res, *f.format); err != nil {
			return err
		}
	}
	if applyErr != nil {
		return &exitError{code: exitFailed, err: applyErr}
	}
	if res.Count(reconcile.Failed)+res.Count(reconcile.Refused) > 0 || !res.Healthy() {
		return silentExit(exitFailed)
	}
	return nil
}

// dryRunPlan prints the plan of objs on the target, the same plan, from
// the same code, as the gitvend/plan check run of a pull request, and
// what the apply would adopt. It fails when the cluster cannot be asked,
// when the target refuses objects or the dry-run rejects them, and when
// the prune goes past the target's threshold.
func dryRunPlan(ctx context.Context, io streams, rec *reconcile.Reconciler, objs []*unstructured.Unstructured, rev, format string) error {
	p := rollout.PlanTarget(ctx, rec, objs, rollout.DefaultPlanTimeout)
	p.Revision = rev
	if p.Unreachable != "" {
		return &exitError{code: exitFailed, err: fmt.Errorf("plan target %s: %s", p.Target, p.Unreachable)}
	}
	if format == "json" {
		enc := json.NewEncoder(io.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(p); err != nil {
			return err
		}
	} else {
		if err := p.WriteText(io.stdout); err != nil {
			return err
		}
		// What a merge would take over that gitvend did not create.
		adoptions, err := rec.Adoptions(ctx, objs)
		if err != nil {
			return &exitError{code: exitFailed, err: err}
		}
		for _, a := range adoptions {
			fmt.Fprintln(io.stdout, a)
		}
		fmt.Fprintf(io.stdout, "target %s: dry run: nothing was written\n", p.Target)
	}
	if len(p.Refuse)+len(p.Fail) > 0 || p.PruneExceeded != "" {
		return silentExit(exitFailed)
	}
	return nil
}

func writeResult(w io.Writer, res *reconcile.Result, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tOBJECT\tSTATUS\tMESSAGE")
	for _, o := range res.Objects {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.Action, o.ID, o.Status, o.Message)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	mode := ""
	if res.DryRun {
		mode = " (dry run: nothing was written)"
	}
	_, err := fmt.Fprintf(w, "target %s: %s in %s%s\n", res.Target, res.Summary(), res.Duration.Round(1e6), mode)
	return err
}

func runDrift(ctx context.Context, args []string, io streams) error {
	fs := newFlags("drift", io.stderr)
	f := addTargetFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rec, t, err := f.open(io, true)
	if err != nil {
		return err
	}
	objs, err := reconcile.Desired(ctx, *f.repo, t.Target)
	if err != nil {
		return &exitError{code: exitBadUse, err: err}
	}
	rep, err := rec.Drift(ctx, objs)
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	rep.Revision = revision(ctx, *f.repo)
	if *f.format == "json" {
		enc := json.NewEncoder(io.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := writeDrift(io.stdout, rep); err != nil {
		return err
	}
	if rep.HasDrift() {
		return silentExit(exitDrifted)
	}
	return nil
}

func writeDrift(w io.Writer, rep *reconcile.DriftReport) error {
	if !rep.HasDrift() {
		_, err := fmt.Fprintf(w, "target %s: no drift in %d objects\n", rep.Target, rep.Checked)
		return err
	}
	for _, o := range rep.Objects {
		switch {
		case o.Missing:
			fmt.Fprintf(w, "%s: missing from the cluster\n", o.ID)
		case o.Error != "":
			fmt.Fprintf(w, "%s: could not compare: %s\n", o.ID, o.Error)
		default:
			fmt.Fprintf(w, "%s:\n", o.ID)
			for _, c := range o.Changes {
				if c.Hidden {
					fmt.Fprintf(w, "  %s: changed, values hidden (git %s, live %s)\n", c.Path, orNone(c.Git), orNone(c.Live))
					continue
				}
				fmt.Fprintf(w, "  %s: git %s, live %s\n", c.Path, orNone(c.Git), orNone(c.Live))
			}
		}
	}
	_, err := fmt.Fprintf(w, "target %s: %d of %d objects drifted\n", rep.Target, len(rep.Objects), rep.Checked)
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(absent)"
	}
	return s
}

// revision is the commit checked out in dir, or "" outside a Git work tree.
func revision(ctx context.Context, dir string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
