package status

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"short": func(sha string) string { return sha[:min(len(sha), 12)] },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"requestPath": RequestPath,
	"targetPath":  func(name string) string { return "/targets/" + url.PathEscape(name) },
	"outcome":     outcome,
	"join":        strings.Join,
}).ParseFS(templateFS, "templates/*.html"))

// RequestPath is the path of a request's page on the status listener.
func RequestPath(r Request) string {
	return "/requests/" + r.Repository + "/" + r.ID
}

// outcome is the CSS class of a state or conclusion.
func outcome(s string) string {
	switch s {
	case "success", "merged", "passed":
		return "ok"
	case "failure", "error", "timed_out", "cancelled", "action_required":
		return "bad"
	case "":
		return "none"
	}
	return "wait"
}

// Source reads the status; a *Gatherer is one.
type Source interface {
	Status(ctx context.Context) *Status
}

// Handler serves the status pages and their JSON: / and /api/status, a
// request at /requests/{owner}/{repo}/{id} and /api/requests/…, a target
// at /targets/{name} and /api/targets/{name}. It belongs on the ops
// listener: it names everything the process knows.
func Handler(src Source, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{src: src, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /api/status", h.apiStatus)
	mux.HandleFunc("GET /requests/{owner}/{repo}/{id...}", h.request)
	mux.HandleFunc("GET /api/requests/{owner}/{repo}/{id...}", h.request)
	mux.HandleFunc("GET /targets/{name}", h.target)
	mux.HandleFunc("GET /api/targets/{name}", h.target)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

type handler struct {
	src Source
	log *slog.Logger
}

// page is what a template gets.
type page struct {
	Title   string
	Status  *Status
	Request *Request
	Target  *Target
	// Nonce lets the page's own style and script run, and nothing else.
	Nonce string
}

func (h *handler) home(w http.ResponseWriter, r *http.Request) {
	st := h.src.Status(r.Context())
	h.html(w, "status.html", page{Title: "gitvend status", Status: st})
}

func (h *handler) apiStatus(w http.ResponseWriter, r *http.Request) {
	h.json(w, http.StatusOK, h.src.Status(r.Context()))
}

func (h *handler) request(w http.ResponseWriter, r *http.Request) {
	st := h.src.Status(r.Context())
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	req, ok := st.Request(repo, r.PathValue("id"))
	h.one(w, r, ok, "request", req, "request.html", page{Title: "Request " + req.ID, Status: st, Request: &req})
}

func (h *handler) target(w http.ResponseWriter, r *http.Request) {
	st := h.src.Status(r.Context())
	t, ok := st.Target(r.PathValue("name"))
	h.one(w, r, ok, "target", t, "target.html", page{Title: "Target " + t.Name, Status: st, Target: &t})
}

// one answers for one thing of the status (noun names it): value as JSON
// under /api/, else the page p through template name; a 404 saying so
// when it was not found.
func (h *handler) one(w http.ResponseWriter, r *http.Request, found bool, noun string, value any, name string, p page) {
	api := strings.HasPrefix(r.URL.Path, "/api/")
	switch {
	case !found && api:
		h.json(w, http.StatusNotFound, map[string]string{"error": "no such " + noun + " on this server"})
	case !found:
		w.WriteHeader(http.StatusNotFound)
		h.html(w, "missing.html", page{Title: "No such " + noun, Status: p.Status})
	case api:
		h.json(w, http.StatusOK, value)
	default:
		h.html(w, name, p)
	}
}

func (h *handler) html(w http.ResponseWriter, name string, p page) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:]) // never fails (crypto/rand)
	// URL-safe base64: CSP allows '-' and '_' in a nonce, and html/template
	// writes them as they are, where it would write '+' as "&#43;".
	p.Nonce = base64.RawURLEncoding.EncodeToString(nonce[:])
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+p.Nonce+"'; script-src 'nonce-"+p.Nonce+
		"'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	if err := pages.ExecuteTemplate(w, name, p); err != nil {
		h.log.Warn("write status page", "page", name, "err", err)
	}
}

func (h *handler) json(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		h.log.Warn("write status json", "err", err)
	}
}
