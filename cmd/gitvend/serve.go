package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/leader"
	"github.com/gitvend/gitvend/internal/permalink"
	"github.com/gitvend/gitvend/internal/queue"
	"github.com/gitvend/gitvend/internal/retry"
	"github.com/gitvend/gitvend/internal/rollout"
	"github.com/gitvend/gitvend/internal/server"
	"github.com/gitvend/gitvend/internal/status"
)

// shutdownGrace bounds how long jobs in flight may finish after a signal.
const shutdownGrace = 20 * time.Second

func newServeCmd(io streams) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the GitHub App: webhooks, resync, apply after merge, drift",
		Long: `Run the GitHub App: receive webhooks, resynchronise the repositories, apply merged changes to
the targets and report drift, with a status page, health endpoints and metrics. It runs until
SIGINT or SIGTERM; a port that cannot be bound ends it at once with the error.`,
		Args: noArgs,
		Annotations: map[string]string{
			annExits: exitLineOK + " (stopped by a signal)\n  1  the service failed (a port in use, GitHub unreachable at start)\n" + exitLineBadUse,
		},
		Example: "  gitvend serve --config /etc/gitvend/config.yaml",
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), path, io)
		}),
	}
	cmd.Flags().StringVar(&path, "config", "", "server configuration file (required)")
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	return cmd
}

func runServe(ctx context.Context, path string, io streams) error {
	if path == "" {
		return usageError("--config is required")
	}
	cfg, err := config.LoadServer(path, os.Getenv)
	if err != nil {
		return &exitError{code: exitBadUse, err: err}
	}
	log := newLogger(cfg.Log, io.stderr)
	if cfg.LeaderElection.Enabled {
		// Every line of a replica names it, by the identity its Leases
		// carry, so that the logs of several tell which one did what.
		id, err := leader.DefaultIdentity()
		if err != nil {
			return &exitError{code: exitBadUse, err: err}
		}
		log = log.With("replica", id)
	}
	ctrllog.SetLogger(logr.FromSlogHandler(log.Handler()))
	log.Info("starting gitvend", "version", version(), "config", cfg)
	// Both ports are bound before anything else starts, so a port in use
	// ends serve at once with the bind error instead of after a signal.
	ln, opsLn, err := listen(cfg)
	if err != nil {
		return err
	}
	svc, err := newService(ctx, cfg, log)
	if err != nil {
		closeListeners(ln, opsLn)
		return err
	}
	return svc.run(ctx, ln, opsLn)
}

// listen binds the public listener and, when configured, the ops listener.
func listen(cfg *config.Server) (ln, opsLn net.Listener, err error) {
	if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, nil, fmt.Errorf("listen: %w", err)
	}
	if cfg.OpsListen != "" {
		if opsLn, err = net.Listen("tcp", cfg.OpsListen); err != nil {
			ln.Close()
			return nil, nil, fmt.Errorf("opsListen: %w", err)
		}
	}
	return ln, opsLn, nil
}

// closeListeners closes the listeners that are open.
func closeListeners(lns ...net.Listener) {
	for _, l := range lns {
		if l != nil {
			l.Close()
		}
	}
}

// newLogger builds the process logger the configuration asks for.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// service is gitvend serve: the webhook server and queue on every replica,
// the resync loop and the rollout on the leader.
type service struct {
	cfg     *config.Server
	log     *slog.Logger
	reg     *prometheus.Registry
	app     *github.App
	bot     *bot.Bot
	queue   *queue.Queue
	rollout *rollout.Rollout
	server  *server.Server
	elector *leader.Elector // nil without leader election
	locks   *leader.Locks   // nil without leader election
	pushes  *leader.Pushes  // nil without leader election
	shards  *leader.Shards  // targets; nil unless leaderElection.shardTargets
	resyncs *leader.Shards  // repositories' resyncs; nil unless leaderElection.shardTargets
}

