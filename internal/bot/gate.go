package bot

import (
	"context"
	"fmt"
	"regexp"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gitvend/gitvend/internal/admission"
)

// Strangers cost nothing. Whoever wakes the bot with a comment is judged
// before any write: a stranger (by the author_association the webhook
// carries) without a single API call, anyone else by their permission,
// whose refusals are remembered for a while. Someone who may not ask gets
// no reaction, only one reply per thread, kept in place (the marker names
// them), and their comment is not read any further: it could not change
// the request. Comments without a /provision line never become jobs at
// all (Dispatcher).

// How long a refused permission is believed, and how many people and
// replies the bot remembers.
const (
	refusedFor = 10 * time.Minute
	gateSize   = 10000
)

// gate remembers refused permissions and the refusals replied already.
type gate struct {
	refused *lru.Cache[string, refusedPermission] // by repo/login
	replied *lru.Cache[string, struct{}]          // by repo#thread/marker/hash of the reply
}

type refusedPermission struct {
	permission string
	until      time.Time
}

func newGate() (*gate, error) {
	refused, err := lru.New[string, refusedPermission](gateSize)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	replied, err := lru.New[string, struct{}](gateSize)
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	return &gate{refused: refused, replied: replied}, nil
}

// permission is login's permission on the job's repository: GitHub's
// answer, or a refusal remembered from it a little while ago.
func (b *Bot) permission(ctx context.Context, w *work, login string) (string, error) {
	key := w.full + "/" + login
	if r, ok := b.gate.refused.Get(key); ok && b.now().Before(r.until) {
		return r.permission, nil
	}
	perm, err := w.gh.Permission(ctx, w.owner, w.name, login)
	if err != nil {
		return "", fmt.Errorf("permission of %s: %w", login, err)
	}
	if admission.Authorize(w.cfg, admission.Person{Login: login, Permission: perm}) != nil {
		b.gate.refused.Add(key, refusedPermission{permission: perm, until: b.now().Add(refusedFor)})
	} else {
		b.gate.refused.Remove(key)
	}
	return perm, nil
}

// gateActor judges who woke the bot with a comment, before anything is
// read or written: it returns their refusal (nil when they may ask) and
// what it learned of their permission, by login.
func (b *Bot) gateActor(ctx context.Context, w *work, tr Trigger) (*admission.Refusal, map[string]string, error) {
	p := admission.Person{Login: tr.Actor, Association: tr.Association}
	if admission.Stranger(w.cfg, p.Association) {
		return admission.Authorize(w.cfg, p), nil, nil
	}
	perm, err := b.permission(ctx, w, tr.Actor)
	if err != nil {
		return nil, nil, err
	}
	p.Permission = perm
	return admission.Authorize(w.cfg, p), map[string]string{tr.Actor: perm}, nil
}

// refuseOnce keeps the one reply refusing r.User on thread number, unless
// this process has kept it already.
func (b *Bot) refuseOnce(ctx context.Context, w *work, number int, r *admission.Refusal) error {
	marker, body := refusedMarker(r.User), refusalText(r)
	key := fmt.Sprintf("%s#%d/%s/%s", w.full, number, marker, textHash(body))
	if b.gate.replied.Contains(key) {
		return nil
	}
	if err := b.say(ctx, w, nil, number, marker, body); err != nil {
		return fmt.Errorf("refuse %s on #%d: %w", r.User, number, err)
	}
	b.gate.replied.Add(key, struct{}{})
	b.metrics.replies.Inc()
	return nil
}

// notMarker is what a login may hold that a marker may not.
var notMarker = regexp.MustCompile(`[^A-Za-z0-9._:/-]`)

// refusedMarker is the marker of the one reply refusing login on a thread.
// Logins hold letters, digits and hyphens, and bots "[bot]": the brackets
// become underscores, which no login holds.
func refusedMarker(login string) string {
	return "refused-" + notMarker.ReplaceAllString(login, "_")
}
