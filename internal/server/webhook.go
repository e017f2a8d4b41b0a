package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/queue"
)

// Webhook is one verified, parsed delivery.
type Webhook struct {
	// Event is the X-GitHub-Event header, such as "issues".
	Event string
	// DeliveryID is the X-GitHub-Delivery GUID; a redelivery keeps it.
	DeliveryID string
	// InstallationID is the App installation the event belongs to (0 when
	// the payload names none).
	InstallationID int64
	// Repo is the repository's owner/name as the payload spells it, in
	// GitHub's canonical case, which a configuration need not share:
	// compare it with config.SameRepo ("" for events without one).
	Repo string
	// Sender is the login of the user that caused the event.
	Sender string
	// Payload is the parsed go-github event, such as *github.IssuesEvent.
	Payload any
	// Received is when the delivery arrived.
	Received time.Time
}

// WebhookHandler receives accepted deliveries. HandleWebhook must return
// quickly (it queues work); an error wrapping queue.ErrFull is answered
// 503, any other error 500. ctx carries the delivery's logger
// (logctx.LoggerFrom).
type WebhookHandler interface {
	HandleWebhook(ctx context.Context, hook Webhook) error
}

// Outcomes of a delivery, the values of the outcome label of
// gitvend_webhooks_total.
const (
	OutcomeAccepted     = "accepted"
	OutcomeDuplicate    = "duplicate"
	OutcomeIgnored      = "ignored"
	OutcomeBadSignature = "bad_signature"
	OutcomeTooLarge     = "too_large"
	OutcomeBadRequest   = "bad_request"
	OutcomeQueueFull    = "queue_full"
	OutcomeBusy         = "busy"
	OutcomeError        = "error"
)

// verdict is how a delivery is answered.
type verdict struct {
	status  int
	outcome string
	msg     string // the answer's body
	err     error  // detail for the log, never sent
}

const (
	sigHeader      = "X-Hub-Signature-256"
	eventHeader    = "X-GitHub-Event"
	deliveryHeader = "X-GitHub-Delivery"
)

// serveWebhook answers POST /webhook.
func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	event, delivery := clip(r.Header.Get(eventHeader)), clip(r.Header.Get(deliveryHeader))
	ctx := logctx.WithLogger(r.Context(), s.log.With("delivery", delivery, "event", event))
	ctx, v := s.receive(ctx, r, start)
	log := logctx.LoggerFrom(ctx)
	if v.outcome == OutcomeBusy {
		w.Header().Set("Retry-After", "5")
	}

	reply(w, v.status, v.msg)
	label := "other"
	if s.events[event] {
		label = event
	}
	s.metrics.webhooks.WithLabelValues(label, v.outcome).Inc()
	s.metrics.latency.WithLabelValues(v.outcome).Observe(time.Since(start).Seconds())

	level := slog.LevelInfo
	switch {
	case v.status >= 500:
		level = slog.LevelError
	case v.status >= 400:
		level = slog.LevelWarn
	case v.outcome == OutcomeIgnored:
		level = slog.LevelDebug
	}
	attrs := []any{"status", v.status, "outcome", v.outcome, "duration", time.Since(start)}
	if v.err != nil {
		attrs = append(attrs, "err", v.err)
	}
	log.Log(ctx, level, "webhook", attrs...)
}

