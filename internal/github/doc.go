// Package github owns gitvend's calls to GitHub's REST API as a GitHub App.
//
// An App (NewApp) signs App JWTs with the App's private key and hands out
// one Client per installation (App.Installation), whose installation token
// ghinstallation fetches and renews before it expires; App.Token gives the
// same token to git for clone and push. Client methods are the operations
// the bot and the reconciler need (permissions, team membership, reactions,
// comments, issues, pull requests, check runs with annotations, commit
// statuses, refs), each taking the repository as owner and repo and
// returning plain values. A 404 matches ErrNotFound. Errors follow package
// retry: client errors (4xx but 408, 409, 429 and rate limits) and bad
// arguments are terminal; server errors, rate limits, timeouts and network
// failures are retryable; *RateLimitError carries the reset time.
//
// Under go-github every call goes through a small transport stack, built
// per identity (the App itself, or one installation):
//
//	auth (ghinstallation) → ETag cache → retrier → observer → net/http
//
// The ETag cache turns repeated GETs into conditional requests: a 304 is
// answered from memory and costs no rate limit. GitHub binds an ETag to
// the credential it was served to, so the cache sits below the token and
// keeps entries per installation and per token generation: after the
// hourly token renewal each URL is fetched once more, and the old
// generation's entries are dropped. The App's own calls (a JWT signed per
// call) are not made conditional. The retrier retries server
// errors, timeouts and network errors with exponential backoff and jitter,
// waits out secondary rate limits as GitHub asks (Retry-After; else the
// X-RateLimit-Reset of a remaining of 0; else a minute, doubling while
// they keep coming, up to 15 minutes, with jitter), sharing the backoff
// among all requests of the identity until one succeeds, and waits out an
// exhausted primary rate limit (X-RateLimit-Reset), each up to
// RetryPolicy.MaxRateLimitWait, and
// never repeats a request GitHub may already have acted on (see
// RetryPolicy). The observer counts calls in Prometheus metrics
// (gitvend_github_api_calls_total, gitvend_github_rate_limit_remaining,
// gitvend_github_api_retries_total), logs each call at debug level and
// warns once per window when the rate limit runs low.
//
// Comments the App keeps up to date carry a hidden marker (Marker), which
// EnsureComment (and UpsertComment, which lists the thread first) finds
// again, so a restart never posts a second copy. The Ensure operations
// (EnsureComment, EnsurePR, EnsureCheckRuns) make one GitHub object match
// what the caller wants, writing only what differs, so they are safe to
// repeat.
package github
