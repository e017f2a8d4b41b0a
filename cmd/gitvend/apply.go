package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/reconcile"
	"github.com/gitvend/gitvend/internal/rollout"
)

// targetOptions are the flags apply and drift share: which target, from a
// server configuration or from flags alone, and how to reach it.
type targetOptions struct {
	config, target, repo, format string
	kubeconfig, context          string
	environments, namespaces     []string
	clusterScopedKinds           []string
	prune                        bool
	inventoryNamespace           string
	maxPrune, maxPrunePercent    int
}

// targetFlagNames maps a target's field to the flag that sets it, for
// errors about a target given by flags.
var targetFlagNames = map[string]string{
	"name":               "--target",
	"environments":       "--environment",
	"namespaces":         "--namespace",
	"clusterScopedKinds": "--cluster-scoped-kind",
	"inventoryNamespace": "--inventory-namespace",
	"maxPrune":           "--max-prune",
	"maxPrunePercent":    "--max-prune-percent",
	"prune":              "--prune",
}

func addTargetFlags(cmd *cobra.Command, o *targetOptions) {
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "server configuration file to read the target from (optional: without it the target is given by flags)")
	f.StringVar(&o.target, "target", "", "target name (required): names the target's inventory in the cluster, as the server names it")
	f.StringVar(&o.repo, "repo", ".", "checkout of the desired-state repository")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: the target's, else $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.context, "context", "", "kubeconfig context (default: the target's, else the current one)")
	f.StringSliceVar(&o.environments, "environment", nil, "environment of the repository applied to the target; repeat or separate with commas (required without --config)")
	f.StringSliceVar(&o.namespaces, "namespace", nil, "namespace objects may be placed in, or a prefix ending in '*' such as 'team-*'; repeat or separate with commas (required without --config)")
	f.StringSliceVar(&o.clusterScopedKinds, "cluster-scoped-kind", nil, "cluster-scoped kind that may be applied, as Kind (built-in, such as Namespace) or Kind.group; repeatable")
	f.BoolVar(&o.prune, "prune", false, "delete objects gitvend created that left Git")
	f.StringVar(&o.inventoryNamespace, "inventory-namespace", cluster.DefaultInventoryNamespace, "namespace of the inventory of what gitvend applied")
	f.IntVar(&o.maxPrune, "max-prune", 0, fmt.Sprintf("objects one apply may prune without --confirm-prune (0: %d)", cluster.DefaultMaxPrune))
	f.IntVar(&o.maxPrunePercent, "max-prune-percent", 0, fmt.Sprintf("share of the target's objects, in percent, one apply may prune without --confirm-prune (0: %d)", cluster.DefaultMaxPrunePercent))
	addFormatFlag(cmd, &o.format, []string{"text", "json"}, "output format")
	_ = cmd.RegisterFlagCompletionFunc("target", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return targetNames(o.config), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	_ = cmd.MarkFlagFilename("kubeconfig")
	dirFlag(cmd, "repo")
}

// targetNames lists the targets of the server configuration at path, for
// completion; none when it cannot be read.
func targetNames(path string) []string {
	if path == "" {
		return nil
	}
	cfg, err := config.LoadTargets(path, os.Getenv)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(cfg.Targets))
	for _, t := range cfg.Targets {
		names = append(names, t.Name)
	}
	return names
}

