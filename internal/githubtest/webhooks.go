package githubtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	cryptorand "crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Delivery is the record of one webhook delivery attempt.
type Delivery struct {
	// ID is the X-GitHub-Delivery GUID; a redelivery keeps it.
	ID string
	// Event is the X-GitHub-Event header, e.g. "issues".
	Event string
	// Action is the payload's action, empty for push.
	Action string
	// Repo is the repository's full name.
	Repo string
	// InstallationID is the installation the payload names.
	InstallationID int64
	// StatusCode is the bot's answer; 0 when nothing was sent or no answer came.
	StatusCode int
	// Err says why a delivery failed.
	Err string
	// Dropped is true when the delivery was lost on purpose.
	Dropped bool
	// Redelivery is true for deliveries sent again by Redeliver.
	Redelivery bool
	// Payload is the JSON body.
	Payload []byte
	// build, when set, makes Payload when the delivery's turn comes, from
	// what does not change once pushed (commits and their files), as
	// GitHub sends a push's event after answering the push.
	build func() []byte
	// At is when the attempt ended.
	At time.Time
}

// WebhookFilter decides whether a delivery is sent; false loses it.
type WebhookFilter func(Delivery) bool

// hookQueue sends deliveries asynchronously, in order per repository.
type hookQueue struct {
	appID  int64
	log    *slog.Logger
	client *http.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	url     string
	secret  string
	lanes   map[string][]Delivery
	running map[string]bool
	pending int
	idle    chan struct{}
	records []Delivery
	drop    int
	filter  WebhookFilter
	faults  Faults
	rng     *rand.Rand
	hookID  int64
	closed  bool
}

func newHookQueue(url, secret string, appID int64, log *slog.Logger) *hookQueue {
	ctx, cancel := context.WithCancel(context.Background())
	return &hookQueue{
		appID:   appID,
		log:     log,
		client:  &http.Client{Timeout: 30 * time.Second},
		ctx:     ctx,
		cancel:  cancel,
		url:     url,
		secret:  secret,
		lanes:   map[string][]Delivery{},
		running: map[string]bool{},
		idle:    make(chan struct{}),
		rng:     rand.New(rand.NewPCG(3, 4)),
		hookID:  appID*10 + 7,
	}
}

func (q *hookQueue) setFaults(f Faults, seed uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.faults = f
	q.rng = rand.New(rand.NewPCG(seed, seed+1))
}

// newDeliveryID makes a random UUID (version 4).
func newDeliveryID() string {
	var b [16]byte
	if _, err := cryptorand.Read(b[:]); err != nil {
		return fmt.Sprintf("%032x", time.Now().UnixNano())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// enqueue schedules a delivery on its repository's lane.
func (q *hookQueue) enqueue(d Delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.lanes[d.Repo] = append(q.lanes[d.Repo], d)
	q.pending++
	if !q.running[d.Repo] {
		q.running[d.Repo] = true
		q.wg.Add(1)
		go q.drain(d.Repo)
	}
}

func (q *hookQueue) drain(lane string) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		items := q.lanes[lane]
		if len(items) == 0 {
			delete(q.lanes, lane)
			delete(q.running, lane)
			q.mu.Unlock()
			return
		}
		d := items[0]
		q.lanes[lane] = items[1:]
		url, secret, filter := q.url, q.secret, q.filter
		lose := false
		if q.drop > 0 {
			q.drop--
			lose = true
		}
		var latency time.Duration
		if q.faults.Webhooks {
			latency = q.faults.Latency
			if q.faults.ErrorRate > 0 && q.rng.Float64() < q.faults.ErrorRate {
				lose = true
			}
		}
		q.mu.Unlock()

		if d.build != nil {
			d.Payload, d.build = d.build(), nil
		}
		if filter != nil && !filter(d) {
			lose = true
		}
		switch {
		case lose:
			d.Dropped = true
			d.Err = "dropped on purpose"
		case url == "":
			d.Err = "no webhook URL"
		default:
			if sleepCtx(q.ctx, latency) {
				d.StatusCode, d.Err = q.send(url, secret, d)
			} else {
				d.Err = "server closed"
			}
		}
		d.At = time.Now()

		q.mu.Lock()
		q.records = append(q.records, d)
		q.pending--
		if q.pending == 0 {
			close(q.idle)
			q.idle = make(chan struct{})
		}
		q.mu.Unlock()
	}
}

// sign computes X-Hub-Signature-256 for a body.
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func signSHA1(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

func (q *hookQueue) send(url, secret string, d Delivery) (int, string) {
	req, err := http.NewRequestWithContext(q.ctx, http.MethodPost, url, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, fmt.Sprintf("build request: %v", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/githubtest")
	h.Set("Accept", "*/*")
	h.Set("X-GitHub-Event", d.Event)
	h.Set("X-GitHub-Delivery", d.ID)
	h.Set("X-GitHub-Hook-ID", strconv.FormatInt(q.hookID, 10))
	h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(q.appID, 10))
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	if secret != "" {
		h.Set("X-Hub-Signature-256", sign(secret, d.Payload))
		h.Set("X-Hub-Signature", signSHA1(secret, d.Payload))
	}
	resp, err := q.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return resp.StatusCode, resp.Status
	}
	return resp.StatusCode, ""
}

func (q *hookQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cancel()
	q.wg.Wait()
}

// WaitIdle blocks until every queued webhook delivery has been attempted.
func (s *Server) WaitIdle(ctx context.Context) error {
	for {
		q := s.hooks
		q.mu.Lock()
		if q.pending == 0 {
			q.mu.Unlock()
			return nil
		}
		ch := q.idle
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for webhook deliveries: %w", ctx.Err())
		}
	}
}

// Deliveries returns the record of delivery attempts, in the order they ended.
func (s *Server) Deliveries() []Delivery {
	q := s.hooks
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Delivery, len(q.records))
	copy(out, q.records)
	return out
}

// Redeliver sends a past delivery again with the same delivery id, as the
// "Redeliver" button of GitHub does. The attempt is asynchronous.
func (s *Server) Redeliver(id string) error {
	q := s.hooks
	q.mu.Lock()
	var found *Delivery
	for i := len(q.records) - 1; i >= 0; i-- {
		if q.records[i].ID == id {
			d := q.records[i]
			found = &d
			break
		}
	}
	q.mu.Unlock()
	if found == nil {
		return fmt.Errorf("redeliver %s: %w", id, ErrNotFound)
	}
	d := Delivery{ID: found.ID, Event: found.Event, Action: found.Action, Repo: found.Repo,
		InstallationID: found.InstallationID, Payload: found.Payload, Redelivery: true}
	q.enqueue(d)
	return nil
}

// DropWebhooks loses the next n deliveries on purpose.
func (s *Server) DropWebhooks(n int) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.drop = n
}

// SetWebhookFilter installs a filter that decides which deliveries are
// sent; nil sends all.
func (s *Server) SetWebhookFilter(f WebhookFilter) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.filter = f
}

// SetWebhookURL changes where deliveries go, for bots started after the
// server.
func (s *Server) SetWebhookURL(url string) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.url = url
}
