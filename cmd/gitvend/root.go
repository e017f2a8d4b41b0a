package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gitvend/gitvend/internal/request"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	buildversion "github.com/gitvend/gitvend/internal/version"
)

// Annotations a command's help shows in sections of their own.
const (
	annArgs  = "gitvend/arguments"  // what the positional arguments are
	annExits = "gitvend/exit-codes" // the exit codes the command uses
)

// Exit code lines, combined per command in its help.
const (
	exitLineOK      = "  0  ok"
	exitLineBadUse  = "  2  bad input or usage: an unknown flag or argument, a file that cannot be read or\n     parsed, or nothing to work on (no objects, no repository, no requests)"
	exitLineDrifted = "  3  drift found"
)

// usageTemplate is the help every command prints on stdout: usage,
// arguments, commands, flags, exit codes and examples.
const usageTemplate = `Usage:{{if and .Runnable .HasParent}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} COMMAND [flags]{{end}}{{with index .Annotations "gitvend/arguments"}}

Arguments:
{{.}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if .IsAvailableCommand}}
  {{rpad .Name .NamePadding}}  {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}

Exit codes:
{{with index .Annotations "gitvend/exit-codes"}}{{.}}{{else}}  0  ok
  2  bad input or usage{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Run "{{.CommandPath}} COMMAND --help" for more about a command.{{end}}
`

// newRootCmd builds the command tree, writing to io.
func newRootCmd(io streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "gitvend",
		Short: "A self-service counter for Kubernetes infrastructure, run from a Git repository",
		Long: `gitvend turns a Git repository into a self-service counter for Kubernetes infrastructure:
people ask for infrastructure in issues, gitvend renders the request into manifests in a pull
request, checks it with policies and a cost model, and applies it to target clusters after merge.`,
		Version:           version(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
		Annotations: map[string]string{annExits: strings.Join([]string{exitLineOK,
			"  1  policy denied (check), newly denied (check --impact), verify failed (render --verify),\n     apply failed or unhealthy (apply)",
			exitLineBadUse, exitLineDrifted}, "\n")},
		Example: `  gitvend check --repo . requests/ -o json
  gitvend render --request requests/dev/team-a/web.yaml
  gitvend apply --kubeconfig ~/.kube/config --target dev --environment dev --namespace 'team-*'`,
		// Without a command, gitvend says what it can do, on stderr: the
		// run was most likely a mistake.
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(io.stderr)
			if err := cmd.Help(); err != nil {
				return err
			}
			return silentExit(exitBadUse)
		},
	}
	root.SetIn(io.stdin)
	root.SetOut(io.stdout)
	root.SetErr(io.stderr)
	root.SetVersionTemplate("gitvend {{.Version}}\n")
	root.SetUsageTemplate(usageTemplate)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		hint := ""
		if name, ok := strings.CutPrefix(err.Error(), "unknown flag: --"); ok {
			if near := nearestFlag(cmd, name); near != "" {
				hint = "; did you mean --" + near + "?"
			}
		}
		return usageError("%s: %w%s (see %s --help)", cmd.CommandPath(), err, hint, cmd.CommandPath())
	})
	root.SuggestionsMinimumDistance = 2
	root.CompletionOptions.HiddenDefaultCmd = false
	for _, c := range []*cobra.Command{
		newServeCmd(io),
		newRenderCmd(io),
		newCheckCmd(io),
		newApplyCmd(io),
		newDriftCmd(io),
		newFormsCmd(io),
		newVersionCmd(io),
		newSchemaCmd(io),
	} {
		root.AddCommand(c)
	}
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = `  source <(gitvend completion bash)
  gitvend completion zsh > "${fpath[1]}/_gitvend"
  gitvend completion fish > ~/.config/fish/completions/gitvend.fish`
			c.Annotations = map[string]string{
				annArgs:  "  SHELL  bash, zsh, fish or powershell",
				annExits: exitLineOK + "\n" + exitLineBadUse,
			}
		}
	}
	return root
}

// action adapts a command's function to cobra: an error it does not type
// itself is a failure (exit 1); parse errors, which cobra returns without
// passing through here, are bad usage (exit 2, see run).
func action(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd, args)
		if err == nil {
			return nil
		}
		var e *exitError
		var s silentExit
		if errors.As(err, &e) || errors.As(err, &s) {
			return err
		}
		return &exitError{code: exitFailed, err: err}
	}
}

// noArgs refuses positional arguments, naming the first.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError("%s takes no arguments, got %q (flags take their value as --flag VALUE)", cmd.CommandPath(), args[0])
	}
	return nil
}

// addFormatFlag adds --format, with -o and --output as its kubectl-style
// names, allowing the values in allowed.
func addFormatFlag(cmd *cobra.Command, p *string, allowed []string, what string) {
	cmd.Flags().StringVarP(p, "format", "o", allowed[0], fmt.Sprintf("%s: %s (--output is the same flag)", what, strings.Join(allowed, ", ")))
	cmd.Flags().SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "output" {
			name = "format"
		}
		return pflag.NormalizedName(name)
	})
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(allowed, cobra.ShellCompDirectiveNoFileComp))
}

// checkFormat refuses a format outside allowed.
func checkFormat(format string, allowed []string, context string) error {
	if slices.Contains(allowed, format) {
		return nil
	}
	return usageError("--format: unknown format %q%s; allowed: %s", format, context, strings.Join(allowed, ", "))
}

// dirFlag completes a flag's value with directories.
func dirFlag(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		_ = cmd.MarkFlagDirname(n)
	}
}

func newVersionCmd(io streams) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version and commit gitvend was built from",
		Long: `Print the release and commit this binary was built from: stamped by the release build,
or recorded by Go for a "go install" build; "(devel)" for a build from a checkout.
"gitvend --version" prints the same line.`,
		Args:        noArgs,
		Annotations: map[string]string{annExits: exitLineOK + "\n" + exitLineBadUse},
		Example: `  gitvend version
  gitvend version -o json`,
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, []string{"text", "json"}, ""); err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(io.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(buildversion.Get())
			}
			_, err := fmt.Fprintln(io.stdout, "gitvend", version())
			return err
		}),
	}
	addFormatFlag(cmd, &format, []string{"text", "json"}, "output format")
	return cmd
}

// nearestFlag is the flag of cmd that name most likely misspells
// (request.Suggest, the rule /provision commands use too), or "".
func nearestFlag(cmd *cobra.Command, name string) string {
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	near, _ := request.Suggest(name, names)
	return near
}
