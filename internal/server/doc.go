// Package server owns gitvend's HTTP surface: POST /webhook, where GitHub
// delivers signed events, GET /healthz and GET /readyz for probes,
// GET /metrics for Prometheus and a small status page at GET /.
//
// A webhook is refused before anything is parsed when it is too large
// (413) or its X-Hub-Signature-256 HMAC does not match the shared secret
// (401); a delivery id seen before is answered 200 and not handed on again;
// event types the bot does not handle are answered 202 and dropped. Every
// other delivery is parsed with go-github and handed to a WebhookHandler,
// which only queues work, and is answered 202, or 503 when the queue is full
// (the bot's resync picks the work up later). Each delivery's log lines
// carry its delivery id, event and repository through a request-scoped
// logger (internal/logctx).
package server
