package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// shared is what every transport of one App uses.
type shared struct {
	base         http.RoundTripper
	log          *slog.Logger
	metrics      *metrics
	clock        Clock
	policy       RetryPolicy
	cache        *etagCache
	rates        rateBook
	secondary    secondaryBook
	userAgent    string
	basePath     string // the API URL's path without its trailing slash, e.g. "/api/v3"
	lowRateLimit float64
}

// wire is the transport an identity's authenticating transport sends
// through: retries around observation around the base transport.
func (sh *shared) wire(identity string) http.RoundTripper {
	return &retrier{sh: sh, identity: identity, next: &observer{sh: sh, identity: identity, next: sh.base}}
}

// cached puts the ETag cache between the transport that adds an
// installation token and the wire, where each request's token is known.
func (sh *shared) cached(identity string, wire http.RoundTripper) http.RoundTripper {
	return &cacheTransport{cache: sh.cache, identity: identity, next: wire}
}

// Clock is the transport's time source. Tests replace it to run backoff
// and rate limit waits without sleeping.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RetryPolicy says how calls are retried. Zero fields take the defaults.
//
// Requests that GitHub may act on twice (creating a comment, an issue or a
// pull request, appending check run annotations) are sent again only when
// GitHub certainly did not act: a rate limit refusal or a connection that
// could not be opened. A server error or a timeout on such a request is
// returned as a retryable error instead, because a 502 may come after the
// comment was written; the Client's create operations then look for what
// the first attempt may have made before trying again (see UpsertComment,
// CreateComment, CreateIssue, CreatePR). Every other request is retried
// on server errors, timeouts and network errors too.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts per call, the first included. Default 5.
	MaxAttempts int
	// InitialBackoff is the first wait after a failure. Default 500ms.
	InitialBackoff time.Duration
	// MaxBackoff caps the exponential backoff. Default 30s.
	MaxBackoff time.Duration
	// Multiplier grows the backoff per attempt. Default 2.
	Multiplier float64
	// Jitter randomises each wait by ± this fraction. Default 0.5; negative disables.
	Jitter float64
	// MaxRateLimitWait is the longest wait for a rate limit to reset
	// (Retry-After or X-RateLimit-Reset); beyond it the call fails with a
	// *RateLimitError at once. Default 1m.
	MaxRateLimitWait time.Duration
	// AttemptTimeout bounds one attempt until its response headers and body
	// are read. Default 30s.
	AttemptTimeout time.Duration
	// SecondaryBackoff is the wait after a secondary rate limit that says
	// neither Retry-After nor X-RateLimit-Reset; it doubles for each
	// further one in a row, per identity, until a call succeeds. Jitter
	// only lengthens it. Default 1m, GitHub's minimum.
	SecondaryBackoff time.Duration
	// MaxSecondaryBackoff caps that doubling. Default 15m.
	MaxSecondaryBackoff time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = 500 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 30 * time.Second
	}
	if p.Multiplier < 1 {
		p.Multiplier = 2
	}
	switch {
	case p.Jitter == 0:
		p.Jitter = 0.5
	case p.Jitter < 0:
		p.Jitter = 0
	}
	if p.MaxRateLimitWait <= 0 {
		p.MaxRateLimitWait = time.Minute
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = 30 * time.Second
	}
	if p.SecondaryBackoff <= 0 {
		p.SecondaryBackoff = time.Minute
	}
	if p.MaxSecondaryBackoff < p.SecondaryBackoff {
		p.MaxSecondaryBackoff = max(15*time.Minute, p.SecondaryBackoff)
	}
	return p
}

func (p RetryPolicy) backoff() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval:     p.InitialBackoff,
		RandomizationFactor: p.Jitter,
		Multiplier:          p.Multiplier,
		MaxInterval:         p.MaxBackoff,
	}
}

// onceOnlyKey marks a request's context: GitHub may act on it twice.
type onceOnlyKey struct{}

// onceOnly marks requests made with ctx as not safe to repeat blindly.
func onceOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, onceOnlyKey{}, true)
}

