// Command gitvend-demo plays gitvend's whole story on this machine and
// prints it as a transcript: see package demo. `make demo` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gitvend/gitvend/internal/demo"
)

func main() {
	bin := flag.String("gitvend", "bin/gitvend", "the gitvend binary to run as the server")
	examples := flag.String("examples", "examples/desired-state", "the desired-state repository the demo starts from")
	keep := flag.Bool("keep", false, "keep the demo's files (configuration, server log) after it ends")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *bin, *examples, *keep)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin, examples string, keep bool) error {
	dir, err := os.MkdirTemp("", "gitvend-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	out := os.Stdout
	fmt.Fprintln(out, "gitvend demo: starting the GitHub test double and a real kube-apiserver + etcd …")
	w, err := demo.NewWorld(ctx, dir, examples)
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Fprintf(out, "  GitHub double at %s with repository %s (the example desired state) and the App installed\n", w.GH.URL(), demo.Repo)
	fmt.Fprintf(out, "  kube-apiserver ready; kubeconfig %s\n", w.Kube.KubeconfigPath())
	srv, err := demo.NewServe(w, bin)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = srv.Stop() }()
	fmt.Fprintf(out, "  gitvend serve running at %s (log: %s)\n\n", srv.URL(), srv.Log)
	story := &demo.Story{W: w, Out: out}
	if err := story.Play(ctx); err != nil {
		return fmt.Errorf("%w (server log: %s)", err, srv.Log)
	}
	if err := demo.Audit(w.GH); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nAudit: one pull request per request, no repeated comment, check run or drift issue.\n")
	fmt.Fprintf(out, "\nWhere to look (until the demo exits):\n")
	fmt.Fprintf(out, "  metrics      %s/metrics   (gitvend_requests_total, gitvend_request_to_pr_seconds, gitvend_merge_to_applied_seconds, …)\n", srv.URL())
	fmt.Fprintf(out, "  status page  %s/\n", srv.URL())
	fmt.Fprintf(out, "  repository   git clone %s  →  requests/dev/team-payments/orders.yaml and orders/\n", w.GH.CloneURL(demo.Repo))
	fmt.Fprintf(out, "  server log   %s%s\n", srv.Log, map[bool]string{true: "", false: " (removed at exit; run with -keep to keep it)"}[keep])
	return nil
}
