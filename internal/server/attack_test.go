package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Tests that perform an attack on the server and show that it fails safely.

// filler is a request body of n bytes made up on the fly, so that the test
// itself holds none of them; read counts the bytes the server took.
type filler struct {
	left int64
	read *atomic.Int64
}

var fill = []byte(strings.Repeat(`{"pad":"xxxxxxxxxxxxxxxxxxxxxxx"}`, 2048))

func (f *filler) Read(p []byte) (int, error) {
	if f.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), f.left))
	for i := 0; i < n; {
		i += copy(p[i:n], fill)
	}
	f.left -= int64(n)
	f.read.Add(int64(n))
	return n, nil
}

// flood sends one POST /webhook per signature header at once, each with a
// body of size bytes, straight to the handler, and returns the answers'
// status codes and how many body bytes the server read in all.
func flood(t *testing.T, f *fixture, size int64, sigs []string) ([]int, int64) {
	t.Helper()
	var read atomic.Int64
	codes := make([]int, len(sigs))
	var wg sync.WaitGroup
	for i, sig := range sigs {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPost, "/webhook", &filler{left: size, read: &read})
			req.ContentLength = size
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "issues")
			req.Header.Set("X-GitHub-Delivery", "flood-"+strconv.Itoa(i))
			if sig != "" {
				req.Header.Set("X-Hub-Signature-256", sig)
			}
			w := httptest.NewRecorder()
			f.srv.Handler().ServeHTTP(w, req)
			codes[i] = w.Code
		})
	}
	wg.Wait()
	return codes, read.Load()
}

// heapWatch samples the heap in use until stopped and reports its peak and
// the bytes allocated meanwhile, both above what they were at the start.
type heapWatch struct {
	stop chan struct{}
	done chan struct{}
	base runtime.MemStats
	peak uint64
}

func watchHeap() *heapWatch {
	runtime.GC()
	h := &heapWatch{stop: make(chan struct{}), done: make(chan struct{})}
	runtime.ReadMemStats(&h.base)
	h.peak = h.base.HeapInuse
	go func() {
		defer close(h.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			h.peak = max(h.peak, m.HeapInuse)
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// end stops sampling and returns the peak heap growth and the bytes
// allocated since watchHeap.
func (h *heapWatch) end() (peak, allocated uint64) {
	close(h.stop)
	<-h.done
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return h.peak - min(h.peak, h.base.HeapInuse), m.TotalAlloc - h.base.TotalAlloc
}

// TestAttackWebhookMemory floods /webhook with 24 unsigned and then 24
// signed-but-forged posts of GitHub's full 25 MiB each, at once. Reading
// whole bodies before checking them took the heap past 1 GB; now unsigned
// posts are refused before a byte is read, forged ones are read within the
// bound on bytes in flight, and the heap grows by a fraction of that.
func TestAttackWebhookMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 600 MB through HMAC")
	}
	const (
		size     = DefaultMaxBodyBytes
		inFlight = 32 << 20 // room for one full body at a time
		// The heap may grow by the bytes in flight and some slack: far
		// below the 512 MiB the chart gives the container.
		maxGrowth = 64 << 20
		// Reading every forged body whole would allocate 24 × 25 MiB.
		maxAllocated = 128 << 20
	)
	f := newFixture(t, func(o *Options) {
		o.MaxBytesInFlight = inFlight
		o.InFlightWait = 5 * time.Minute // every post waits its turn: none is answered 503
	})

	unsigned := []string{"", "sha1=0123456789abcdef0123456789abcdef01234567", "sha256=zz",
		"sha256=" + strings.Repeat("a", 63), "sha512=" + strings.Repeat("ab", 64), "sha256 " + strings.Repeat("ab", 32)}
	var sigs []string
	for i := range 24 {
		sigs = append(sigs, unsigned[i%len(unsigned)])
	}
	watch := watchHeap()
	codes, read := flood(t, f, size, sigs)
	peak, allocated := watch.end()
	for i, c := range codes {
		if c != http.StatusUnauthorized {
			t.Errorf("unsigned post %d (signature %q) = %d, want 401", i, sigs[i], c)
		}
	}
	if read != 0 {
		t.Errorf("the server read %d bytes of unsigned bodies, want none", read)
	}
	t.Logf("unsigned: heap peak +%d MiB, %d MiB allocated", peak>>20, allocated>>20)
	if peak > maxGrowth || allocated > maxAllocated {
		t.Errorf("unsigned flood: heap peak +%d MiB, %d MiB allocated; want under %d MiB and %d MiB", peak>>20, allocated>>20, maxGrowth>>20, maxAllocated>>20)
	}

	forged := "sha256=" + strings.Repeat("ab", 32)
	sigs = sigs[:0]
	for range 24 {
		sigs = append(sigs, forged)
	}
	watch = watchHeap()
	codes, read = flood(t, f, size, sigs)
	peak, allocated = watch.end()
	for i, c := range codes {
		if c != http.StatusUnauthorized {
			t.Errorf("forged post %d = %d, want 401", i, c)
		}
	}
	if want := int64(len(sigs)) * size; read != want {
		t.Errorf("the server read %d bytes of forged bodies, want all %d (the HMAC covers the whole body)", read, want)
	}
	t.Logf("forged: heap peak +%d MiB, %d MiB allocated", peak>>20, allocated>>20)
	if peak > maxGrowth || allocated > maxAllocated {
		t.Errorf("forged flood: heap peak +%d MiB, %d MiB allocated; want under %d MiB and %d MiB", peak>>20, allocated>>20, maxGrowth>>20, maxAllocated>>20)
	}
	if got := f.counter(t, "issues", OutcomeBadSignature); got != 48 {
		t.Errorf("bad_signature count = %v, want 48", got)
	}
	if n := f.rec.calls(); n != 0 {
		t.Errorf("handler called %d times", n)
	}
}

// gate is a request body that blocks until opened, then ends.
type gate struct {
	started chan struct{}
	open    chan struct{}
	once    sync.Once
}

func (g *gate) Read([]byte) (int, error) {
	g.once.Do(func() { close(g.started) })
	<-g.open
	return 0, io.EOF
}

// TestAttackWebhookBytesInFlight holds the whole budget with one slow
// forged post: the next post is answered 503 with Retry-After once its wait
// ends, without reading its body, and is served once the slow one is done.
func TestAttackWebhookBytesInFlight(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.MaxBodyBytes = 1 << 20
		o.MaxBytesInFlight = 1 << 20 // raised to one full body and its last chunk
		o.InFlightWait = 50 * time.Millisecond
	})
	slow := &gate{started: make(chan struct{}), open: make(chan struct{})}
	req := httptest.NewRequest(http.MethodPost, "/webhook", slow)
	req.ContentLength = 1 << 20
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "issues")
	req.Header.Set("X-GitHub-Delivery", "slow")
	req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("00", 32))
	slowDone := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, req)
		slowDone <- w.Code
	}()
	<-slow.started

	var read atomic.Int64
	next := httptest.NewRequest(http.MethodPost, "/webhook", &filler{left: int64(len(issuePayload)), read: &read})
	next.Header.Set("Content-Type", "application/json")
	next.Header.Set("X-GitHub-Event", "issues")
	next.Header.Set("X-GitHub-Delivery", "next")
	next.Header.Set("X-Hub-Signature-256", sign(secret, []byte(issuePayload)))
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, next)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || read.Load() != 0 {
		t.Errorf("post while the budget is held = %d, Retry-After %q, %d bytes read; want 503 with Retry-After and nothing read",
			w.Code, w.Header().Get("Retry-After"), read.Load())
	}
	if f.counter(t, "issues", OutcomeBusy) != 1 {
		t.Error("busy outcome not counted")
	}

	close(slow.open)
	if code := <-slowDone; code != http.StatusUnauthorized {
		t.Errorf("slow forged post = %d, want 401", code)
	}
	if w := f.send(t, delivery{event: "issues", id: "next", body: issuePayload}); w.Code != http.StatusAccepted {
		t.Errorf("post after the budget was freed = %d %q, want 202", w.Code, w.Body.String())
	}
}

