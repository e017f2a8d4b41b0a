package github

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// appIdentity labels calls made with the App's JWT rather than an
// installation token.
const appIdentity = "app"

// publicIdentity labels unauthenticated calls for public data.
const publicIdentity = "public"

// metrics are the collectors of one App.
type metrics struct {
	calls     *prometheus.CounterVec
	remaining *prometheus.GaugeVec
	retries   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitvend_github_api_calls_total",
			Help: "GitHub API calls sent, by method, route template and status code (\"error\" when no answer came).",
		}, []string{"method", "route", "code"}),
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitvend_github_rate_limit_remaining",
			Help: "Primary rate limit left, as last reported by GitHub, by installation id (\"app\" for App JWT calls).",
		}, []string{"installation"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitvend_github_api_retries_total",
			Help: "GitHub API calls sent again, by reason: server_error, network, timeout, secondary_rate_limit, rate_limit, unconfirmed_write.",
		}, []string{"reason"}),
	}
	var err error
	if m.calls, err = register(reg, m.calls); err != nil {
		return nil, err
	}
	if m.remaining, err = register(reg, m.remaining); err != nil {
		return nil, err
	}
	if m.retries, err = register(reg, m.retries); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// the same description, so that several Apps may share a registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

// RateLimit is the primary rate limit of one identity as GitHub last
// reported it in response headers.
type RateLimit struct {
	// Limit is the number of calls per window.
	Limit int
	// Remaining is what is left in the current window.
	Remaining int
	// Reset is when the window ends.
	Reset time.Time
	// Observed is when the headers were read; zero when no call was made yet.
	Observed time.Time
}

// rateBook keeps the last RateLimit seen per identity and warns once per
// window when the remainder runs low.
type rateBook struct {
	mu     sync.Mutex
	limits map[string]RateLimit
	warned map[string]time.Time
}

func (b *rateBook) get(identity string) RateLimit {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limits[identity]
}

// record stores rl and reports whether this is the first low reading of
// its window.
func (b *rateBook) record(identity string, rl RateLimit, lowBelow float64) (firstLow bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limits == nil {
		b.limits, b.warned = map[string]RateLimit{}, map[string]time.Time{}
	}
	b.limits[identity] = rl
	low := rl.Limit > 0 && float64(rl.Remaining) < lowBelow*float64(rl.Limit)
	if !low || b.warned[identity].Equal(rl.Reset) {
		return false
	}
	b.warned[identity] = rl.Reset
	return true
}

// parseRateLimit reads GitHub's X-RateLimit-* headers.
func parseRateLimit(h http.Header, now time.Time) (RateLimit, bool) {
	rem, err := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err != nil {
		return RateLimit{}, false
	}
	rl := RateLimit{Remaining: rem, Observed: now}
	rl.Limit, _ = strconv.Atoi(h.Get("X-RateLimit-Limit"))
	if secs, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		rl.Reset = time.Unix(secs, 0)
	}
	return rl, true
}

// identityOf names who a request is made as: "app" for an App JWT, else
// the installation the transport belongs to.
func identityOf(r *http.Request, installation string) string {
	auth := r.Header.Get("Authorization")
	if v, ok := strings.CutPrefix(auth, "Bearer "); ok && strings.Count(v, ".") == 2 {
		return appIdentity
	}
	return installation
}

// observer is the innermost transport: it sends one attempt, counts it,
// logs it and records the rate limit headers of the answer.
type observer struct {
	sh       *shared
	identity string
	next     http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", o.sh.userAgent)
	}
	id := identityOf(req, o.identity)
	route := routeOf(strings.TrimPrefix(req.URL.Path, o.sh.basePath))
	start := o.sh.clock.Now()
	resp, err := o.next.RoundTrip(req)
	elapsed := o.sh.clock.Now().Sub(start)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	o.sh.metrics.calls.WithLabelValues(req.Method, route, code).Inc()
	attrs := []any{"method", req.Method, "route", route, "path", req.URL.Path, "code", code,
		"installation", id, "duration", elapsed}
	if err != nil {
		o.sh.log.Debug("github call", append(attrs, "err", err)...)
		return nil, err
	}
	if rl, ok := parseRateLimit(resp.Header, o.sh.clock.Now()); ok {
		o.sh.metrics.remaining.WithLabelValues(id).Set(float64(rl.Remaining))
		attrs = append(attrs, "remaining", rl.Remaining)
		if o.sh.rates.record(id, rl, o.sh.lowRateLimit) {
			o.sh.log.Warn("github rate limit running low", "installation", id,
				"remaining", rl.Remaining, "limit", rl.Limit, "reset", rl.Reset)
		}
	}
	o.sh.log.Debug("github call", attrs...)
	return resp, nil
}
