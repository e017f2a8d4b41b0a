package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/semaphore"

	"github.com/gitvend/gitvend/internal/permalink"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes    = 25 << 20 // GitHub's own cap on a webhook payload
	DefaultInFlightWait    = 5 * time.Second
	DefaultDedupSize       = 10_000
	DefaultDedupTTL        = 24 * time.Hour
	DefaultReadyTimeout    = 5 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
)

// DefaultEvents are the webhook event types handed to the handler when
// Options.Events is empty: those the bot acts on.
func DefaultEvents() []string {
	return []string{"issues", "issue_comment", "pull_request", "pull_request_review", "push", "check_suite", "check_run",
		"installation", "installation_repositories"}
}

// Options configure a Server.
type Options struct {
	// Secret is the webhook secret shared with GitHub. Without it every
	// delivery is refused.
	Secret []byte
	// MaxBodyBytes caps a webhook body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxBytesInFlight bounds the webhook body bytes held at once, while
	// they are read and their signature checked, across all deliveries
	// (default 4 × MaxBodyBytes; never less than one body of MaxBodyBytes).
	// A delivery that does not fit waits up to InFlightWait, then is
	// answered 503.
	MaxBytesInFlight int64
	// InFlightWait bounds how long a delivery waits for room within
	// MaxBytesInFlight (default DefaultInFlightWait).
	InFlightWait time.Duration
	// Handler receives the accepted deliveries.
	Handler WebhookHandler
	// Events are the event types handed on; others are answered 202 and
	// dropped (default DefaultEvents()).
	Events []string
	// Registry gets the server's metrics and is what /metrics on the ops
	// listener serves (default: a new registry).
	Registry *prometheus.Registry
	// Logger receives the server's log lines (default: discarded).
	Logger *slog.Logger
	// Ready answers /readyz: nil means ready (default: always ready).
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds one call of Ready (default DefaultReadyTimeout).
	ReadyTimeout time.Duration
	// Status returns what the status page on the ops listener shows,
	// rendered as JSON (optional; Pages, when set, replaces it).
	Status func() any
	// Pages serve the status pages on the ops listener: every GET path
	// but the probes and /metrics (optional).
	Pages http.Handler
	// DedupSize and DedupTTL bound the memory of delivery ids and of
	// signed bodies seen (defaults DefaultDedupSize and DefaultDedupTTL).
	DedupSize int
	DedupTTL  time.Duration
	// ShutdownTimeout bounds the graceful shutdown Run does when its
	// context ends (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
	// Views serves the public views of pull requests and targets at
	// signed paths under /v/ (optional).
	Views Views
}

// Server is gitvend's HTTP server. Create it with New.
//
// It has two listeners. The public one, the only one GitHub must reach,
// serves POST /webhook, the probes GET /healthz and GET /readyz, and the
// read-only views of a pull request or a target at signed paths under
// /v/ (see permalink), which check runs and commit statuses link to. The ops
// one serves GET /metrics, the status page at GET / and the probes (with
// /readyz?verbose giving the reason); it names repositories, targets and
// installations, so it belongs on loopback or a port only the cluster
// reaches.
type Server struct {
	opts     Options
	log      *slog.Logger
	events   map[string]bool
	metrics  *metrics
	handler  http.Handler
	ops      http.Handler
	started  time.Time
	inFlight *semaphore.Weighted
	views    *semaphore.Weighted // public views answered at once

	seenMu     sync.Mutex
	seenIDs    *expirable.LRU[string, struct{}]
	seenBodies *expirable.LRU[string, struct{}]

	srvMu sync.Mutex
	srvs  []*http.Server
}

// New returns a Server; Handler serves its routes, Run listens.
func New(opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	opts.MaxBytesInFlight = max(cmp.Or(opts.MaxBytesInFlight, 4*opts.MaxBodyBytes), roundUp(opts.MaxBodyBytes+1))
	if opts.InFlightWait <= 0 {
		opts.InFlightWait = DefaultInFlightWait
	}
	if len(opts.Events) == 0 {
		opts.Events = DefaultEvents()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.DedupSize <= 0 {
		opts.DedupSize = DefaultDedupSize
	}
	if opts.DedupTTL <= 0 {
		opts.DedupTTL = DefaultDedupTTL
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:       opts,
		log:        log,
		events:     map[string]bool{},
		metrics:    newMetrics(opts.Registry),
		started:    time.Now(),
		inFlight:   semaphore.NewWeighted(opts.MaxBytesInFlight),
		views:      semaphore.NewWeighted(int64(cmp.Or(max(opts.Views.MaxConcurrent, 0), DefaultMaxViews))),
		seenIDs:    expirable.NewLRU[string, struct{}](opts.DedupSize, nil, opts.DedupTTL),
		seenBodies: expirable.NewLRU[string, struct{}](opts.DedupSize, nil, opts.DedupTTL),
	}
	for _, e := range opts.Events {
		s.events[e] = true
	}
	healthz := func(w http.ResponseWriter, _ *http.Request) { reply(w, http.StatusOK, "ok") }

	public := http.NewServeMux()
	public.HandleFunc("POST /webhook", s.serveWebhook)
	public.HandleFunc("GET /healthz", healthz)
	public.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { s.serveReady(w, r, false) })
	public.HandleFunc("GET "+permalink.Prefix, s.serveView)
	s.handler = s.recoverPanics(public)

	ops := http.NewServeMux()
	ops.HandleFunc("GET /healthz", healthz)
	ops.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { s.serveReady(w, r, true) })
	ops.Handle("GET /metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}))
	if opts.Pages != nil {
		ops.Handle("GET /", opts.Pages)
	} else {
		ops.HandleFunc("GET /{$}", s.serveStatus)
	}
	s.ops = s.recoverPanics(ops)
	return s
}

