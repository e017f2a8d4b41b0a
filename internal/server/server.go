package server

import (
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
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes    = 25 << 20 // GitHub's own cap on a webhook payload
	DefaultDedupSize       = 10_000
	DefaultDedupTTL        = 24 * time.Hour
	DefaultReadyTimeout    = 5 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
)

// DefaultEvents are the webhook event types handed to the handler when
// Options.Events is empty: those the bot acts on.
func DefaultEvents() []string {
	return []string{"issues", "issue_comment", "pull_request", "push", "check_suite", "check_run",
		"installation", "installation_repositories"}
}

// Options configure a Server.
type Options struct {
	// Secret is the webhook secret shared with GitHub. Without it every
	// delivery is refused.
	Secret []byte
	// MaxBodyBytes caps a webhook body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Handler receives the accepted deliveries.
	Handler WebhookHandler
	// Events are the event types handed on; others are answered 202 and
	// dropped (default DefaultEvents()).
	Events []string
	// Registry gets the server's metrics and is what /metrics serves
	// (default: a new registry).
	Registry *prometheus.Registry
	// Logger receives the server's log lines (default: discarded).
	Logger *slog.Logger
	// Ready answers /readyz: nil means ready (default: always ready).
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds one call of Ready (default DefaultReadyTimeout).
	ReadyTimeout time.Duration
	// Status returns what the status page shows, rendered as JSON (optional).
	Status func() any
	// DedupSize and DedupTTL bound the memory of delivery ids seen
	// (defaults DefaultDedupSize and DefaultDedupTTL).
	DedupSize int
	DedupTTL  time.Duration
	// ShutdownTimeout bounds the graceful shutdown Run does when its
	// context ends (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
}

// Server is gitvend's HTTP server. Create it with New.
type Server struct {
	opts    Options
	log     *slog.Logger
	events  map[string]bool
	metrics *metrics
	handler http.Handler
	started time.Time

	seenMu sync.Mutex
	seen   *expirable.LRU[string, struct{}]

	srvMu sync.Mutex
	srv   *http.Server
}

// New returns a Server; Handler serves its routes, Run listens.
func New(opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
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
		opts:    opts,
		log:     log,
		events:  map[string]bool{},
		metrics: newMetrics(opts.Registry),
		started: time.Now(),
		seen:    expirable.NewLRU[string, struct{}](opts.DedupSize, nil, opts.DedupTTL),
	}
	for _, e := range opts.Events {
		s.events[e] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook", s.serveWebhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { reply(w, http.StatusOK, "ok") })
	mux.HandleFunc("GET /readyz", s.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}))
	mux.HandleFunc("GET /{$}", s.serveStatus)
	s.handler = s.recoverPanics(mux)
	return s
}

// Handler returns the server's routes, for tests or another listener.
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens on addr (host:port) and serves until ctx ends, then shuts
// down gracefully within Options.ShutdownTimeout.
func (s *Server) Run(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened; it closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.srvMu.Lock()
	if s.srv != nil {
		s.srvMu.Unlock()
		ln.Close()
		return errors.New("serve: server already started")
	}
	s.srv = srv
	s.srvMu.Unlock()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("http server listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	return s.Shutdown(sctx)
}

// Shutdown stops accepting connections and waits, until ctx ends, for the
// requests in flight to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	s.srvMu.Lock()
	srv := s.srv
	s.srvMu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	s.log.Info("http server stopped")
	return nil
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

// serveReady answers /readyz from Options.Ready; ?verbose adds the reason.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready == nil {
		reply(w, http.StatusOK, "ok")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.ReadyTimeout)
	defer cancel()
	if err := s.opts.Ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		msg := "not ready"
		if r.URL.Query().Has("verbose") {
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
