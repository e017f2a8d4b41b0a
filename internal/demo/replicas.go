package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// NewReplicas prepares n servers for world w with binary bin, as replicas
// of one deployment: the same configuration but each with its own
// listeners, working directory and log (replica-<i>.yaml, work-<i>,
// replica-<i>.log). Each process gets its own identity in the Leases. The
// GitHub double's webhooks are left alone: point them at a Proxy.
func NewReplicas(w *World, bin string, n int) ([]*Serve, error) {
	var out []*Serve
	for i := range n {
		s, err := newServe(w, bin, fmt.Sprintf("replica-%d", i), fmt.Sprintf("work-%d", i), fmt.Sprintf("replica-%d.log", i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// IsLeader tells whether the server holds the leader's Lease now, as its
// gitvend_leader gauge says; false when it does not answer.
func (s *Serve) IsLeader(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.OpsURL()+"/metrics", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "gitvend_leader{") && strings.HasSuffix(line, " 1") {
			return true
		}
	}
	return false
}

// Proxy is a loopback HTTP proxy in front of replicas, as a Kubernetes
// Service is in front of pods: it sends each request to one backend, in
// turn, or always to one when told so. A request to a backend that is down
// fails with 502, as GitHub sees a delivery to a pod that just died.
type Proxy struct {
	backends []*Serve
	srv      *http.Server
	addr     string

	next   atomic.Uint64
	only   atomic.Int64 // backend index + 1 that takes every request; 0: alternate
	mu     sync.Mutex
	served []int // requests answered per backend
	failed []int // requests per backend that found it down
}

// NewProxy starts a proxy on a free loopback port in front of backends.
func NewProxy(backends ...*Serve) (*Proxy, error) {
	if len(backends) == 0 {
		return nil, errors.New("proxy: no backends")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{backends: backends, addr: ln.Addr().String(), served: make([]int, len(backends)), failed: make([]int, len(backends))}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's base URL.
func (p *Proxy) URL() string { return "http://" + p.addr }

// SendTo makes the proxy send every request to backend i; -1 makes it
// alternate again.
func (p *Proxy) SendTo(i int) { p.only.Store(int64(i + 1)) }

// Counts returns how many requests each backend answered and how many
// found it down.
func (p *Proxy) Counts() (served, failed []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.served...), append([]int(nil), p.failed...)
}

// Close stops the proxy.
func (p *Proxy) Close() error { return p.srv.Close() }

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	i := int(p.only.Load()) - 1
	if i < 0 || i >= len(p.backends) {
		i = int(p.next.Add(1)-1) % len(p.backends)
	}
	target, err := url.Parse(p.backends[i].URL())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			p.count(i, false)
			http.Error(w, fmt.Sprintf("replica %d: %v", i, err), http.StatusBadGateway)
		},
		ModifyResponse: func(*http.Response) error { p.count(i, true); return nil },
	}
	rp.ServeHTTP(w, r)
}

func (p *Proxy) count(i int, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ok {
		p.served[i]++
	} else {
		p.failed[i]++
	}
}