// repeatablePOSTs are POST routes whose repetition does no harm: GitHub
// answers a repeated reaction or label with the existing one, a newer
// status or check run with the same name supersedes the older one, and an
// extra installation token costs nothing.
var repeatablePOSTs = map[string]bool{
	"/app/installations/:installation_id/access_tokens":         true,
	"/repos/:owner/:repo/issues/:number/reactions":              true,
	"/repos/:owner/:repo/issues/comments/:comment_id/reactions": true,
	"/repos/:owner/:repo/issues/:number/labels":                 true,
	"/repos/:owner/:repo/statuses/:sha":                         true,
	"/repos/:owner/:repo/check-runs":                            true,
}

// repeatable reports whether a request may be sent again after GitHub may
// have acted on it.
func (t *retrier) repeatable(req *http.Request) bool {
	if v, _ := req.Context().Value(onceOnlyKey{}).(bool); v {
		return false
	}
	if req.Method != http.MethodPost {
		return true
	}
	return repeatablePOSTs[routeOf(strings.TrimPrefix(req.URL.Path, t.sh.basePath))]
}

// retrier sends a request again after failures, as RetryPolicy says, and
// waits out rate limits. What it gives up on goes up as a retryable error
// (package retry); the layers above decide whether to try again later.
type retrier struct {
	sh       *shared
	identity string
	next     http.RoundTripper
}

// verdict is what to do after one attempt.
type verdict struct {
	retry  bool
	reason string        // metric label
	wait   time.Duration // zero: use the backoff
	rate   *RateLimitError
}

// RoundTrip implements http.RoundTripper.
func (t *retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	p := t.sh.policy
	getBody, err := replayable(req)
	if err != nil {
		return nil, err
	}
	repeatable := t.repeatable(req)
	bo := p.backoff()
	for attempt := 1; ; attempt++ {
		if err := t.waitForReset(req); err != nil {
			return nil, err
		}
		resp, err := t.attempt(req, getBody)
		v := t.judge(req, resp, err, repeatable)
		if !v.retry {
			if err == nil && resp.StatusCode < 400 {
				t.sh.secondary.succeeded(identityOf(req, t.identity))
			}
			return resp, err
		}
		wait := v.wait
		if wait == 0 {
			wait = bo.NextBackOff()
		}
		if v.rate != nil && wait > p.MaxRateLimitWait {
			discard(resp)
			return nil, v.rate
		}
		if attempt >= p.MaxAttempts {
			if v.rate != nil {
				discard(resp)
				return nil, v.rate
			}
			return resp, err
		}
		discard(resp)
		t.sh.metrics.retries.WithLabelValues(v.reason).Inc()
		t.sh.log.Debug("github call retried", "method", req.Method, "path", req.URL.Path,
			"reason", v.reason, "attempt", attempt, "wait", wait, "err", err)
		if err := t.sh.clock.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("wait to retry %s %s: %w", req.Method, req.URL.Path, err)
		}
	}
}

