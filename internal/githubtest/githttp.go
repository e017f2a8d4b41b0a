package githubtest

import (
	"encoding/binary"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cgi"
	"slices"
	"strconv"
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
// changes of a push into GitHub's events. As on GitHub, a push whose pack
// leaves objects missing is refused: git receive-pack checks that every
// object an updated ref's new commit reaches is present once the pack is
// in, and otherwise reports the ref "missing necessary objects" and leaves
// it where it was. The packs pushed are recorded (ReceivedPacks).
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
	sniff := sniffPack(req)
	h.ServeHTTP(w, req)
	if sniff != nil && sniff.objects >= 0 {
		rp.packs = append(rp.packs, ReceivedPack{Objects: sniff.objects, Bytes: sniff.bytes})
	}
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
// and request bodies sent compressed are left out.
func (s *Server) ReceivedPacks(fullName string) ([]ReceivedPack, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.repoLocked(fullName)
	if err != nil {
		return nil, err
	}
	return slices.Clone(r.packs), nil
}

// sniffPack makes req's body report the pack it carries as git reads it;
// nil when the body is compressed.
func sniffPack(req *http.Request) *packSniffer {
	if enc := req.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return nil
	}
	p := &packSniffer{objects: -1}
	req.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(req.Body, p), req.Body}
	return p
}

// packSniffer is written a receive-pack request body as it streams: pkt-line
// sections (the ref updates, then push options when negotiated), each ended
// by a flush-pkt, then the pack. It reads the pack's object count from the
// pack header and counts the pack's bytes.
type packSniffer struct {
	pending []byte // bytes not parsed yet, before the pack
	inPack  bool
	lost    bool  // the body is not framed as expected; stop looking
	objects int   // -1 until the pack header is read
	bytes   int64 // pack bytes seen, header included
}

// Write never fails, so that the body reaches git whatever it holds.
func (p *packSniffer) Write(b []byte) (int, error) {
	switch {
	case p.inPack:
		p.bytes += int64(len(b))
	case !p.lost:
		p.pending = append(p.pending, b...)
		p.scan()
	}
	return len(b), nil
}

// scan consumes whole pkt-lines from pending until it reaches the pack
// header.
func (p *packSniffer) scan() {
	for len(p.pending) >= 4 {
		if string(p.pending[:4]) == "PACK" {
			if len(p.pending) < 12 {
				return
			}
			p.objects = int(binary.BigEndian.Uint32(p.pending[8:12]))
			p.inPack, p.bytes, p.pending = true, int64(len(p.pending)), nil
			return
		}
		size, err := strconv.ParseUint(string(p.pending[:4]), 16, 16)
		switch {
		case err != nil || (size > 0 && size < 4):
			p.lost, p.pending = true, nil
			return
		case size == 0: // flush-pkt
			size = 4
		}
		if uint64(len(p.pending)) < size {
			return
		}
		p.pending = p.pending[size:]
	}
}