func newService(ctx context.Context, cfg *config.Server, log *slog.Logger) (*service, error) {
	s := &service{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var err error
	s.app, err = github.NewApp(github.AppConfig{APIURL: cfg.GitHub.APIURL, AppID: cfg.GitHub.AppID, PrivateKey: []byte(cfg.GitHub.PrivateKey)},
		github.WithLogger(log), github.WithRegisterer(s.reg))
	if err != nil {
		return nil, &exitError{code: exitBadUse, err: err}
	}
	login, botID, err := s.botLogin(ctx)
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{"git", "scratch"} {
		if err := os.MkdirAll(filepath.Join(cfg.WorkDir, dir), 0o750); err != nil {
			return nil, fmt.Errorf("workDir: %w", err)
		}
	}
	cache := gitrepo.New(filepath.Join(cfg.WorkDir, "git"), log)
	branches := map[string]string{}
	for _, r := range cfg.Repositories {
		branches[r.Name] = r.Branch
	}
	scratch := filepath.Join(cfg.WorkDir, "scratch")
	var targets []cluster.Connection
	for _, tc := range cfg.Targets {
		t, err := cluster.Connect(tc)
		if err != nil {
			return nil, &exitError{code: exitBadUse, err: err}
		}
		targets = append(targets, t)
	}
	links := permalink.New(cfg.PublicURL, []byte(cfg.GitHub.WebhookSecret))
	s.rollout, err = rollout.New(rollout.Options{Clients: s.app, Git: gitrepo.Clones{Cache: cache, Remote: s.app}, Branches: branches,
		Targets: targets, Interval: cfg.Resync.Interval, ScratchDir: scratch, Logger: log, Registerer: s.reg, Links: links,
		Author: gitrepo.BotSignature(login, botID), Login: login,
		Sharded: cfg.LeaderElection.Enabled && cfg.LeaderElection.ShardTargets})
	if err != nil {
		return nil, err
	}
	s.bot, err = bot.New(bot.Options{Clients: s.app, Git: gitrepo.Clones{Cache: cache, Remote: s.app}, Login: login,
		Author: gitrepo.BotSignature(login, botID),
		Repos:  branches, ScratchDir: scratch, Adopter: s.rollout, Waker: s.rollout, Planner: s.rollout, Logger: log, Registerer: s.reg, Links: links,
		Drift: s.rollout, Reverts: &pushRelay{s: s}, Windows: s.rollout})
	if err != nil {
		return nil, err
	}
	if err := s.coordinate(); err != nil {
		return nil, fmt.Errorf("leaderElection: %w", err)
	}
	qopts := queue.Options{Workers: cfg.Queue.Workers, Capacity: cfg.Queue.Capacity, JobTimeout: cfg.Queue.JobTimeout, Logger: log, Registerer: s.reg}
	var pushes bot.Pushes = s.rollout
	if s.locks != nil {
		qopts.Locker = repoLocker{s.locks}
		pushes = &pushRelay{s: s}
	}
	s.queue = queue.New(qopts)
	s.server = server.New(server.Options{Secret: []byte(cfg.GitHub.WebhookSecret), MaxBodyBytes: cfg.GitHub.MaxWebhookBytes,
		Handler: bot.NewDispatcher(s.bot, s.queue, pushes), Registry: s.reg, Logger: log, Ready: s.ready,
		ShutdownTimeout: shutdownGrace, MaxBytesInFlight: cfg.GitHub.MaxWebhookBytesInFlight,
		Views: server.Views{Links: links, PullRequest: s.bot.PullRequestView, Target: s.rollout.TargetView},
		Pages: s.statusPages(links)})
	return s, nil
}

// coordinate sets up what replicas share through Kubernetes, when leader
// election is on: the leader's Lease, a Lease per repository that keeps its
// jobs on one replica at a time, and the push signals that reach the
// leader's rollout from whichever replica got the webhook. All three use
// one identity, unique to this process.
func (s *service) coordinate() error {
	le := s.cfg.LeaderElection
	if !le.Enabled {
		return nil
	}
	rc, err := cluster.RESTConfig(le.Kubeconfig, "")
	if err != nil {
		return err
	}
	id, err := leader.DefaultIdentity()
	if err != nil {
		return err
	}
	s.elector, err = leader.New(rc, leader.Options{Namespace: le.Namespace, Name: le.Name, Identity: id, LeaseDuration: le.LeaseDuration,
		RenewDeadline: le.RenewDeadline, RetryPeriod: le.RetryPeriod, Logger: s.log, Registerer: s.reg})
	if err != nil {
		return err
	}
	s.locks, err = leader.NewLocks(rc, leader.LockOptions{Namespace: le.Namespace, Prefix: le.Name, Identity: id, LeaseDuration: le.LeaseDuration,
		RenewDeadline: le.RenewDeadline, RetryPeriod: le.RetryPeriod, Logger: s.log})
	if err != nil {
		return err
	}
	s.pushes, err = leader.NewPushes(rc, leader.PushOptions{Namespace: le.Namespace, Prefix: le.Name, Identity: id, Logger: s.log})
	if err != nil || !le.ShardTargets {
		return err
	}
	s.shards, err = leader.NewShards(rc, leader.ShardOptions{Namespace: le.Namespace, Prefix: le.Name, Kind: "target", Identity: id,
		LeaseDuration: le.LeaseDuration, RenewDeadline: le.RenewDeadline, RetryPeriod: le.RetryPeriod, Logger: s.log, Registerer: s.reg})
	if err != nil {
		return err
	}
	s.resyncs, err = leader.NewShards(rc, leader.ShardOptions{Namespace: le.Namespace, Prefix: le.Name, Kind: "resync", Identity: id,
		LeaseDuration: le.LeaseDuration, RenewDeadline: le.RenewDeadline, RetryPeriod: le.RetryPeriod, Logger: s.log, Registerer: s.reg})
	return err
}

// repoLocker locks the queue's keys by repository: every job of a
// repository runs under the repository's Lease (see leader.Locks for why
// not per request). Push jobs only hand the push on and take no Lease, so
// that a long job elsewhere never delays a merge's apply.
type repoLocker struct{ locks *leader.Locks }

func (l repoLocker) Lock(ctx context.Context, key string) (context.Context, func(), error) {
	repo, lock := lockOf(key)
	if !lock {
		return ctx, func() {}, nil
	}
	return l.locks.Lock(ctx, repo)
}

// lockOf reads the repository of a queue key (owner/name, then #number,
// @checks or @push, or nothing for a resync) and tells whether its job
// takes the repository's Lease.
func lockOf(key string) (repo string, lock bool) {
	repo, suffix := key, ""
	if i := strings.IndexAny(key, "#@"); i >= 0 {
		repo, suffix = key[:i], key[i:]
	}
	return repo, suffix != "@push"
}

// KickRevert brings a revert recorded on a drift issue to the rollout at
// once: directly without leader election or on the leader, else through
// the repository's push signal Lease, as a push. The record on the issue
// is what counts: a signal that is lost only delays the revert to the
// leader's next drift check.
func (p *pushRelay) KickRevert(ctx context.Context, repo string) {
	s := p.s
	if s.pushes == nil || s.elector == nil || s.shards == nil && s.elector.IsLeader() {
		s.rollout.Kick(repo)
		return
	}
	if s.shards != nil {
		s.rollout.Kick(repo) // the owner of the drifted target may be another replica
	}
	if err := s.pushes.Signal(ctx, repo, "revert"); err != nil {
		s.log.Warn("revert not signalled to the leader; it runs at its next drift check", "repo", repo, "err", err)
	}
}

// pushRelay brings a push to the rollout, which runs on the leader only:
// on the leader it kicks the rollout directly, on a standby it signals the
// leader through the repository's push signal Lease. A signal that finds
// no leader is not needed: the next leader reconciles every repository when
// it starts.
//
// With the targets spread over the replicas (shardTargets) every replica
// hears the signals: the one that got the push kicks its own rollout and
// signals the others.
type pushRelay struct{ s *service }

// pushTries bounds how often a standby tries to signal a push.
const pushTries = 3

func (p *pushRelay) Pushed(ctx context.Context, repo, branch, sha string) {
	s := p.s
	if !s.rollout.Wants(ctx, repo, branch) {
		return
	}
	if s.shards == nil && s.elector.IsLeader() {
		s.rollout.Kick(repo)
		return
	}
	if s.shards != nil {
		// The repository's targets are spread over the replicas: this one
		// applies its own at once, and the signal reaches every other.
		s.rollout.Kick(repo)
	}
	for try := 1; ; try++ {
		err := s.pushes.Signal(ctx, repo, sha)
		if err == nil {
			return
		}
		if try == pushTries || ctx.Err() != nil {
			s.log.Error("push not handed to the leader; it is applied at the next interval", "repo", repo, "sha", sha, "err", err)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(try) * time.Second):
		}
	}
}