// receive checks, parses and hands on one delivery. The returned context
// carries the delivery's logger, with the repository once it is known.
//
// Nothing of an unsigned delivery is read: the signature header is checked
// first. The body is then read within a share of Options.MaxBytesInFlight,
// its HMAC computed as it streams in, and parsed only once the HMAC
// matched. The share covers the raw body until it is verified and copied
// out; the verified payload and what is parsed from it, which only the
// secret's holder can send, are outside it.
func (s *Server) receive(ctx context.Context, r *http.Request, received time.Time) (context.Context, verdict) {
	if len(s.opts.Secret) == 0 {
		return ctx, verdict{http.StatusUnauthorized, OutcomeBadSignature, "signature cannot be verified", errors.New("no webhook secret configured")}
	}
	if r.ContentLength > s.opts.MaxBodyBytes {
		return ctx, tooLarge(s.opts.MaxBodyBytes)
	}
	want, ok := parseSignature(r.Header.Get(sigHeader))
	if !ok {
		return ctx, verdict{http.StatusUnauthorized, OutcomeBadSignature, "missing or malformed " + sigHeader, nil}
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (ct != "application/json" && ct != "application/x-www-form-urlencoded") {
		return ctx, verdict{http.StatusUnsupportedMediaType, OutcomeBadRequest, "Content-Type must be application/json or application/x-www-form-urlencoded", nil}
	}
	payload, v := s.readVerified(ctx, r, ct, want)
	if v != nil {
		return ctx, *v
	}

	event, delivery := r.Header.Get(eventHeader), r.Header.Get(deliveryHeader)
	if event == "" || delivery == "" {
		return ctx, verdict{http.StatusBadRequest, OutcomeBadRequest, "missing " + eventHeader + " or " + deliveryHeader + " header", nil}
	}
	if !s.events[event] {
		return ctx, verdict{http.StatusAccepted, OutcomeIgnored, "ignored: event not handled", nil}
	}
	// The delivery id is not signed: a replay of a signed body under a
	// new id is caught by the body's own HMAC.
	key := seenKey{delivery: delivery, body: hex.EncodeToString(want)}
	if !s.markSeen(key) {
		return ctx, verdict{http.StatusOK, OutcomeDuplicate, "duplicate delivery", nil}
	}
	hook, err := parse(event, delivery, payload, received)
	if err != nil {
		s.forget(key)
		return ctx, verdict{http.StatusBadRequest, OutcomeBadRequest, "payload does not parse as a " + clip(event) + " event", err}
	}
	ctx, _ = logctx.With(ctx, "repo", hook.Repo, "installation", hook.InstallationID)
	if v := s.handOn(ctx, hook); v.outcome != OutcomeAccepted {
		s.forget(key)
		return ctx, v
	}
	return ctx, verdict{http.StatusAccepted, OutcomeAccepted, "accepted", nil}
}

// readVerified reads the body within a share of the bytes in flight and
// returns its JSON payload once its HMAC equals want; otherwise it returns
// how to answer.
func (s *Server) readVerified(ctx context.Context, r *http.Request, contentType string, want []byte) ([]byte, *verdict) {
	limit := s.opts.MaxBodyBytes
	if r.ContentLength >= 0 {
		limit = r.ContentLength
	}
	share := roundUp(limit + 1)
	if err := s.acquire(ctx, share); err != nil {
		return nil, &verdict{http.StatusServiceUnavailable, OutcomeBusy, "busy: too many webhook bytes in flight, retry later", err}
	}
	defer s.inFlight.Release(share)
	b, ok, err := readSigned(r.Body, limit, s.opts.Secret, want)
	switch {
	case errors.Is(err, errBodyTooLarge):
		v := tooLarge(s.opts.MaxBodyBytes)
		return nil, &v
	case err != nil:
		return nil, &verdict{http.StatusBadRequest, OutcomeBadRequest, "body could not be read", err}
	case !ok:
		b.release()
		return nil, &verdict{http.StatusUnauthorized, OutcomeBadSignature, "invalid signature", errors.New("payload signature check failed")}
	}
	payload, err := b.payload(contentType)
	if err != nil {
		return nil, &verdict{http.StatusBadRequest, OutcomeBadRequest, "body is not a form with a payload field", err}
	}
	return payload, nil
}

// acquire takes n bytes of the webhook budget, waiting up to
// Options.InFlightWait for them.
func (s *Server) acquire(ctx context.Context, n int64) error {
	if s.inFlight.TryAcquire(n) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.InFlightWait)
	defer cancel()
	if err := s.inFlight.Acquire(ctx, n); err != nil {
		return fmt.Errorf("wait %s for %d bytes of webhook budget: %w", s.opts.InFlightWait, n, err)
	}
	return nil
}

func tooLarge(limit int64) verdict {
	return verdict{http.StatusRequestEntityTooLarge, OutcomeTooLarge, fmt.Sprintf("payload larger than %d bytes", limit), nil}
}

