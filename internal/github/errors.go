package github

import (
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

	"github.com/gitvend/gitvend/internal/retry"
)

// ErrNotFound is matched (errors.Is) by errors for things GitHub answers 404
// for: a missing repository, issue, pull request, comment, check run or ref,
// or one the installation cannot see. It is terminal.
var ErrNotFound = retry.Terminal(errors.New("not found"))

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

// Terminal reports whether the same call cannot succeed later (see package
// retry). Client errors are terminal: bad credentials (401), forbidden
// (403), missing (404), invalid (422) and the rest of 4xx, except
//
//   - 408 and 429, and a 403 about a rate limit: GitHub asks to come back;
//   - 409: the thing changed meanwhile (a branch moved, a merge raced); a
//     job that reads the state again may succeed.
//
// Server errors (5xx) and 202 (accepted, not done yet) are retryable.
func (e *APIError) Terminal() bool {
	switch {
	case e.Status < 400 || e.Status >= 500:
		return false
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusConflict, e.Status == http.StatusTooManyRequests:
		return false
	case e.Status == http.StatusForbidden && strings.Contains(strings.ToLower(e.Message), "rate limit"):
		return false
	}
	return true
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

// Terminal is always false: the call may be made again after Reset.
func (e *RateLimitError) Terminal() bool { return false }

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

// Terminal is always false: a later attempt may be answered in time.
func (e *TimeoutError) Terminal() bool { return false }

// Timeout marks the error as a timeout for net.Error users.
func (e *TimeoutError) Timeout() bool { return true }

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
