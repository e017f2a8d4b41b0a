// Command gitvend-load drives `gitvend serve` with a synthetic
// desired-state repository and request issues, merges and changes by hand
// at a given rate, then prints the service levels read from the server's
// own /metrics beside what it saw itself: see package load. `make load`
// runs it; its settings are the variables REQUESTS, ENVS, RATE, DURATION,
// DRAIN, MERGES and DRIFT.
//
// It is a command of its own, not a subcommand of gitvend, so that the
// GitHub test double and the API-server harness it runs in-process are
// never linked into the binary operators deploy.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gitvend/gitvend/internal/load"
)

func main() {
	bin := flag.String("gitvend", "bin/gitvend", "the gitvend binary to run as the server")
	keep := flag.Bool("keep", false, "keep the run's files (repository, configuration, server log) after it ends")
	cli := flag.Bool("cli", false, "also time `gitvend check` and `gitvend render --verify` on the synthetic repository")
	profile := flag.String("profile", "", "write a CPU profile of the server during the run to this file (perf record)")
	poll := flag.Duration("poll", 200*time.Millisecond, "how often the generator looks at the GitHub double and the cluster (from 10ms to 10s): the resolution of its own latencies")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: [REQUESTS=n] [ENVS=n] [RATE=2/s] [DURATION=60s] [DRAIN=5m] [MERGES=n] [DRIFT=n] gitvend-load [flags]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *poll < 10*time.Millisecond || *poll > 10*time.Second {
		fmt.Fprintf(os.Stderr, "gitvend-load: -poll must be from 10ms to 10s, got %s\n", *poll)
		os.Exit(2)
	}
	cfg, err := load.Vars(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gitvend-load: bad settings:\n%v\n", err)
		os.Exit(2)
	}
	// The API-server harness logs through controller-runtime; its lines
	// are not the run's.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, load.Options{Config: cfg, Bin: *bin, CLI: *cli, Profile: *profile, Poll: *poll, Out: os.Stdout}, *keep)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gitvend-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o load.Options, keep bool) error {
	dir, err := os.MkdirTemp("", "gitvend-load-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Printf("files kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	o.Dir = dir
	rep, err := load.Run(ctx, o)
	if err != nil {
		return err
	}
	rep.Print(os.Stdout)
	return nil
}
