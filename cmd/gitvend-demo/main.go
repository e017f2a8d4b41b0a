// Command gitvend-demo plays gitvend's whole story on this machine and
// prints it as a transcript: see package demo. `make demo` runs it.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gitvend/gitvend/internal/demo"
)

func main() {
	bin := flag.String("gitvend", "bin/gitvend", "the gitvend binary to run as the server")
	examples := flag.String("examples", "examples/desired-state", "the desired-state repository the demo starts from")
	keep := flag.Bool("keep", false, "keep the demo's files (configuration, server log) after it ends")
	stay := flag.Bool("stay", false, "keep everything running after the story until interrupted (Ctrl-C), to look around")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *bin, *examples, *keep, *stay)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin, examples string, keep, stay bool) error {
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
	fmt.Fprintf(out, "  gitvend serve running at %s, metrics and status page at %s (log: %s)\n\n", srv.URL(), srv.OpsURL(), srv.Log)
	story := &demo.Story{W: w, Out: out}
	if err := story.Play(ctx); err != nil {
		return fmt.Errorf("%w (server log: %s)", err, srv.Log)
	}
	if err := demo.Audit(w.GH); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nAudit: one pull request per request, no repeated comment, check run or drift issue.\n")
	fmt.Fprintf(out, "\nFrom %s/metrics:\n", srv.OpsURL())
	if err := printMetrics(out, srv.OpsURL()+"/metrics"); err != nil {
		fmt.Fprintf(out, "  (could not read them: %v)\n", err)
	}
	when := "until the demo exits; run with -stay to look around"
	if stay {
		when = "until you press Ctrl-C"
	}
	fmt.Fprintf(out, "\nWhere to look (%s):\n", when)
	fmt.Fprintf(out, "  metrics      %s/metrics\n", srv.OpsURL())
	fmt.Fprintf(out, "  status page  %s/\n", srv.OpsURL())
	fmt.Fprintf(out, "  repository   git clone %s  →  requests/dev/team-payments/orders.yaml and orders/\n", w.GH.CloneURL(demo.Repo))
	fmt.Fprintf(out, "  cluster      kubectl --kubeconfig %s get all -n team-payments\n", w.Kube.KubeconfigPath())
	fmt.Fprintf(out, "  server log   %s%s\n", srv.Log, map[bool]string{true: "", false: " (removed at exit; -keep keeps it)"}[keep])
	if stay {
		<-ctx.Done()
	}
	fmt.Fprintln(out, "\nStopping gitvend serve, the kube-apiserver, etcd and the GitHub double.")
	return nil
}

// printMetrics prints the service-level series of a Prometheus text page.
func printMetrics(out io.Writer, url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, prefix := range []string{"gitvend_requests_total", "gitvend_request_to_pr_seconds_sum", "gitvend_request_to_pr_seconds_count",
			"gitvend_checks_total", "gitvend_applies_total", "gitvend_merge_to_applied_seconds_count", "gitvend_drift_objects",
			"gitvend_drift_resolve_seconds_count", "gitvend_github_rate_limit_remaining", "gitvend_leader"} {
			if strings.HasPrefix(line, prefix) {
				fmt.Fprintf(out, "  %s\n", line)
			}
		}
	}
	return sc.Err()
}
