package githubtest

import (
	"io"
	"log/slog"
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

// serveGit serves git's smart HTTP protocol for one repository, with
// installation tokens as passwords: git http-backend serves clones,
// fetches and the refs a push is offered; the push itself is received by
// receivePack, which keeps git's rules at the cost of what the push
// carries. Its ref changes become GitHub's events. The packs pushed are
// recorded (ReceivedPacks).
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
	if !push {
		s.mu.Unlock()
		locked = false
		h := &cgi.Handler{
			Path:   s.gitPath,
			Args:   []string{"http-backend"},
			Dir:    s.root,
			Env:    append(gitEnv(), "GIT_PROJECT_ROOT="+s.root, "GIT_HTTP_EXPORT_ALL=1"),
			Logger: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
			Stderr: io.Discard,
		}
		h.ServeHTTP(w, req)
		return
	}
	if updates := s.receivePack(r.Context(), w, req, rp); len(updates) > 0 {
		s.afterRefUpdates(r.Context(), rp, updates, s.userLocked(s.botLogin()))
	}
}

// ReceivedPack describes the pack one push over git's smart HTTP protocol
// carried, whether or not the push was accepted.
type ReceivedPack struct {
	// Objects is the number of objects in the pack, from its header.
	Objects int
	// Bytes is the size of the pack.
	Bytes int64
}

// ReceivedPacks returns the packs pushed to a repository over git's smart
// HTTP protocol, oldest first. Pushes that carry no pack (deletions only)
// are left out.
func (s *Server) ReceivedPacks(fullName string) ([]ReceivedPack, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return nil, err
	}
	return slices.Clone(r.packs), nil
}
