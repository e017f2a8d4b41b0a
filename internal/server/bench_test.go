package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkWebhook measures one signed issues delivery through the whole
// handler: size limit, HMAC check, dedup, go-github parsing, hand-off. Each
// delivery has a body of its own (a repeated body is a duplicate), so the
// client's signing is measured too.
func BenchmarkWebhook(b *testing.B) {
	srv := New(Options{Secret: []byte(secret), Handler: discard{}})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		body := strings.Replace(issuePayload, `"number":7`, `"number":`+strconv.Itoa(i), 1)
		sig := sign(secret, []byte(body))
		req := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "issues")
		req.Header.Set("X-GitHub-Delivery", strconv.Itoa(i))
		req.Header.Set("X-Hub-Signature-256", sig)
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatalf("answer %d", w.Code)
		}
	}
}

// discard accepts every webhook and does nothing.
type discard struct{}

func (discard) HandleWebhook(context.Context, Webhook) error { return nil }