// targetFromFlags is the target the flags describe: the one --config names,
// with the flags given overriding its settings, or, without --config, one
// made from the flags alone with the defaults of a server configuration.
func (o *targetOptions) targetFromFlags(cmd *cobra.Command) (cluster.Target, error) {
	if o.target == "" {
		return cluster.Target{}, usageError("--target NAME is required: it names the target's inventory in the cluster")
	}
	if err := checkFormat(o.format, []string{"text", "json"}, ""); err != nil {
		return cluster.Target{}, err
	}
	if err := isDir("--repo", o.repo); err != nil {
		return cluster.Target{}, err
	}
	t := cluster.Target{
		Name:               o.target,
		DriftInterval:      cluster.DefaultDriftInterval,
		HealthTimeout:      cluster.DefaultHealthTimeout,
		InventoryNamespace: cluster.DefaultInventoryNamespace,
	}
	if o.config != "" {
		cfg, err := config.LoadTargets(o.config, os.Getenv)
		if err != nil {
			return cluster.Target{}, badInput(err)
		}
		tc, ok := cfg.Target(o.target)
		if !ok {
			return cluster.Target{}, usageError("--target: no target %q in %s; targets: %s", o.target, o.config, strings.Join(targetNames(o.config), ", "))
		}
		t = tc
	} else {
		switch {
		case len(o.environments) == 0:
			return cluster.Target{}, usageError("--environment is required without --config: name the environments of the repository applied to the target")
		case len(o.namespaces) == 0:
			return cluster.Target{}, usageError("--namespace is required without --config: name the namespaces (or prefixes such as 'team-*') objects may be placed in")
		}
	}
	flags := cmd.Flags()
	override(flags, "kubeconfig", &t.Kubeconfig, o.kubeconfig)
	override(flags, "context", &t.Context, o.context)
	override(flags, "environment", &t.Environments, o.environments)
	override(flags, "namespace", &t.Namespaces, o.namespaces)
	override(flags, "cluster-scoped-kind", &t.ClusterScopedKinds, o.clusterScopedKinds)
	override(flags, "prune", &t.Prune, o.prune)
	override(flags, "inventory-namespace", &t.InventoryNamespace, o.inventoryNamespace)
	override(flags, "max-prune", &t.MaxPrune, o.maxPrune)
	override(flags, "max-prune-percent", &t.MaxPrunePercent, o.maxPrunePercent)
	if err := t.Validate(); err != nil {
		return cluster.Target{}, badInput(flagErrors(err))
	}
	return t, nil
}

// override sets *dst to v when the flag name was given on the command
// line, so that flags win over the target's settings in the configuration.
func override[T any](flags interface{ Changed(string) bool }, name string, dst *T, v T) {
	if flags.Changed(name) {
		*dst = v
	}
}