// botLogin asks GitHub who the App's bot user is (login and id), retrying retryable
// errors for a while: GitHub may be briefly unreachable when the process
// starts. A terminal error (a wrong App id or key) fails at once.
func (s *service) botLogin(ctx context.Context) (string, int64, error) {
	deadline := time.Now().Add(time.Minute)
	for wait := time.Second; ; wait = min(wait*2, 10*time.Second) {
		bu, err := s.app.BotUser(ctx)
		if err == nil {
			return bu.Login, bu.ID, nil
		}
		if time.Now().After(deadline) || retry.IsTerminal(err) {
			return "", 0, fmt.Errorf("reach GitHub at %s: %w", s.cfg.GitHub.APIURL, err)
		}
		s.log.Warn("GitHub not reachable yet", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return "", 0, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// run serves until ctx ends, then shuts down: no new webhooks, jobs in
// flight finish within the grace period, queued ones are left to the next
// resync, and the leader gives up its Lease after its work returned.
func (s *service) run(ctx context.Context, ln, opsLn net.Listener) error {
	// The server ending on its own (a listener failing) ends the leader's
	// work too, so serve returns its error instead of waiting for a signal.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	qctx, stopQueue := context.WithCancel(context.WithoutCancel(ctx))
	defer stopQueue()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := s.queue.Run(qctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("queue stopped", "err", err)
		}
	}()
	if s.shards != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.shardTargets(ctx)
		}()
	}
	go func() {
		defer wg.Done()
		if s.elector == nil {
			s.lead(ctx)
			return
		}
		if err := s.elector.Run(ctx, s.lead); err != nil && ctx.Err() == nil {
			s.log.Error("leader election stopped", "err", err)
		}
	}()
	if s.locks != nil {
		go s.locks.Observe(ctx, s.cfg.RepositoryNames()...)
	}
	s.log.Info("serving", "listen", s.cfg.Listen, "opsListen", s.cfg.OpsListen, "repositories", s.cfg.RepositoryNames(), "targets", len(s.cfg.Targets))
	serveErr := s.server.Serve(ctx, ln, opsLn)
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.queue.Shutdown(sctx); err != nil {
		s.log.Warn("queue shutdown", "err", err)
	}
	stopQueue()
	wg.Wait()
	s.log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, context.Canceled) {
		return serveErr
	}
	return nil
}

