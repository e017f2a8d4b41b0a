package github

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wireLog records what each GET carried and what came back, at the base
// transport, so tests see the requests GitHub sees.
type wireLog struct {
	next http.RoundTripper

	mu     sync.Mutex
	served map[string]string // ETag → Authorization it was served to
	sent   []wireCall
}

type wireCall struct {
	Path        string
	Conditional bool
	Status      int
	// Stale: the If-None-Match was served to another credential.
	Stale bool
}

func (w *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !strings.HasPrefix(req.URL.Path, "/repos/") {
		return resp, err
	}
	auth := req.Header.Get("Authorization")
	inm := req.Header.Get("If-None-Match")
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.served == nil {
		w.served = map[string]string{}
	}
	c := wireCall{Path: req.URL.Path, Conditional: inm != "", Status: resp.StatusCode}
	if inm != "" && w.served[inm] != auth {
		c.Stale = true
	}
	if etag := resp.Header.Get("ETag"); etag != "" {
		w.served[etag] = auth
	}
	w.sent = append(w.sent, c)
	return resp, nil
}

func (w *wireLog) take() []wireCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.sent
	w.sent = nil
	return out
}

// TestConditionalRequestsAcrossTokenRotation: the double, like GitHub,
// binds ETags to the token; after a rotation the client sends no ETag of
// the old token, refetches each URL once under the new token and hits
// again afterwards, and keeps no entry of the old generation.
func TestConditionalRequestsAcrossTokenRotation(t *testing.T) {
	wire := &wireLog{next: http.DefaultTransport}
	f := newFixture(t, fixtureOptions{options: []Option{WithTransport(wire)}})
	ctx := context.Background()
	a, b := f.openIssue(t, "a"), f.openIssue(t, "b")
	get := func(n int) {
		t.Helper()
		if _, err := f.client.GetIssue(ctx, owner, repoName, n); err != nil {
			t.Fatal(err)
		}
	}
	pa, pb := "/repos/acme/infra/issues/1", "/repos/acme/infra/issues/2"
	for _, n := range []int{a, b, a, b} {
		get(n)
	}
	want := []wireCall{{pa, false, 200, false}, {pb, false, 200, false}, {pa, true, 304, false}, {pb, true, 304, false}}
	if diff := cmp.Diff(want, wire.take()); diff != "" {
		t.Fatalf("before rotation (-want +got):\n%s", diff)
	}

	// The installation token is refused (rotated): the client gets a new
	// one and refetches.
	f.gh.ExpireTokens()
	for _, n := range []int{a, b, a, b} {
		get(n)
	}
	want = []wireCall{
		{pa, true, 401, false}, // the old token, refused
		{pa, false, 200, false},
		{pb, false, 200, false},
		{pa, true, 304, false},
		{pb, true, 304, false},
	}
	if diff := cmp.Diff(want, wire.take()); diff != "" {
		t.Errorf("after rotation (-want +got):\n%s", diff)
	}
	if f.gh.TokensIssued() != 2 {
		t.Errorf("tokens issued = %d, want 2", f.gh.TokensIssued())
	}
	if n := f.app.sh.cache.len(); n != 2 {
		t.Errorf("cache holds %d entries, want the 2 of the new token", n)
	}
}

// TestRenewedTokenDropsOldGeneration: a token renewed before it expires
// (no 401) also starts a new generation: the old ETags are neither sent
// nor kept.
func TestRenewedTokenDropsOldGeneration(t *testing.T) {
	wire := &wireLog{next: http.DefaultTransport}
	f := newFixture(t, fixtureOptions{options: []Option{WithTransport(wire)}})
	ctx := context.Background()
	n := f.openIssue(t, "renewed")
	for range 2 {
		if _, err := f.client.GetIssue(ctx, owner, repoName, n); err != nil {
			t.Fatal(err)
		}
	}
	wire.take()
	c := f.app.sh.cache
	key := f.client.identity + " "
	var before string
	c.mu.Lock()
	for k, el := range c.entries {
		if strings.HasPrefix(k, key) {
			before = el.Value.(*cacheEntry).gen
		}
	}
	c.mu.Unlock()
	// A new token source, as when the hourly token is renewed.
	f.client.auth.cur.Store(f.client.auth.newSource())
	for range 2 {
		if _, err := f.client.GetIssue(ctx, owner, repoName, n); err != nil {
			t.Fatal(err)
		}
	}
	want := []wireCall{{"/repos/acme/infra/issues/1", false, 200, false}, {"/repos/acme/infra/issues/1", true, 304, false}}
	if diff := cmp.Diff(want, wire.take()); diff != "" {
		t.Errorf("after renewal (-want +got):\n%s", diff)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.entries {
		if e := el.Value.(*cacheEntry); e.gen == before {
			t.Errorf("entry %s of the old generation kept", e.key)
		}
	}
}

// TestCacheKeepsInstallationsApart: two installations asking the same URL
// never share an entry, even when the server gives the same ETag.
func TestCacheKeepsInstallationsApart(t *testing.T) {
	var mu sync.Mutex
	var got []string
	next := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		got = append(got, req.Header.Get("Authorization")+" "+req.Header.Get("If-None-Match"))
		mu.Unlock()
		status, body := http.StatusOK, "{}"
		if req.Header.Get("If-None-Match") == `"same"` {
			status, body = http.StatusNotModified, ""
		}
		return &http.Response{StatusCode: status, Header: http.Header{"Etag": {`"same"`}}, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
	})
	cache := newETagCache(1 << 20)
	transport := func(identity, token string) http.RoundTripper {
		return withToken{token: token, next: &cacheTransport{cache: cache, identity: identity, next: next}}
	}
	one, two := transport("1", "ghs_one"), transport("2", "ghs_two")
	for _, rt := range []http.RoundTripper{one, two, one, two} {
		req, err := http.NewRequest(http.MethodGet, "https://api.github.com/users/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		discard(resp)
	}
	want := []string{"token ghs_one ", "token ghs_two ", `token ghs_one "same"`, `token ghs_two "same"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// withToken adds a token, as ghinstallation does above the cache.
type withToken struct {
	token string
	next  http.RoundTripper
}

func (a withToken) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "token "+a.token)
	return a.next.RoundTrip(req)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
