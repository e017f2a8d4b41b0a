package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitvend/gitvend/internal/retry"
)

// Client calls GitHub as one installation of the App. It is safe for
// concurrent use. Methods take the repository as owner and repo, return
// plain values, wrap errors with what they did, and map 404 to ErrNotFound.
type Client struct {
	app      *App
	identity string
	id       int64
	auth     *installationAuth
	gh       *gh.Client
	log      *slog.Logger
}

// InstallationID is the installation the Client acts as.
func (c *Client) InstallationID() int64 { return c.id }

// Token returns the installation token, renewed when near expiry, for git
// over HTTPS with user "x-access-token".
func (c *Client) Token(ctx context.Context) (string, error) {
	tok, err := c.auth.token(ctx)
	if err != nil {
		return "", fmt.Errorf("get installation token: %w", convertError(err))
	}
	return tok, nil
}

// RateLimit returns the installation's primary rate limit as last seen in
// response headers; Observed is zero before the first call.
func (c *Client) RateLimit() RateLimit { return c.app.sh.rates.get(c.identity) }

// pageSize is the largest page GitHub serves.
const pageSize = 100

// listAll fetches every page of a list.
func listAll[T any](ctx context.Context, fetch func(gh.ListOptions) ([]T, *gh.Response, error)) ([]T, error) {
	var all []T
	opts := gh.ListOptions{PerPage: pageSize}
	for {
		items, resp, err := fetch(opts)
		if err != nil {
			return nil, convertError(err)
		}
		all = append(all, items...)
		if resp == nil || resp.NextPage == 0 {
			return all, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		opts.Page = resp.NextPage
	}
}

// writeOnce performs a write that GitHub could apply twice if it were
// repeated blindly (a new comment, issue or pull request). The transport
// does not repeat it after a server error or a timeout, since GitHub may
// have acted; writeOnce instead waits, asks find whether the write took
// effect, and writes again only when it did not. It is the only layer that
// repeats such a write, and only after a retryable error (package retry)
// other than a rate limit, which the transport has already waited out.
func (c *Client) writeOnce(ctx context.Context, what string, write func(context.Context) error, find func(context.Context) (bool, error)) error {
	p := c.app.sh.policy
	bo := p.backoff()
	for attempt := 1; ; attempt++ {
		err := write(ctx)
		var rl *RateLimitError
		if err == nil || retry.IsTerminal(err) || errors.As(err, &rl) || attempt >= p.MaxAttempts || ctx.Err() != nil {
			return err
		}
		c.log.Debug("github write failed, checking whether it happened", "what", what, "attempt", attempt, "err", err)
		c.app.sh.metrics.retries.WithLabelValues("unconfirmed_write").Inc()
		if serr := c.app.sh.clock.Sleep(ctx, bo.NextBackOff()); serr != nil {
			return fmt.Errorf("%w (gave up waiting: %w)", err, serr)
		}
		found, ferr := find(ctx)
		if ferr != nil {
			return fmt.Errorf("%w (checking whether it happened: %w)", err, ferr)
		}
		if found {
			return nil
		}
	}
}

// botLogin is the login the App writes as.
func (c *Client) botLogin(ctx context.Context) (string, error) { return c.app.BotLogin(ctx) }

// checkNumber rejects issue and pull request numbers GitHub never assigns.
func checkNumber(field string, n int) error {
	if n <= 0 {
		return fmt.Errorf("%s %d: want a positive number", field, n)
	}
	return nil
}

// checkID rejects ids GitHub never assigns.
func checkID(field string, id int64) error {
	if id <= 0 {
		return fmt.Errorf("%s %d: want a positive id", field, id)
	}
	return nil
}

// checkArgs validates a repository and joins the results of the caller's
// other checks; a bad argument is terminal.
func checkArgs(owner, repo string, more ...error) error {
	if err := checkRepo(owner, repo); err != nil {
		return retry.Terminal(err)
	}
	return retry.Terminal(errors.Join(more...))
}