// TestAttackReplayUnderNewDeliveryID replays a signed delivery with a new
// X-GitHub-Delivery id, and with another event type: neither reaches the
// handler, as the signed body was seen already.
func TestAttackReplayUnderNewDeliveryID(t *testing.T) {
	f := newFixture(t, nil)
	if w := f.send(t, delivery{event: "issues", id: "orig", body: issuePayload}); w.Code != http.StatusAccepted {
		t.Fatalf("original delivery = %d", w.Code)
	}
	replays := []delivery{
		{event: "issues", id: "replay-1", body: issuePayload},
		{event: "issue_comment", id: "replay-2", body: issuePayload},
	}
	for _, d := range replays {
		if w := f.send(t, d); w.Code != http.StatusOK || w.Body.String() != "duplicate delivery\n" {
			t.Errorf("replay as %s/%s = %d %q, want 200 duplicate delivery", d.event, d.id, w.Code, w.Body.String())
		}
	}
	if n := f.rec.calls(); n != 1 {
		t.Errorf("handler called %d times, want once", n)
	}
	other := strings.Replace(issuePayload, `"number":7`, `"number":8`, 1)
	if w := f.send(t, delivery{event: "issues", id: "other", body: other}); w.Code != http.StatusAccepted {
		t.Errorf("a different signed body = %d, want 202", w.Code)
	}
}

// TestAttackOpsRoutesNotPublic asks the public listener for the metrics
// and the status page, which name repositories, targets and installations:
// they are served on the ops listener only.
func TestAttackOpsRoutesNotPublic(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Status = func() any { return map[string]any{"repositories": []string{"acme/infra"}} }
	})
	public, ops := newListener(t), newListener(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, public, ops) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	f.send(t, delivery{event: "issues", id: "1", body: issuePayload})

	tests := []struct {
		ln       net.Listener
		path     string
		code     int
		contains string
	}{
		{public, "/metrics", 404, ""},
		{public, "/", 404, ""},
		{public, "/healthz", 200, "ok"},
		{public, "/readyz", 200, "ok"},
		{ops, "/metrics", 200, `gitvend_webhooks_total{event="issues",outcome="accepted"} 1`},
		{ops, "/", 200, "acme/infra"},
		{ops, "/healthz", 200, "ok"},
	}
	for _, tt := range tests {
		name := "public"
		if tt.ln == ops {
			name = "ops"
		}
		t.Run(name+tt.path, func(t *testing.T) {
			resp, err := http.Get("http://" + tt.ln.Addr().String() + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.contains) {
				t.Errorf("GET %s on the %s listener = %d\n%s\nwant %d containing %q", tt.path, name, resp.StatusCode, b, tt.code, tt.contains)
			}
			if tt.ln == public && strings.Contains(string(b), "acme/infra") {
				t.Errorf("the public listener names a repository:\n%s", b)
			}
		})
	}
}
