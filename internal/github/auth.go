package github

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/bradleyfalzon/ghinstallation/v2"
)

// installationAuth authenticates calls with an installation token from
// ghinstallation, which renews the token a minute before it expires. When
// GitHub nevertheless refuses the token (401: revoked, or the App was
// reinstalled), it starts over with a new token source and sends the call
// once more.
type installationAuth struct {
	newSource func() *ghinstallation.Transport
	log       *slog.Logger
	cur       atomic.Pointer[ghinstallation.Transport]
}

func newInstallationAuth(newSource func() *ghinstallation.Transport, log *slog.Logger) *installationAuth {
	a := &installationAuth{newSource: newSource, log: log}
	a.cur.Store(newSource())
	return a
}

func (a *installationAuth) token(ctx context.Context) (string, error) {
	return a.cur.Load().Token(ctx)
}

// RoundTrip implements http.RoundTripper.
func (a *installationAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	getBody, err := replayable(req)
	if err != nil {
		return nil, err
	}
	send := func(src *ghinstallation.Transport) (*http.Response, error) {
		r := req.Clone(req.Context())
		if getBody != nil {
			body, err := getBody()
			if err != nil {
				return nil, fmt.Errorf("replay request body: %w", err)
			}
			r.Body = body
		}
		return src.RoundTrip(r)
	}
	src := a.cur.Load()
	resp, err := send(src)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	fresh := a.newSource()
	if !a.cur.CompareAndSwap(src, fresh) {
		fresh = a.cur.Load()
	}
	a.log.Info("github refused the installation token; starting over with a new one", "installation", src.InstallationID())
	discard(resp)
	return send(fresh)
}
