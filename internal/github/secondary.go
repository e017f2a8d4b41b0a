package github

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// secondaryBook is the shared secondary rate limit backoff of each
// identity (the App, or one installation): until when none of its calls
// may be sent, and how many secondary limits came in a row. Every request
// of the identity waits for it, so one refusal holds back all of them
// instead of each finding out on its own.
type secondaryBook struct {
	mu sync.Mutex
	m  map[string]*secondaryState
}

type secondaryState struct {
	until   time.Time
	strikes int // secondary limits since the last success
}

func (b *secondaryBook) state(identity string) *secondaryState {
	if b.m == nil {
		b.m = map[string]*secondaryState{}
	}
	st, ok := b.m[identity]
	if !ok {
		st = &secondaryState{}
		b.m[identity] = st
	}
	return st
}

// hit records a secondary rate limit answered at now with header h and
// returns how long the identity must wait, as GitHub asks: Retry-After
// when given; else, when X-RateLimit-Remaining is 0, until
// X-RateLimit-Reset; else at least p.SecondaryBackoff, doubled for every
// further limit in a row up to p.MaxSecondaryBackoff, plus jitter.
func (b *secondaryBook) hit(identity string, h http.Header, now time.Time, p RetryPolicy) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.state(identity)
	wait := p.secondaryWait(h, now, st.strikes)
	st.strikes++
	if until := now.Add(wait); until.After(st.until) {
		st.until = until
	}
	return st.until.Sub(now)
}

// until is when the identity may call again; zero when it may now.
func (b *secondaryBook) until(identity string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st, ok := b.m[identity]; ok {
		return st.until
	}
	return time.Time{}
}

// succeeded ends a run of secondary limits: the next one starts again
// from the shortest wait.
func (b *secondaryBook) succeeded(identity string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st, ok := b.m[identity]; ok {
		st.strikes = 0
	}
}

// secondaryWait is the wait GitHub asks for after the strikes-th secondary
// limit in a row (counted from 0).
func (p RetryPolicy) secondaryWait(h http.Header, now time.Time, strikes int) time.Duration {
	if after, ok := retryAfter(h); ok {
		return after
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if rl, ok := parseRateLimit(h, now); ok && !rl.Reset.IsZero() {
			return untilReset(rl.Reset, now)
		}
	}
	wait := p.SecondaryBackoff
	for range strikes {
		if wait >= p.MaxSecondaryBackoff {
			break
		}
		wait *= 2
	}
	wait = min(wait, p.MaxSecondaryBackoff)
	if p.Jitter > 0 {
		// Never shorter than GitHub's minimum: jitter only adds.
		wait += time.Duration(rand.Float64() * p.Jitter * float64(wait))
	}
	return wait
}