// shardTargets is every replica's share of the targets and of the
// repositories' resyncs, when they are spread over the replicas: the
// rollout runs here, applying and watching the targets whose Leases this
// replica holds (rollout.Own), hears the pushes any replica received, and
// resyncs the repositories whose resync Leases it holds.
func (s *service) shardTargets(ctx context.Context) {
	var names []string
	for _, t := range s.cfg.Targets {
		names = append(names, t.Name)
	}
	s.log.Info("sharing targets with the other replicas", "targets", len(names))
	if err := s.pushes.Watch(ctx, s.rollout.Kick); err != nil && ctx.Err() == nil {
		s.log.Error("push signals not watched; pushes received by other replicas are applied at the next interval", "err", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := s.rollout.Run(ctx); err != nil {
			s.log.Error("rollout stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		// The resync of GitHub work is spread the same way, a Lease per
		// repository.
		resync := func(ctx context.Context, repo string) {
			s.bot.RunResyncOf(ctx, s.queue, s.cfg.Resync.Interval, repo)
		}
		if err := s.resyncs.Run(ctx, s.cfg.RepositoryNames(), resync); err != nil {
			s.log.Error("resync Leases stopped", "err", err)
		}
	}()
	if err := s.shards.Run(ctx, names, s.rollout.Own); err != nil {
		s.log.Error("target Leases stopped", "err", err)
	}
	wg.Wait()
}

// lead is the work of the leader: the resync loop and the rollout, unless
// they are spread over the replicas (shardTargets): then the leader has
// nothing more to do than the others.
func (s *service) lead(ctx context.Context) {
	if s.shards != nil {
		s.log.Info("leading; targets and resyncs are spread over the replicas")
		<-ctx.Done()
		return
	}
	s.log.Info("leading: resync and reconcile")
	if s.pushes != nil {
		// The watch is up before the rollout's first reconcile of every
		// repository, so no push falls between the two.
		if err := s.pushes.Watch(ctx, s.rollout.Kick); err != nil && ctx.Err() == nil {
			s.log.Error("push signals not watched; pushes received by other replicas are applied at the next interval", "err", err)
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.bot.RunResync(ctx, s.queue, s.cfg.Resync.Interval)
	}()
	if err := s.rollout.Run(ctx); err != nil {
		s.log.Error("rollout stopped", "err", err)
	}
	wg.Wait()
}

// ready answers /readyz: GitHub reachable with the App's credentials.
func (s *service) ready(ctx context.Context) error {
	_, err := s.app.BotLogin(ctx)
	return err
}

// statusPages are the status pages and their JSON on the ops listener,
// read from the bot, the rollout, the queue and the leader election.
func (s *service) statusPages(links *permalink.Links) http.Handler {
	g := status.NewGatherer(status.Sources{Version: version(), Started: time.Now(), Repositories: s.cfg.RepositoryNames(),
		WebURL: func(full string) string { return strings.TrimSuffix(s.app.CloneURL(full), ".git") },
		Bot:    s.bot, Rollout: s.rollout, Queue: s.queue.Stats, Links: links, Logger: s.log, Leader: s.leaderStatus})
	return status.Handler(g, s.log)
}

// leaderStatus says whether this process leads.
func (s *service) leaderStatus() status.Leader {
	if s.elector == nil {
		return status.Leader{Leading: true}
	}
	return status.Leader{Election: true, Leading: s.elector.IsLeader(), Identity: s.elector.Identity()}
}