// Handler returns the public listener's routes: /webhook and the probes.
func (s *Server) Handler() http.Handler { return s.handler }

// OpsHandler returns the ops listener's routes: /metrics, the status page
// and the probes.
func (s *Server) OpsHandler() http.Handler { return s.ops }

// Run listens on addr (the public listener) and opsAddr (the ops
// listener), both host:port, and serves until ctx ends, then shuts down
// gracefully within Options.ShutdownTimeout. An empty opsAddr serves no
// ops routes.
func (s *Server) Run(ctx context.Context, addr, opsAddr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	var opsLn net.Listener
	if opsAddr != "" {
		if opsLn, err = net.Listen("tcp", opsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s: %w", opsAddr, err)
		}
	}
	return s.Serve(ctx, ln, opsLn)
}

// Serve is Run on listeners the caller opened; it closes them. A nil opsLn
// serves no ops routes. When either listener fails, both stop.
func (s *Server) Serve(ctx context.Context, ln, opsLn net.Listener) error {
	type listener struct {
		ln      net.Listener
		handler http.Handler
		name    string
	}
	all := []listener{{ln, s.handler, "public"}}
	if opsLn != nil {
		all = append(all, listener{opsLn, s.ops, "ops"})
	}
	s.srvMu.Lock()
	if s.srvs != nil {
		s.srvMu.Unlock()
		for _, l := range all {
			l.ln.Close()
		}
		return errors.New("serve: server already started")
	}
	for _, l := range all {
		s.srvs = append(s.srvs, &http.Server{
			Handler:           l.handler,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       time.Minute,
			WriteTimeout:      time.Minute,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		})
	}
	srvs := s.srvs
	s.srvMu.Unlock()

	errc := make(chan error, len(all))
	for i, l := range all {
		go func() {
			err := srvs[i].Serve(l.ln)
			if !errors.Is(err, http.ErrServerClosed) {
				err = fmt.Errorf("serve http (%s listener): %w", l.name, err)
			} else {
				err = nil
			}
			errc <- err
		}()
		s.log.Info("http server listening", "listener", l.name, "addr", l.ln.Addr().String())
	}
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, s.Shutdown(sctx))
}

// Shutdown stops accepting connections on both listeners and waits, until
// ctx ends, for the requests in flight to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	s.srvMu.Lock()
	srvs := s.srvs
	s.srvMu.Unlock()
	if srvs == nil {
		return nil
	}
	var errs []error
	for _, srv := range srvs {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down http server: %w", err))
		}
	}
	s.log.Info("http server stopped")
	return errors.Join(errs...)
}

// recoverPanics answers 500 and logs instead of letting a panic in a
// handler drop the connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler { // the client went away: let net/http handle it
					panic(v)
				}
				s.log.Error("http handler panicked", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				reply(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// serveReady answers /readyz from Options.Ready; with verbose allowed,
// ?verbose adds the reason.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request, verbose bool) {
	if s.opts.Ready == nil {
		reply(w, http.StatusOK, "ok")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.ReadyTimeout)
	defer cancel()
	if err := s.opts.Ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		msg := "not ready"
		if verbose && r.URL.Query().Has("verbose") {
			msg += ": " + err.Error()
		}
		reply(w, http.StatusServiceUnavailable, msg)
		return
	}
	reply(w, http.StatusOK, "ok")
}

var statusPage = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gitvend</title></head>
<body>
<h1>gitvend</h1>
<p>Up since {{.Started}}. <a href="/healthz">/healthz</a> · <a href="/readyz?verbose">/readyz</a> · <a href="/metrics">/metrics</a></p>
{{if .Status}}<pre>{{.Status}}</pre>{{end}}
</body></html>
`))

// serveStatus renders the status page.
func (s *Server) serveStatus(w http.ResponseWriter, _ *http.Request) {
	var status string
	if s.opts.Status != nil {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // the template escapes
		enc.SetIndent("", "  ")
		if err := enc.Encode(s.opts.Status()); err != nil {
			status = "status unavailable: " + err.Error()
		} else {
			status = b.String()
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	err := statusPage.Execute(w, struct{ Started, Status string }{s.started.UTC().Format(time.RFC3339), status})
	if err != nil {
		s.log.Warn("write status page", "err", err)
	}
}

// reply writes a short plain-text answer.
func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg+"\n")
}
