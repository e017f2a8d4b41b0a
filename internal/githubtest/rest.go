package githubtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// authKind says which credential a route needs.
type authKind int

const (
	// authRepo needs an installation token that covers {owner}/{repo};
	// anonymous reads of public repositories are allowed.
	authRepo authKind = iota
	// authApp needs an App JWT.
	authApp
	// authAppRepo needs an App JWT and resolves {owner}/{repo}.
	authAppRepo
	// authInstallation needs an installation token.
	authInstallation
	// authOrg needs an installation token of the installation on {org}.
	authOrg
	// authPublic serves public data: anonymous reads or an installation
	// token.
	authPublic
)

// route is one REST operation served by the double.
type route struct {
	method   string
	template string // GitHub's path template, as used in call counts
	segs     []string
	greedy   string // parameter that may span several path segments
	auth     authKind
	handle   func(*call) (*response, error)
}

// call carries one REST request through its handler. Handlers run with
// Server.mu held.
type call struct {
	s      *Server
	r      *http.Request
	ctx    context.Context
	params map[string]string
	query  url.Values
	body   []byte
	actor  *user
	inst   *installation
	tok    *token
	repo   *repo
	link   string
}

// response is what a handler answers.
type response struct {
	status int
	body   any
}

// apiError is an error answered to the client in GitHub's error shape.
type apiError struct {
	status  int
	message string
	errors  []map[string]any
	header  http.Header
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.message) }

func errNotFound() *apiError { return &apiError{status: http.StatusNotFound, message: "Not Found"} }

func errStatus(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

// errValidation is GitHub's 422 "Validation Failed" with one error entry.
func errValidation(resource, field, code, message string) *apiError {
	e := map[string]any{"resource": resource, "code": code}
	if field != "" {
		e["field"] = field
	}
	if message != "" {
		e["message"] = message
	}
	return &apiError{status: http.StatusUnprocessableEntity, message: "Validation Failed", errors: []map[string]any{e}}
}

const docsURL = "https://docs.github.com/rest"

// routeFor builds a route from a template in which "{name*}" marks a
// parameter that may contain slashes.
func routeFor(method, template string, auth authKind, h func(*call) (*response, error)) route {
	rt := route{method: method, auth: auth, handle: h}
	segs := strings.Split(strings.TrimPrefix(template, "/"), "/")
	for i, sg := range segs {
		if strings.HasPrefix(sg, "{") && strings.HasSuffix(sg, "*}") {
			rt.greedy = sg[1 : len(sg)-2]
			segs[i] = "{" + rt.greedy + "}"
		}
	}
	rt.segs = segs
	rt.template = "/" + strings.Join(segs, "/")
	return rt
}

// match finds the route for a method and escaped path.
func (s *Server) match(method, escapedPath string) (*route, map[string]string, bool) {
	raw := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	parts := make([]string, len(raw))
	for i, p := range raw {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, nil, false
		}
		parts[i] = u
	}
	pathFound := false
	for i := range s.routes {
		rt := &s.routes[i]
		params := map[string]string{}
		if !matchSegs(rt, rt.segs, parts, params) {
			continue
		}
		pathFound = true
		if rt.method == method {
			return rt, params, true
		}
	}
	return nil, nil, pathFound
}

