package server

import (
	"cmp"
	"context"
	"html/template"
	"net/http"
	"time"

	"github.com/gitvend/gitvend/internal/permalink"
)

// Views answer the public, read-only views that check runs and commit
// statuses link to: one pull request, one target. Each shows only what a
// reader of the repository sees on GitHub already.
type Views struct {
	// Links check the signed paths; without them no view is served.
	Links *permalink.Links
	// PullRequest returns the view of a pull request, if known.
	PullRequest func(ctx context.Context, repo string, number int) (permalink.PullRequest, bool, error)
	// Target returns the view of a target, if known.
	Target func(ctx context.Context, name string) (permalink.Target, bool, error)
	// MaxConcurrent bounds the views answered at once (default
	// DefaultMaxViews): each reads GitHub or a cluster, and anyone who has
	// seen a link may ask. One more is answered 503 with Retry-After.
	MaxConcurrent int
	// Timeout bounds the reads of one view (default DefaultViewTimeout).
	Timeout time.Duration
}

// The bounds of the public views when Views leaves them unset.
const (
	DefaultMaxViews    = 8
	DefaultViewTimeout = 10 * time.Second
)

var viewPage = template.Must(template.New("view").Funcs(template.FuncMap{
	"short": func(sha string) string { return sha[:min(len(sha), 12)] },
	"when":  func(t time.Time) string { return t.Format(time.RFC3339) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>gitvend</title>
<style>body{margin:0 auto;max-width:60rem;padding:.75rem 1rem;font:15px/1.45 system-ui,sans-serif;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;display:block;overflow-x:auto}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d1d9e0;vertical-align:top}
code{font:.88em ui-monospace,monospace}</style></head>
<body>
{{with .PR}}<h1>{{.Repo}} #{{.Number}}</h1>
<p>Checked <code>{{short .HeadSHA}}</code> at {{when .Checked}}: policy {{if .Passed}}passed{{else}}failed{{end}} ({{.Counts}}); cost {{.Cost}}.</p>
<h2>Findings ({{len .Findings}})</h2>
{{if .Findings}}<table>
<tr><th></th><th>policy</th><th>where</th><th>message</th></tr>
{{range .Findings}}<tr><td>{{.Severity}}</td><td>{{.Policy}}</td><td><code>{{.Where}}</code></td><td>{{.Message}}</td></tr>
{{end}}</table>{{else}}<p>No policy findings.</p>{{end}}
{{end}}
{{with .Target}}<h1>Target {{.Name}}</h1>
<p>Repository {{.Repository}}.{{if .Revision}} Last applied <code>{{short .Revision}}</code> at {{when .At}}: {{.State}}, {{.Description}}.{{else}} Not applied yet.{{end}}</p>
{{if .Objects}}<h2>Changed by the last apply ({{len .Objects}})</h2>
<table><tr><th>action</th><th>object</th><th>status</th></tr>
{{range .Objects}}<tr><td>{{.Action}}</td><td><code>{{.Object}}</code></td><td>{{.Status}}</td></tr>
{{end}}</table>{{end}}
{{if .Elsewhere}}<p>The objects of the last apply and the live drift are shown by the replica that applies; the drift issue on GitHub lists what differs.</p>
{{else}}<h2>Drift ({{len .Drift}})</h2>
{{if .Drift}}<table><tr><th>object</th><th>fields</th></tr>
{{range .Drift}}<tr><td><code>{{.Object}}</code></td><td>{{if .Note}}{{.Note}}{{else}}{{range $i, $f := .Fields}}{{if $i}}, {{end}}<code>{{$f}}</code>{{end}}{{end}}</td></tr>
{{end}}</table>{{else}}<p>The live objects match Git.</p>{{end}}{{end}}
{{end}}
{{if .Unknown}}<p>gitvend has not checked this yet.</p>{{end}}
{{if .Unavailable}}<p>GitHub could not be read just now; try again in a minute. The check runs and commit statuses on GitHub have the results.</p>{{end}}
</body></html>
`))

// serveView answers a signed view path; an unsigned or wrongly signed
// one is not found, like a page that does not exist.
func (s *Server) serveView(w http.ResponseWriter, r *http.Request) {
	v := s.opts.Views
	if v.Links == nil {
		http.NotFound(w, r)
		return
	}
	view, err := v.Links.Open(r.URL.EscapedPath())
	if err != nil {
		s.log.Debug("view refused", "err", err)
		http.NotFound(w, r)
		return
	}
	if !s.views.TryAcquire(1) {
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusServiceUnavailable, "busy; try again in a second")
		return
	}
	defer s.views.Release(1)
	ctx, cancel := context.WithTimeout(r.Context(), cmp.Or(v.Timeout, DefaultViewTimeout))
	defer cancel()
	data := struct {
		PR          *permalink.PullRequest
		Target      *permalink.Target
		Unknown     bool
		Unavailable bool
	}{}
	switch view.Kind {
	case "pull":
		if v.PullRequest != nil {
			var pr permalink.PullRequest
			var ok bool
			if pr, ok, err = v.PullRequest(ctx, view.Repo, view.Number); ok && err == nil {
				data.PR = &pr
			}
		}
	case "target":
		if v.Target != nil {
			var t permalink.Target
			var ok bool
			if t, ok, err = v.Target(ctx, view.Target); ok && err == nil {
				data.Target = &t
			}
		}
	}
	if err != nil {
		s.log.Warn("view", "kind", view.Kind, "err", err)
		data.Unavailable = true
	}
	data.Unknown = data.PR == nil && data.Target == nil && !data.Unavailable
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	if err := viewPage.Execute(w, data); err != nil {
		s.log.Warn("write view", "err", err)
	}
}
