package githubtest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Faults makes the server misbehave on purpose. Faults apply to REST calls
// only, unless GitHTTP or Webhooks ask for more.
type Faults struct {
	// ErrorRate is the fraction of calls answered 502 Bad Gateway.
	ErrorRate float64
	// RateLimitRate is the fraction of calls answered 403 with GitHub's
	// secondary rate limit message and a Retry-After header.
	RateLimitRate float64
	// Latency is added to every call.
	Latency time.Duration
	// Seed makes the choice of failing calls reproducible.
	Seed int64
	// RetryAfter is the Retry-After of secondary rate limits, or how far
	// ahead X-RateLimit-Reset lies with RateLimitReset. Default one second.
	RetryAfter time.Duration
	// RateLimitShape is how a secondary rate limit is told; GitHub uses
	// each of them. Default RateLimitRetryAfter.
	RateLimitShape RateLimitShape
	// RateLimitStatus is the status of a secondary rate limit: 403
	// (default) or 429; GitHub answers both.
	RateLimitStatus int
	// GitHTTP applies ErrorRate and Latency to git smart-HTTP requests too.
	GitHTTP bool
	// Webhooks applies Latency to webhook deliveries and loses ErrorRate of them.
	Webhooks bool
}

// RateLimitShape is one of the ways GitHub tells a secondary rate limit;
// its body always mentions "secondary rate limit".
type RateLimitShape int

const (
	// RateLimitRetryAfter sends a Retry-After header.
	RateLimitRetryAfter RateLimitShape = iota
	// RateLimitReset sends X-RateLimit-Remaining: 0 and X-RateLimit-Reset,
	// without Retry-After.
	RateLimitReset
	// RateLimitBare sends neither: the client must wait at least a
	// minute, and longer when it keeps happening.
	RateLimitBare
)

// secondaryRateLimitMessage is GitHub's wording for a secondary rate limit.
const secondaryRateLimitMessage = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID."

const secondaryRateLimitDocs = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"

type faultKind int

const (
	faultNone faultKind = iota
	faultError
	faultRateLimit
)

type fault struct {
	kind       faultKind
	latency    time.Duration
	retryAfter time.Duration
	shape      RateLimitShape
	status     int
	limit      int
	now        time.Time
}

// SetFaults replaces the fault settings; the zero Faults turns faults off.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	seed := uint64(f.Seed)
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.hooks.setFaults(f, s.rng.Uint64())
}

// drawFault decides the fate of one call. Callers hold s.mu.
func (s *Server) drawFault(git bool) fault {
	f := s.faults
	if git && !f.GitHTTP {
		return fault{}
	}
	out := fault{latency: f.Latency, retryAfter: f.RetryAfter, shape: f.RateLimitShape, status: f.RateLimitStatus,
		limit: s.opts.RateLimit, now: s.now()}
	if out.retryAfter <= 0 {
		out.retryAfter = time.Second
	}
	if out.status != http.StatusTooManyRequests {
		out.status = http.StatusForbidden
	}
	if f.ErrorRate <= 0 && f.RateLimitRate <= 0 {
		return out
	}
	x := s.rng.Float64()
	switch {
	case x < f.ErrorRate:
		out.kind = faultError
	case !git && x < f.ErrorRate+f.RateLimitRate:
		out.kind = faultRateLimit
	}
	return out
}

func writeFault(w http.ResponseWriter, f fault) {
	var status int
	var body map[string]any
	switch f.kind {
	case faultRateLimit:
		secs := int((f.retryAfter + time.Second - 1) / time.Second)
		h := w.Header()
		switch f.shape {
		case RateLimitReset:
			h.Set("X-RateLimit-Limit", strconv.Itoa(f.limit))
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Used", strconv.Itoa(f.limit))
			h.Set("X-RateLimit-Reset", strconv.FormatInt(f.now.Add(time.Duration(secs)*time.Second).Unix(), 10))
			h.Set("X-RateLimit-Resource", "core")
		case RateLimitBare:
		default:
			h.Set("Retry-After", strconv.Itoa(secs))
		}
		status = f.status
		body = map[string]any{"message": secondaryRateLimitMessage, "documentation_url": secondaryRateLimitDocs}
	default:
		status = http.StatusBadGateway
		body = map[string]any{"message": "Server Error", "documentation_url": docsURL, "status": "502"}
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// rateBucket is one primary rate limit window.
type rateBucket struct {
	key   string
	limit int
	used  int
	reset time.Time
}

func (b *rateBucket) roll(now time.Time) {
	if b.reset.IsZero() || !now.Before(b.reset) {
		b.used = 0
		b.reset = now.Add(time.Hour).Truncate(time.Second)
	}
}

func (b *rateBucket) remaining(now time.Time) int {
	b.roll(now)
	return max(b.limit-b.used, 0)
}

func (b *rateBucket) consume(now time.Time) {
	b.roll(now)
	if b.used < b.limit {
		b.used++
	}
}

func (b *rateBucket) setHeaders(h http.Header, now time.Time) {
	b.roll(now)
	h.Set("X-RateLimit-Limit", strconv.Itoa(b.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(b.limit-b.used, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(b.used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(b.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

func (b *rateBucket) exceededMessage() string {
	return fmt.Sprintf("API rate limit exceeded for %s.", b.key)
}

// bucket returns the rate limit window for a key. Callers hold s.mu.
func (s *Server) bucket(key string, limit int) *rateBucket {
	b, ok := s.rate[key]
	if !ok {
		b = &rateBucket{key: key, limit: limit}
		s.rate[key] = b
	}
	return b
}

// RateLimitRemaining is what the primary rate limit leaves to an
// installation in the current window.
func (s *Server) RateLimitRemaining(installationID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bucket(instBucketKey(installationID), s.opts.RateLimit).remaining(s.now())
}

func instBucketKey(id int64) string { return "installation ID " + strconv.FormatInt(id, 10) }