// attempt sends one copy of req, bounded by the attempt timeout.
func (t *retrier) attempt(req *http.Request, getBody func() (io.ReadCloser, error)) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.sh.policy.AttemptTimeout)
	r := req.Clone(ctx)
	if getBody != nil {
		body, err := getBody()
		if err != nil {
			cancel()
			return nil, fmt.Errorf("replay request body: %w", err)
		}
		r.Body = body
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		timedOut := ctx.Err() != nil && req.Context().Err() == nil
		cancel()
		if timedOut {
			return nil, &TimeoutError{After: t.sh.policy.AttemptTimeout, Err: err}
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// judge classifies the outcome of one attempt.
func (t *retrier) judge(req *http.Request, resp *http.Response, err error, repeatable bool) verdict {
	if err != nil {
		if req.Context().Err() != nil {
			return verdict{}
		}
		var op *net.OpError
		switch {
		case errors.As(err, &op) && op.Op == "dial":
			return verdict{retry: true, reason: "network"}
		case errors.As(err, new(*TimeoutError)):
			return verdict{retry: repeatable, reason: "timeout"}
		default:
			return verdict{retry: repeatable && isNetworkError(err), reason: "network"}
		}
	}
	now := t.sh.clock.Now()
	switch code := resp.StatusCode; {
	case code == http.StatusForbidden || code == http.StatusTooManyRequests:
		// GitHub's body tells a secondary limit from an exhausted primary
		// one: both may come with X-RateLimit-Remaining: 0.
		secondary := bodyMentions(resp, "secondary rate limit")
		_, hasAfter := retryAfter(resp.Header)
		if !secondary && !hasAfter && resp.Header.Get("X-RateLimit-Remaining") == "0" {
			rl, _ := parseRateLimit(resp.Header, now)
			return verdict{retry: true, reason: "rate_limit", wait: untilReset(rl.Reset, now),
				rate: &RateLimitError{Reset: rl.Reset, Message: "primary rate limit exhausted"}}
		}
		if secondary || hasAfter || code == http.StatusTooManyRequests {
			wait := t.sh.secondary.hit(identityOf(req, t.identity), resp.Header, now, t.sh.policy)
			return verdict{retry: true, reason: "secondary_rate_limit", wait: wait,
				rate: &RateLimitError{Secondary: true, Reset: now.Add(wait), Message: "secondary rate limit"}}
		}
	case code >= 500:
		after, _ := retryAfter(resp.Header)
		return verdict{retry: repeatable, reason: "server_error", wait: min(after, t.sh.policy.MaxBackoff)}
	}
	return verdict{}
}

// waitForReset holds a request back while its identity is in a
// secondary rate limit backoff, or while its primary rate limit is known
// to be exhausted; conditional requests pass the latter, since a 304
// costs nothing.
func (t *retrier) waitForReset(req *http.Request) error {
	id := identityOf(req, t.identity)
	now := t.sh.clock.Now()
	if until := t.sh.secondary.until(id); now.Before(until) {
		wait := until.Sub(now)
		if wait > t.sh.policy.MaxRateLimitWait {
			return &RateLimitError{Secondary: true, Reset: until, Message: "secondary rate limit backoff; not calling"}
		}
		t.sh.log.Info("github secondary rate limit, waiting", "installation", id, "wait", wait)
		if err := t.sh.clock.Sleep(req.Context(), wait); err != nil {
			return fmt.Errorf("wait for secondary rate limit: %w", err)
		}
	}
	if req.Header.Get("If-None-Match") != "" || req.Header.Get("If-Modified-Since") != "" {
		return nil
	}
	rl := t.sh.rates.get(id)
	now = t.sh.clock.Now()
	if rl.Observed.IsZero() || rl.Remaining > 0 || !now.Before(rl.Reset) {
		return nil
	}
	wait := untilReset(rl.Reset, now)
	if wait > t.sh.policy.MaxRateLimitWait {
		return &RateLimitError{Reset: rl.Reset, Message: "primary rate limit exhausted; not calling"}
	}
	t.sh.log.Info("github rate limit exhausted, waiting for reset", "installation", id, "wait", wait)
	if err := t.sh.clock.Sleep(req.Context(), wait); err != nil {
		return fmt.Errorf("wait for rate limit reset: %w", err)
	}
	return nil
}

// untilReset is the wait until a rate limit window ends, with a second of
// margin for clock skew.
func untilReset(reset, now time.Time) time.Duration {
	return max(reset.Sub(now), 0) + time.Second
}

// retryAfter reads a Retry-After header given in seconds.
func retryAfter(h http.Header) (time.Duration, bool) {
	secs, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || secs < 0 {
		return 0, false
	}
	return time.Duration(secs) * time.Second, true
}

// bodyMentions reports whether an error body contains text, keeping the
// body readable for the caller.
func bodyMentions(resp *http.Response, text string) bool {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return err == nil && strings.Contains(strings.ToLower(string(b)), text)
}

// replayable returns a function giving a fresh copy of the request body,
// buffering bodies that cannot be obtained again.
func replayable(req *http.Request) (func() (io.ReadCloser, error), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		_ = req.Body.Close()
		return req.GetBody, nil
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, nil
}

// discard drains and closes a response that will not be returned, so its
// connection can be reused.
func discard(resp *http.Response) {
	if resp == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// cancelOnClose ends an attempt's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
