package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v60/github"
)

// ErrNotFound is matched (errors.Is) by errors for things GitHub answers 404
// for: a missing repository, issue, pull request, comment, check run or ref,
// or one the installation cannot see.
var ErrNotFound = errors.New("not found")

// APIError is an answer from GitHub that is not a success.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Message is GitHub's message, with the field errors of a 422 appended.
	Message string
	// Method and Path say which call failed.
	Method, Path string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// Unwrap lets errors.Is(err, ErrNotFound) match a 404.
func (e *APIError) Unwrap() error {
	if e.Status == http.StatusNotFound {
		return ErrNotFound
	}
	return nil
}

// Retryable reports whether the same call may succeed later: server errors
// and 429 are, client errors are not.
func (e *APIError) Retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// RateLimitError says GitHub refused a call because a rate limit is
// exhausted, and the transport did not wait because the wait would have
// been longer than its limit.
type RateLimitError struct {
	// Secondary is true for a secondary (abuse) rate limit.
	Secondary bool
	// Reset is when calls may be made again.
	Reset time.Time
	// Message is GitHub's message.
	Message string
}

// Error implements error.
func (e *RateLimitError) Error() string {
	kind := "primary"
	if e.Secondary {
		kind = "secondary"
	}
	return fmt.Sprintf("github %s rate limit exceeded until %s: %s", kind, e.Reset.UTC().Format(time.RFC3339), e.Message)
}

// Retryable is always true: the call may be made again after Reset.
func (e *RateLimitError) Retryable() bool { return true }

// TimeoutError says GitHub did not answer one attempt within
// RetryPolicy.AttemptTimeout. It is retryable; it does not match
// context.DeadlineExceeded, which is kept for the caller's own deadline.
type TimeoutError struct {
	After time.Duration
	Err   error
}

// Error implements error.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("github did not answer within %s: %v", e.After, e.Err)
}

// Retryable is always true.
func (e *TimeoutError) Retryable() bool { return true }

// Timeout marks the error as a timeout for net.Error users.
func (e *TimeoutError) Timeout() bool { return true }

// retryable is implemented by the typed errors of this package.
type retryable interface{ Retryable() bool }

// IsRetryable reports whether err is worth retrying later with the same
// input: rate limits, server errors and network failures are; validation
// errors, missing things, permissions and the caller's own cancellation are
// not.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var r retryable
	if errors.As(err, &r) {
		return r.Retryable()
	}
	return isNetworkError(err)
}

// isNetworkError reports failures of the connection itself.
func isNetworkError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// convertError turns what go-github returned into this package's errors,
// keeping the transport's own typed errors as they are.
func convertError(err error) error {
	if err == nil {
		return nil
	}
	var own *RateLimitError
	if errors.As(err, &own) {
		return err
	}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) {
		return &RateLimitError{Reset: rl.Rate.Reset.Time, Message: rl.Message}
	}
	var abuse *gh.AbuseRateLimitError
	if errors.As(err, &abuse) {
		reset := time.Now()
		if abuse.RetryAfter != nil {
			reset = reset.Add(*abuse.RetryAfter)
		}
		return &RateLimitError{Secondary: true, Reset: reset, Message: abuse.Message}
	}
	var tokenErr *ghinstallation.HTTPError
	if errors.As(err, &tokenErr) && tokenErr.Response != nil {
		ae := &APIError{Status: tokenErr.Response.StatusCode, Message: tokenErr.Message}
		if req := tokenErr.Response.Request; req != nil {
			ae.Method, ae.Path = req.Method, req.URL.Path
		}
		return ae
	}
	var accepted *gh.AcceptedError
	if errors.As(err, &accepted) {
		return &APIError{Status: http.StatusAccepted, Message: "accepted, not done yet"}
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		ae := &APIError{Status: er.Response.StatusCode, Message: errorMessage(er)}
		if req := er.Response.Request; req != nil {
			ae.Method, ae.Path = req.Method, req.URL.Path
		}
		return ae
	}
	return err
}

// errorMessage joins GitHub's message with the details of its field errors.
func errorMessage(er *gh.ErrorResponse) string {
	parts := []string{er.Message}
	for _, e := range er.Errors {
		detail := strings.TrimSpace(strings.Join(nonEmpty(e.Resource, e.Field, e.Code, e.Message), " "))
		if detail != "" {
			parts = append(parts, detail)
		}
	}
	return strings.Join(parts, ": ")
}

func nonEmpty(values ...string) []string {
	out := values[:0]
	for _, v := range values {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// hasStatus reports whether err is an APIError with the given status whose
// message contains text.
func hasStatus(err error, status int, text string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status && strings.Contains(ae.Message, text)
}
