// Package retry is gitvend's one rule for retries: every error is either
// terminal or retryable, the package that makes an error says which, and
// every layer that repeats work asks this package before it does.
//
// # The contract
//
// An error is terminal when trying the same thing again cannot succeed:
// bad input, a refusal (401, 403, 404, 422, a target's allow-lists), a
// conflict the caller must resolve first (a push that is not a
// fast-forward), a render that is empty or broken. Every other error is
// retryable: server errors, timeouts, rate limits, dropped connections,
// an API server that is briefly away.
//
// A package marks its terminal errors in one of two ways:
//
//   - Terminal(err) wraps an error, keeping its message and its chain for
//     errors.Is and errors.As; a sentinel may be declared marked
//     (var ErrNotFound = retry.Terminal(errors.New("not found"))).
//   - An error type with a method Terminal() bool answers for itself, for
//     example github.APIError by its status code.
//
// IsTerminal walks an error's chain: the first error in it that answers
// (a Terminal(err) mark or a Terminal() method) decides. An error made of
// several (errors.Join, or fmt.Errorf with more than one %w) is terminal
// only when every part is: retrying a level-triggered job repeats its
// terminal parts harmlessly and may fix the others. An error with several
// causes that is terminal as a whole is marked as a whole.
//
// # Unknown errors are retryable
//
// An error nobody marked (a file system error, a failure inside go-git or
// client-go, the text of a server that misbehaves) is retryable, with
// bounded attempts. The work gitvend repeats is idempotent and
// level-triggered, so a needless retry costs a few calls and seconds,
// while a needless give-up leaves a request or a target waiting for the
// next resync or interval. Retrying is therefore the default, and terminal
// is a claim the package that knows must make. Every retry loop is
// bounded, and every one stops as soon as its own context is done;
// context.Canceled and context.DeadlineExceeded are not terminal, since an
// inner deadline (an HTTP client timeout, say) is a passing condition.
//
// # Who retries what
//
// Each layer repeats work at its own time scale, and none repeats a
// terminal error; only the periodic resync and rollout interval, which redo
// all the work anyway, come back to it, after someone has fixed its cause:
//
//	layer              repeats                    on                                   attempts, waits
//	-----------------  -------------------------  -----------------------------------  --------------------------------------
//	github transport   one HTTP request           rate limits (any request); a         RetryPolicy: 5 attempts, 0.5s doubling
//	                                              connection never opened (any         to 30s, ±50%; rate limits waited out
//	                                              request); 5xx, attempt timeouts and  up to MaxRateLimitWait (1m), beyond it
//	                                              dropped connections only for         a retryable *RateLimitError at once
//	                                              requests safe to repeat
//	github writeOnce   one create GitHub may      retryable errors other than rate     RetryPolicy: 5 attempts, same waits;
//	                   have done (comment,        limits (the transport waited those   the only retry of a write that is not
//	                   issue, pull request)       out), after finding it not done      safe to repeat
//	gitrepo            nothing                    -                                    fetch and push failures are retryable,
//	                                                                                   non-fast-forward, auth, not found and
//	                                                                                   bad arguments terminal
//	reconcile          nothing (client-go waits   -                                    *ApplyError and *EmptyRenderError say
//	                   out 429 Retry-After)                                            which; applying again converges
//	queue              one job (a webhook's or    retryable errors; terminal errors    Options: 5 attempts, 1s doubling to 1m,
//	                   a resync's)                and panics run once                  ±20%; later jobs of the key wait
//	bot resync         every open request and     nothing: it redoes the work          every resync interval, whatever the
//	                   pull request of a repo     periodically, as the backstop        last outcome
//	rollout            the sync of a repository   retryable errors: soon, with         1s doubling to the interval; terminal
//	                                              backoff; terminal errors: at the     ones wait for the next push or interval
//	                                              next push or interval
//	serve (startup)    asking GitHub for the      retryable errors                     1s doubling to 10s, for a minute; a
//	                   bot's login                                                     terminal error (bad App key) fails at once
//
// The layers multiply (a GET failing with 502 throughout is sent up to 5
// times per job attempt, in up to 5 job attempts) but their waits grow
// from milliseconds to minutes, so a blip is absorbed by the transport,
// an outage of a minute by the queue, and anything longer by the resync
// and the rollout's interval.
package retry
