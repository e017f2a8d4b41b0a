// Package server owns gitvend's HTTP surface, on two listeners. The public
// one, the only one GitHub must reach, serves POST /webhook, where GitHub
// delivers signed events, and GET /healthz and GET /readyz for probes. The
// ops one serves GET /metrics for Prometheus, a small status page at GET /
// and the probes again; it names repositories, targets and installations,
// so it listens on loopback unless a deployment opens it to the cluster.
//
// A webhook without a well-formed X-Hub-Signature-256 header, or announcing
// a body over the limit, is refused before a byte of the body is read (401,
// 413). The body is then read within a global bound on webhook bytes in
// flight (a delivery that finds no room waits, then is answered 503) into
// pooled chunks while its HMAC is computed, and parsed only once the HMAC
// matches the shared secret (401 otherwise). A delivery whose id or signed
// body was seen before is answered 200 and not handed on again, so a replay
// under a new delivery id does nothing; event types the bot does not handle
// are answered 202 and dropped. Every other delivery is parsed with
// go-github and handed to a WebhookHandler, which only queues work, and is
// answered 202, or 503 when the queue is full (the bot's resync picks the
// work up later). Each delivery's log lines carry its delivery id, event and
// repository through a request-scoped logger (internal/logctx).
package server