func matchSegs(rt *route, tmpl, parts []string, params map[string]string) bool {
	if len(tmpl) == 0 {
		return len(parts) == 0
	}
	t := tmpl[0]
	if !strings.HasPrefix(t, "{") {
		return len(parts) > 0 && parts[0] == t && matchSegs(rt, tmpl[1:], parts[1:], params)
	}
	name := t[1 : len(t)-1]
	if name != rt.greedy {
		if len(parts) == 0 || parts[0] == "" {
			return false
		}
		params[name] = parts[0]
		return matchSegs(rt, tmpl[1:], parts[1:], params)
	}
	for n := len(parts) - len(tmpl) + 1; n >= 1; n-- {
		if matchSegs(rt, tmpl[1:], parts[n:], params) {
			params[name] = strings.Join(parts[:n], "/")
			return true
		}
	}
	return false
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request, path string) {
	rt, params, pathFound := s.match(r.Method, path)
	if rt == nil {
		if pathFound {
			writeError(w, errStatus(http.StatusMethodNotAllowed, "Method Not Allowed"))
			return
		}
		writeError(w, errNotFound())
		return
	}
	key := r.Method + " " + rt.template
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		writeError(w, errStatus(http.StatusBadRequest, "Problems reading the request body"))
		return
	}

	s.mu.Lock()
	s.calls.add(key)
	f := s.drawFault(false)
	s.mu.Unlock()
	if !sleepCtx(r.Context(), f.latency) {
		return
	}
	if f.kind != faultNone {
		s.mu.Lock()
		s.calls.Faulted++
		s.mu.Unlock()
		writeFault(w, f)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c := &call{s: s, r: r, ctx: r.Context(), params: params, query: r.URL.Query(), body: body}
	bucket, err := s.authenticate(c, rt)
	if err != nil {
		writeError(w, asAPIError(s, err))
		return
	}
	conditional := r.Method == http.MethodGet && r.Header.Get("If-None-Match") != ""
	if bucket != nil && bucket.remaining(s.now()) == 0 && !conditional {
		bucket.setHeaders(w.Header(), s.now())
		writeError(w, &apiError{status: http.StatusForbidden, message: bucket.exceededMessage()})
		return
	}
	resp, err := rt.handle(c)
	if err != nil {
		if bucket != nil {
			bucket.consume(s.now())
			s.calls.RateLimitUsed++
			bucket.setHeaders(w.Header(), s.now())
		}
		writeError(w, asAPIError(s, err))
		return
	}
	var payload []byte
	if resp.body != nil {
		payload, err = json.Marshal(resp.body)
		if err != nil {
			writeError(w, asAPIError(s, fmt.Errorf("encode response: %w", err)))
			return
		}
	}
	h := w.Header()
	if r.Method == http.MethodGet && resp.status == http.StatusOK {
		etag := boundETag(r, payload)
		h.Set("ETag", etag)
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			s.calls.NotModified++
			if bucket != nil {
				bucket.setHeaders(h, s.now())
			}
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if bucket != nil {
		bucket.consume(s.now())
		s.calls.RateLimitUsed++
		bucket.setHeaders(h, s.now())
	}
	if c.link != "" {
		h.Set("Link", c.link)
	}
	if payload == nil {
		w.WriteHeader(resp.status)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.WriteHeader(resp.status)
	_, _ = w.Write(payload)
}

func asAPIError(s *Server, err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	s.log.Error("rest handler", "err", err)
	return errStatus(http.StatusInternalServerError, "%s", err.Error())
}

func writeError(w http.ResponseWriter, e *apiError) {
	for k, v := range e.header {
		w.Header()[k] = v
	}
	body := map[string]any{"message": e.message, "documentation_url": docsURL, "status": strconv.Itoa(e.status)}
	if e.errors != nil {
		body["errors"] = e.errors
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// boundETag is the ETag of a response body for the caller's credential:
// GitHub's responses vary by Authorization, so an ETag obtained with one
// token (or App JWT) never matches for another, and a client that keeps
// ETags across an hourly token rotation gets 200s, not 304s.
func boundETag(r *http.Request, payload []byte) string {
	cred, _ := parseAuthorization(r)
	h := sha256.New()
	h.Write([]byte(cred.value))
	h.Write([]byte{0})
	h.Write(payload)
	return `W/"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	strip := func(v string) string { return strings.TrimPrefix(strings.TrimSpace(v), "W/") }
	for _, v := range strings.Split(header, ",") {
		if strings.TrimSpace(v) == "*" || strip(v) == strip(etag) {
			return true
		}
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// decode reads the JSON request body into v; an empty body leaves v as is.
func (c *call) decode(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errStatus(http.StatusBadRequest, "Problems parsing JSON")
	}
	return nil
}

// intParam reads a numeric path parameter; a non-number is a 404 as on GitHub.
func (c *call) intParam(name string) (int64, error) {
	n, err := strconv.ParseInt(c.params[name], 10, 64)
	if err != nil || n <= 0 {
		return 0, errNotFound()
	}
	return n, nil
}

// paginate cuts one page out of items and sets the Link header like GitHub.
func paginate[T any](c *call, items []T) []T {
	perPage := 30
	if v, err := strconv.Atoi(c.query.Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	page := 1
	if v, err := strconv.Atoi(c.query.Get("page")); err == nil && v > 0 {
		page = v
	}
	last := (len(items) + perPage - 1) / perPage
	if last == 0 {
		last = 1
	}
	link := func(p int, rel string) string {
		q := c.r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, c.s.url, c.r.URL.Path, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"), link(1, "first"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	c.link = strings.Join(links, ", ")
	start := (page - 1) * perPage
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+perPage, len(items))]
}

func ok(body any) (*response, error) { return &response{status: http.StatusOK, body: body}, nil }
func created(body any) (*response, error) {
	return &response{status: http.StatusCreated, body: body}, nil
}
func noContent() (*response, error) { return &response{status: http.StatusNoContent}, nil }