// flagErrors names, in a target's field errors, the flag that sets each field.
func flagErrors(err error) error {
	var out []error
	for _, e := range unjoin(err) {
		var fe *field.Error
		if errors.As(e, &fe) {
			name, index, _ := strings.Cut(fe.Field, "[")
			if flag, ok := targetFlagNames[name]; ok {
				if index != "" {
					index = "[" + index
				}
				out = append(out, fmt.Errorf("target %s (or %s%s): %s", fe.Field, flag, index, fe.Msg))
				continue
			}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// unjoin lists the errors errors.Join combined, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// restConfig reaches the target: through the kubeconfig named by the flags
// or the target, with kubectl's rules ($KUBECONFIG, ~/.kube/config) when
// the target comes from flags alone, else in-cluster.
func (o *targetOptions) restConfig(t cluster.Target) (*rest.Config, error) {
	if t.Kubeconfig == "" && o.config != "" && t.Context == "" {
		return cluster.RESTConfig("", "")
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = t.Kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: t.Context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return cfg, nil
}

// open builds the reconciler of the target the flags describe.
func (o *targetOptions) open(cmd *cobra.Command, io streams, t cluster.Target, reportOnly bool) (*reconcile.Reconciler, error) {
	if reportOnly {
		// A report-only run writes nothing, so it heals nothing either.
		t.ReportOnly, t.SelfHeal = true, false
	}
	rc, err := o.restConfig(t)
	if err != nil {
		return nil, badInput(fmt.Errorf("target %s: %w", t.Name, err))
	}
	logger := slog.New(slog.NewTextHandler(io.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctrllog.SetLogger(logr.FromSlogHandler(logger.Handler()))
	rec, err := reconcile.New(rc, t, reconcile.Options{Logger: logger})
	if err != nil {
		return nil, badInput(err)
	}
	return rec, nil
}

// applyOptions are apply's own flags.
type applyOptions struct {
	targetOptions
	dryRun, confirmPrune, wait bool
	timeout                    time.Duration
}

const targetLong = `
The target is read from a server configuration (--config, with --target naming it) or given by
flags alone: --target, --environment and --namespace at least, and the cluster through
--kubeconfig/--context (default: $KUBECONFIG or ~/.kube/config and its current context). Flags
given with --config override the target's settings.`

func newApplyCmd(io streams) *cobra.Command {
	var o applyOptions
	cmd := &cobra.Command{
		Use:   "apply --target NAME (--config FILE | --environment ENV --namespace NS) [flags]",
		Short: "Apply a desired-state checkout to a target cluster",
		Long: `Apply the environments of a desired-state checkout to a target cluster with server-side apply,
record them in the target's inventory, prune what left Git (with --prune), and wait for the
applied objects to become ready (--wait, up to --timeout). When the apply writes nothing (every
object unchanged, nothing pruned) it does not wait.
` + targetLong,
		Args: noArgs,
		Annotations: map[string]string{
			annExits: strings.Join([]string{exitLineOK,
				"  1  an object failed, was refused or is not ready within --timeout; the cluster cannot be\n     reached; with --dry-run, the plan refuses objects or prunes past the threshold",
				exitLineBadUse}, "\n"),
		},
		Example: `  gitvend apply --kubeconfig ~/.kube/config --context kind-dev --target dev \
      --environment dev --namespace 'team-*' --cluster-scoped-kind Namespace --dry-run
  gitvend apply --config server.yaml --target prod --repo infra --timeout 10m -o json
  gitvend apply --config server.yaml --target prod --wait=false`,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return runApply(cmd.Context(), cmd, o, io)
		}),
	}
	addTargetFlags(cmd, &o.targetOptions)
	f := cmd.Flags()
	f.BoolVar(&o.dryRun, "dry-run", false, "server-side dry run: print the plan (what would be created, changed, pruned and refused), write nothing")
	f.BoolVar(&o.confirmPrune, "confirm-prune", false, "let this apply prune past the target's threshold (--max-prune, --max-prune-percent)")
	f.BoolVar(&o.wait, "wait", true, "wait for the applied objects to become ready; not when the apply wrote nothing")
	f.DurationVar(&o.timeout, "timeout", 0, fmt.Sprintf("how long --wait waits (0: the target's healthTimeout, %s without --config)", cluster.DefaultHealthTimeout))
	return cmd
}

func runApply(ctx context.Context, cmd *cobra.Command, o applyOptions, io streams) error {
	t, err := o.targetFromFlags(cmd)
	if err != nil {
		return err
	}
	switch {
	case o.timeout < 0:
		return usageError("--timeout must be a positive duration such as 30s or 5m, got %s", o.timeout)
	case !o.wait:
		t.HealthTimeout = 0
	case o.timeout > 0:
		t.HealthTimeout = o.timeout
	}
	rec, err := o.open(cmd, io, t, o.dryRun)
	if err != nil {
		return err
	}
	objs, err := reconcile.Desired(ctx, o.repo, t)
	if err != nil {
		return badInput(err)
	}
	if o.dryRun {
		return dryRunPlan(ctx, io, rec, objs, revision(ctx, o.repo), o.format)
	}
	opts := reconcile.ApplyOptions{SkipHealthWhenUnchanged: true}
	if o.confirmPrune {
		opts.ConfirmPrune = reconcile.Confirmed
	}
	res, applyErr := rec.ApplyWith(ctx, objs, revision(ctx, o.repo), opts)
	if res != nil {
		if err := writeResult(io.stdout, res, o.format); err != nil {
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

func newDriftCmd(io streams) *cobra.Command {
	var o targetOptions
	cmd := &cobra.Command{
		Use:   "drift --target NAME (--config FILE | --environment ENV --namespace NS) [flags]",
		Short: "Compare a target cluster with a desired-state checkout",
		Long: `Compare the live objects of a target cluster with a desired-state checkout by server-side
dry run, ignoring defaults, status and fields other controllers own, and list what differs
(Secret values masked). It writes nothing, also on a target that heals itself when served.
` + targetLong,
		Args: noArgs,
		Annotations: map[string]string{
			annExits: strings.Join([]string{exitLineOK + ": no drift",
				"  1  the cluster cannot be reached", exitLineBadUse, exitLineDrifted}, "\n"),
		},
		Example: `  gitvend drift --kubeconfig ~/.kube/config --target dev --environment dev --namespace 'team-*'
  gitvend drift --config server.yaml --target prod --repo infra -o json`,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return runDrift(cmd.Context(), cmd, o, io)
		}),
	}
	addTargetFlags(cmd, &o)
	return cmd
}

func runDrift(ctx context.Context, cmd *cobra.Command, o targetOptions, io streams) error {
	t, err := o.targetFromFlags(cmd)
	if err != nil {
		return err
	}
	rec, err := o.open(cmd, io, t, true)
	if err != nil {
		return err
	}
	objs, err := reconcile.Desired(ctx, o.repo, t)
	if err != nil {
		return badInput(err)
	}
	rep, err := rec.Drift(ctx, objs)
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	rep.Revision = revision(ctx, o.repo)
	if o.format == "json" {
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
