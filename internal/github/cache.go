package github

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// etagCache keeps the last 200 answer of GET requests that carried an ETag
// or Last-Modified, so that a repeated GET is sent as a conditional request
// and a 304, which GitHub does not charge to the rate limit, is answered
// from memory. It holds at most maxBytes of bodies, evicting the least
// recently used entries.
//
// GitHub binds an ETag to the credential it was served to: after an
// installation token is renewed (hourly), an old ETag no longer gives a
// 304. Entries are therefore kept per identity (installation) and per
// token generation; the first request of a new generation drops the
// identity's entries of older ones, so stale ETags are neither sent nor
// kept.
type etagCache struct {
	mu       sync.Mutex
	maxBytes int
	size     int
	order    *list.List // of *cacheEntry, most recently used first
	entries  map[string]*list.Element
	gens     map[string]string // identity → its current token generation
}

// cacheEntry is one remembered answer.
type cacheEntry struct {
	key          string
	identity     string
	gen          string // token generation the ETag was served to
	etag         string
	lastModified string
	header       http.Header
	body         []byte
}

func newETagCache(maxBytes int) *etagCache {
	return &etagCache{maxBytes: maxBytes, order: list.New(), entries: map[string]*list.Element{}, gens: map[string]string{}}
}

// use makes gen the current token generation of identity, dropping the
// identity's entries of any other generation when it changes.
func (c *etagCache) use(identity, gen string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, known := c.gens[identity]
	if known && cur == gen {
		return
	}
	c.gens[identity] = gen
	if !known {
		return
	}
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*cacheEntry); e.identity == identity && e.gen != gen {
			c.order.Remove(el)
			delete(c.entries, e.key)
			c.size -= len(e.body)
		}
		el = next
	}
}

// get returns the entry of key served to token generation gen.
func (c *etagCache) get(key, gen string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok || el.Value.(*cacheEntry).gen != gen {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

func (c *etagCache) put(e *cacheEntry) {
	if len(e.body) > c.maxBytes/8 {
		c.remove(e.key)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		c.size -= len(el.Value.(*cacheEntry).body)
		c.order.Remove(el)
	}
	c.entries[e.key] = c.order.PushFront(e)
	c.size += len(e.body)
	for c.size > c.maxBytes {
		last := c.order.Back()
		old := last.Value.(*cacheEntry)
		c.order.Remove(last)
		delete(c.entries, old.key)
		c.size -= len(old.body)
	}
}

func (c *etagCache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.size -= len(el.Value.(*cacheEntry).body)
		c.order.Remove(el)
		delete(c.entries, key)
	}
}

// len is the number of entries.
func (c *etagCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// cacheTransport makes GETs conditional with the cache of its identity.
// It sits below the transport that adds the installation token, so it sees
// the credential each request carries and keeps ETags per token.
type cacheTransport struct {
	cache    *etagCache
	identity string
	next     http.RoundTripper
}

// generation names the credential of a request without keeping it: a
// short digest of its Authorization header ("" without one).
func generation(req *http.Request) string {
	auth := req.Header.Get("Authorization")
	if auth == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(auth))
	return hex.EncodeToString(sum[:8])
}

// RoundTrip implements http.RoundTripper.
func (t *cacheTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.roundTrip(req)
	hideReset(resp, err)
	return resp, err
}

// hideReset keeps an exhausted rate limit from go-github: it would refuse
// every later call on its own until the reset, while the retrier already
// waits or fails with a *RateLimitError by RetryPolicy.MaxRateLimitWait.
func hideReset(resp *http.Response, err error) {
	if err == nil && resp.StatusCode < 400 && resp.Header.Get("X-RateLimit-Remaining") == "0" {
		resp.Header.Del("X-RateLimit-Reset")
	}
}

// resetHider applies hideReset to the calls that are not made
// conditional (the App's own, and public ones).
type resetHider struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t resetHider) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	hideReset(resp, err)
	return resp, err
}

func (t *cacheTransport) roundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.Header.Get("Range") != "" ||
		req.Header.Get("If-None-Match") != "" || req.Header.Get("If-Modified-Since") != "" {
		return t.next.RoundTrip(req)
	}
	gen := generation(req)
	t.cache.use(t.identity, gen)
	key := t.identity + " " + req.Header.Get("Accept") + " " + req.URL.String()
	entry := t.cache.get(key, gen)
	if entry != nil {
		req = req.Clone(req.Context())
		if entry.etag != "" {
			req.Header.Set("If-None-Match", entry.etag)
		}
		if entry.lastModified != "" {
			req.Header.Set("If-Modified-Since", entry.lastModified)
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && entry != nil:
		discard(resp)
		return fromCache(req, entry, resp.Header), nil
	case resp.StatusCode == http.StatusOK:
		etag, lastModified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if etag == "" && lastModified == "" {
			return resp, nil
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read response body: %w", err)
		}
		t.cache.put(&cacheEntry{key: key, identity: t.identity, gen: gen, etag: etag, lastModified: lastModified, header: resp.Header.Clone(), body: body})
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		t.cache.remove(key)
	}
	return resp, nil
}

// fromCache answers a request with a remembered 200, taking the fresh rate
// limit headers from the 304. X-From-Cache tells go-github not to record
// rate limits from it.
func fromCache(req *http.Request, e *cacheEntry, fresh http.Header) *http.Response {
	h := e.header.Clone()
	for _, k := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "X-Ratelimit-Used", "Date"} {
		if v := fresh.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	h.Set("X-From-Cache", "1")
	h.Set("Content-Length", strconv.Itoa(len(e.body)))
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(e.body)),
		ContentLength: int64(len(e.body)),
		Request:       req,
	}
}
