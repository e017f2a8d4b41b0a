package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
)

// chunkSize is the unit in which webhook bodies are read, held and
// counted against Options.MaxBytesInFlight.
const chunkSize = 64 << 10

// chunkPool recycles the chunks of refused bodies, so that a stream of
// forged deliveries reuses the same memory instead of leaving garbage.
var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// errBodyTooLarge is returned by readSigned when the body exceeds its limit.
var errBodyTooLarge = errors.New("body larger than its limit")

// roundUp rounds n up to a whole number of chunks.
func roundUp(n int64) int64 {
	return (n + chunkSize - 1) / chunkSize * chunkSize
}

// parseSignature decodes an X-Hub-Signature-256 value, "sha256=" and 64 hex
// digits, into the MAC it names.
func parseSignature(header string) ([]byte, bool) {
	h, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(h) != hex.EncodedLen(sha256.Size) {
		return nil, false
	}
	mac, err := hex.DecodeString(h)
	return mac, err == nil
}

// body is a webhook body held in pooled chunks.
type body struct {
	chunks []*[chunkSize]byte
	n      int64
}

// readSigned reads at most limit bytes of r into pooled chunks while it
// computes their HMAC-SHA256 under secret, and reports whether that HMAC
// equals want. Nothing of the body is interpreted. A body longer than limit
// gives errBodyTooLarge; on any error the chunks are already released.
func readSigned(r io.Reader, limit int64, secret, want []byte) (*body, bool, error) {
	mac := hmac.New(sha256.New, secret)
	lr := io.LimitReader(r, limit+1)
	b := &body{}
	for {
		c := chunkPool.Get().(*[chunkSize]byte)
		k, err := io.ReadFull(lr, c[:])
		if k > 0 {
			b.chunks = append(b.chunks, c)
			b.n += int64(k)
			mac.Write(c[:k])
		} else {
			chunkPool.Put(c)
		}
		if b.n > limit {
			b.release()
			return nil, false, errBodyTooLarge
		}
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return b, hmac.Equal(mac.Sum(nil), want), nil
		case err != nil:
			b.release()
			return nil, false, fmt.Errorf("read body: %w", err)
		}
	}
}

// bytes copies the body into one slice.
func (b *body) bytes() []byte {
	out := make([]byte, 0, b.n)
	rest := b.n
	for _, c := range b.chunks {
		k := min(rest, chunkSize)
		out = append(out, c[:k]...)
		rest -= k
	}
	return out
}

// release hands the chunks back to the pool; b must not be used after.
func (b *body) release() {
	for _, c := range b.chunks {
		chunkPool.Put(c)
	}
	b.chunks, b.n = nil, 0
}

// payload returns the JSON document of a verified body: the body itself,
// or its "payload" field when GitHub sent it form-encoded. It releases b.
func (b *body) payload(contentType string) ([]byte, error) {
	raw := b.bytes()
	b.release()
	if contentType != "application/x-www-form-urlencoded" {
		return raw, nil
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, fmt.Errorf("parse form body: %w", err)
	}
	return []byte(form.Get("payload")), nil
}
