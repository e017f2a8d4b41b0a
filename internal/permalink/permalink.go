// Package permalink makes and checks the links gitvend posts on GitHub
// (a check run's details, a commit status's target) to its public,
// read-only views of a pull request or a target. Repositories may be
// private, so a link is not guessable: its path carries an HMAC of itself
// under a key derived from the webhook secret, and a view answers only
// paths whose signature checks.
package permalink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Prefix starts the path of every view.
const Prefix = "/v/"

// Links signs view paths. A nil or zero Links makes empty URLs: no
// public URL is configured.
type Links struct {
	base string // the public URL, without a trailing slash
	key  []byte
}

// New returns the links of a server reachable at publicURL, signed with a
// key derived from secret (the webhook secret). An empty publicURL gives
// Links that make empty URLs and still check signatures.
func New(publicURL string, secret []byte) *Links {
	if len(secret) == 0 {
		return nil // a key anyone could derive: no link is signed, no view served
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("gitvend public links v1"))
	return &Links{base: strings.TrimRight(publicURL, "/"), key: m.Sum(nil)}
}

// PullRequest is the URL of the view of pull request number of repo
// (owner/name), or "" without a public URL.
func (l *Links) PullRequest(repo string, number int) string {
	return l.url("pull/" + repo + "/" + strconv.Itoa(number))
}

// Target is the URL of the view of a target, or "" without a public URL.
func (l *Links) Target(name string) string {
	return l.url("target/" + url.PathEscape(name))
}

func (l *Links) url(p string) string {
	if l == nil || l.base == "" {
		return ""
	}
	return l.base + l.Sign(p)
}

// Sign returns the signed path of the view at p (such as "pull/o/r/7").
func (l *Links) Sign(p string) string {
	return Prefix + l.sig(p) + "/" + p
}

// sig is the signature of p: a truncated HMAC, 128 bits.
func (l *Links) sig(p string) string {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(p))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// View is what a signed path shows.
type View struct {
	// Kind is "pull" or "target".
	Kind string
	// Repo and Number name a pull request; Target a target.
	Repo   string
	Number int
	Target string
}

// Open checks the signature of an escaped request path and says which
// view it names; an unsigned, wrongly signed or malformed path is an
// error.
func (l *Links) Open(escapedPath string) (View, error) {
	rest, ok := strings.CutPrefix(escapedPath, Prefix)
	if !ok {
		return View{}, fmt.Errorf("path %q: not a view", escapedPath)
	}
	sig, p, ok := strings.Cut(rest, "/")
	if !ok || !hmac.Equal([]byte(sig), []byte(l.sig(p))) {
		return View{}, fmt.Errorf("path %q: signature does not match", escapedPath)
	}
	parts := strings.Split(p, "/")
	switch {
	case len(parts) == 4 && parts[0] == "pull":
		n, err := strconv.Atoi(parts[3])
		if err != nil || n <= 0 || parts[1] == "" || parts[2] == "" {
			break
		}
		return View{Kind: "pull", Repo: parts[1] + "/" + parts[2], Number: n}, nil
	case len(parts) == 2 && parts[0] == "target":
		name, err := url.PathUnescape(parts[1])
		if err != nil || name == "" {
			break
		}
		return View{Kind: "target", Target: name}, nil
	}
	return View{}, fmt.Errorf("path %q: names no view", escapedPath)
}
