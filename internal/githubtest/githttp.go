package githubtest

import (
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cgi"
	"slices"
	"strings"
)

func writeGitError(w http.ResponseWriter, status int, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// serveGit serves git's smart HTTP protocol for one repository through git
// http-backend, with installation tokens as passwords, and turns the ref
// changes of a push into GitHub's events.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request, path, owner, name string) {
	s.mu.Lock()
	f := s.drawFault(true)
	s.mu.Unlock()
	if !sleepCtx(r.Context(), f.latency) {
		return
	}
	if f.kind != faultNone {
		writeGitError(w, http.StatusBadGateway, "Server Error")
		return
	}
	rest := ""
	if parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3); len(parts) == 3 {
		rest = "/" + parts[2]
	}
	receive := strings.HasSuffix(rest, "/git-receive-pack") || r.URL.Query().Get("service") == "git-receive-pack"
	push := r.Method == http.MethodPost && strings.HasSuffix(rest, "/git-receive-pack")

	s.mu.Lock()
	locked := true
	defer func() {
		if locked {
			s.mu.Unlock()
		}
	}()
	rp, err := s.repoLocked(owner + "/" + name)
	if err != nil {
		writeGitError(w, http.StatusNotFound, "Repository not found.")
		return
	}
	_, pass, hasAuth := r.BasicAuth()
	var tok *token
	switch {
	case hasAuth:
		t, found := s.tokens[pass]
		if !found || !s.now().Before(t.expires) {
			writeGitError(w, http.StatusUnauthorized, "Invalid username or token. Password authentication is not supported for Git operations.")
			return
		}
		if !t.covers(rp) {
			writeGitError(w, http.StatusNotFound, "Repository not found.")
			return
		}
		tok = t
	case rp.private || receive:
		writeGitError(w, http.StatusUnauthorized, "Authentication required.")
		return
	}
	if receive && tok.permissions["contents"] != "write" {
		writeGitError(w, http.StatusForbidden, "Permission to "+rp.fullName()+".git denied to "+s.botLogin()+".")
		return
	}

	req := r.Clone(r.Context())
	req.URL.Path = "/" + rp.fullName() + ".git" + rest
	req.URL.RawPath = ""
	h := &cgi.Handler{
		Path:   s.gitPath,
		Args:   []string{"http-backend"},
		Dir:    s.root,
		Env:    append(gitEnv(), "GIT_PROJECT_ROOT="+s.root, "GIT_HTTP_EXPORT_ALL=1"),
		Logger: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		Stderr: io.Discard,
	}
	if !push {
		s.mu.Unlock()
		locked = false
		h.ServeHTTP(w, req)
		return
	}
	before, err := rp.git.refs(r.Context())
	if err != nil {
		writeGitError(w, http.StatusInternalServerError, err.Error())
		return
	}
	h.ServeHTTP(w, req)
	after, err := rp.git.refs(r.Context())
	if err != nil {
		s.log.Error("list refs after push", "repo", rp.fullName(), "err", err)
		return
	}
	var updates []refUpdate
	names := slices.Sorted(maps.Keys(after))
	for _, ref := range names {
		old, had := before[ref]
		switch {
		case !had:
			updates = append(updates, refUpdate{ref: ref, before: zeroSHA, after: after[ref]})
		case old != after[ref]:
			updates = append(updates, refUpdate{ref: ref, before: old, after: after[ref]})
		}
	}
	for _, ref := range slices.Sorted(maps.Keys(before)) {
		if _, still := after[ref]; !still {
			updates = append(updates, refUpdate{ref: ref, before: before[ref], after: zeroSHA})
		}
	}
	if len(updates) > 0 {
		s.afterRefUpdates(r.Context(), rp, updates, s.userLocked(s.botLogin()))
	}
}