// handOn calls the handler, turning a panic into a 500.
func (s *Server) handOn(ctx context.Context, hook Webhook) (v verdict) {
	defer func() {
		if p := recover(); p != nil {
			logctx.LoggerFrom(ctx).Error("webhook handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			v = verdict{http.StatusInternalServerError, OutcomeError, "internal error", fmt.Errorf("handler panicked: %v", p)}
		}
	}()
	if s.opts.Handler == nil {
		return verdict{http.StatusAccepted, OutcomeAccepted, "accepted", nil}
	}
	switch err := s.opts.Handler.HandleWebhook(ctx, hook); {
	case err == nil:
		return verdict{http.StatusAccepted, OutcomeAccepted, "accepted", nil}
	case errors.Is(err, queue.ErrFull):
		return verdict{http.StatusServiceUnavailable, OutcomeQueueFull, "busy: queue full, retry later", err}
	default:
		return verdict{http.StatusInternalServerError, OutcomeError, "internal error", err}
	}
}

// seenKey identifies a delivery twice over: by its delivery id, which GitHub
// keeps on a redelivery, and by the HMAC of its signed body, which a replay
// under a new id cannot change.
type seenKey struct{ delivery, body string }

// markSeen records a delivery; false means its id or its body was seen
// before.
func (s *Server) markSeen(k seenKey) bool {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	_, id := s.seenIDs.Peek(k.delivery)
	_, body := s.seenBodies.Peek(k.body)
	if id || body {
		return false
	}
	s.seenIDs.Add(k.delivery, struct{}{})
	s.seenBodies.Add(k.body, struct{}{})
	return true
}

// forget lets a delivery that was not handed on be tried again.
func (s *Server) forget(k seenKey) {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	s.seenIDs.Remove(k.delivery)
	s.seenBodies.Remove(k.body)
}

// parse turns a verified payload into a Webhook.
func parse(event, delivery string, payload []byte, received time.Time) (Webhook, error) {
	ev, err := gh.ParseWebHook(event, payload)
	if err != nil {
		fixed, ok := normalizeTimestamps(payload)
		if !ok {
			return Webhook{}, fmt.Errorf("parse %s payload: %w", event, err)
		}
		if ev, err = gh.ParseWebHook(event, fixed); err != nil {
			return Webhook{}, fmt.Errorf("parse %s payload: %w", event, err)
		}
	}
	hook := Webhook{Event: event, DeliveryID: delivery, Payload: ev, Received: received}
	if e, ok := ev.(interface{ GetInstallation() *gh.Installation }); ok {
		hook.InstallationID = e.GetInstallation().GetID()
	}
	switch e := ev.(type) {
	case interface{ GetRepo() *gh.Repository }:
		hook.Repo = e.GetRepo().GetFullName()
	case interface {
		GetRepo() *gh.PushEventRepository
	}:
		hook.Repo = e.GetRepo().GetFullName()
	}
	if e, ok := ev.(interface{ GetSender() *gh.User }); ok {
		hook.Sender = e.GetSender().GetLogin()
	}
	return hook, nil
}

// spaceTimestamp is a timestamp without the RFC 3339 'T' and zone, as some
// of GitHub's own payloads write App timestamps ("2018-04-25 20:42:10").
var spaceTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)

// normalizeTimestamps rewrites every string value that is a spaceTimestamp
// into RFC 3339 (UTC), which go-github's Timestamp requires. It reports
// false when there was nothing to rewrite.
func normalizeTimestamps(payload []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, false
	}
	changed := false
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				v[k] = walk(c)
			}
		case []any:
			for i, c := range v {
				v[i] = walk(c)
			}
		case string:
			if spaceTimestamp.MatchString(v) {
				changed = true
				return strings.Replace(v, " ", "T", 1) + "Z"
			}
		}
		return v
	}
	doc = walk(doc)
	if !changed {
		return nil, false
	}
	out, err := json.Marshal(doc)
	return out, err == nil
}

// clip bounds a header value before it is logged or echoed.
func clip(s string) string {
	const limit = 100
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}
