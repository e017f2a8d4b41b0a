package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/gitvend/gitvend/internal/logctx"
	"github.com/gitvend/gitvend/internal/request"
)

// Waker keeps the workloads of a namespace in an environment awake until a
// time, whatever the sleep schedules say, such as a *rollout.Rollout.
type Waker interface {
	Wake(ctx context.Context, repo, environment, namespace string, until time.Time) error
}

// wakeAsk is a /provision wake command of a comment, and who wrote it.
type wakeAsk struct {
	c   comment
	by  string
	cmd request.Command
}

// wake judges and carries out the wake commands folded from the request
// issue. Each is its writer's alone (it changes no request): the writer
// must be allowed to request what the request asks for, in its environment
// and namespace, and is refused once otherwise. The wake lasts from when
// the comment was written, for what it asks or to the end of the sleep
// window then, so that reading the comment again (a resync, a restart)
// asks for the same wake, and one that has run out asks for nothing.
func (b *Bot) wake(ctx context.Context, w *work, in *intake) error {
	for _, ask := range in.wakes {
		if err := b.wakeOne(ctx, w, in, ask); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bot) wakeOne(ctx context.Context, w *work, in *intake, ask wakeAsk) error {
	fail := func(msg string) {
		in.reply(ask.c, replyData{User: ask.by, Errors: []string{fmt.Sprintf("line %d: %s", ask.cmd.Line, msg)}}.render())
	}
	d := in.draft
	if d == nil || d.Environment == "" || d.Namespace == "" {
		fail("there is no request here whose workloads could be woken")
		return nil
	}
	// The person is judged as the request's writer would be, by the rules
	// of its environment and owner.
	refusal, err := b.mayRequest(ctx, w, in, ask.by)
	if err != nil {
		return err
	}
	if refusal != nil {
		logctx.LoggerFrom(ctx).Info("wake refused", "repo", w.full, "user", ask.by)
		in.refuse(ask.c.number, refusal)
		return nil
	}
	from := ask.c.CreatedAt
	var until time.Time
	if dur, ok := ask.cmd.WakeFor(); ok {
		until = from.Add(dur)
	} else {
		sched, ok := w.cfg.SleepFor(d.Environment, d.Namespace)
		if !ok {
			fail(fmt.Sprintf("no sleep schedule of gitvend.yaml covers namespace %s in %s: its workloads never sleep", request.Code(d.Namespace), d.Environment))
			return nil
		}
		asleep, next := sched.Asleep(from)
		if !asleep {
			_, next = sched.Asleep(next) // the next window, until its end
		}
		until = next
	}
	if !until.After(b.now()) {
		in.reply(ask.c, fmt.Sprintf("@%s: this wake of namespace %s in %s ran out at %s.", ask.by, request.Code(d.Namespace), d.Environment, until.UTC().Format(time.RFC1123)))
		return nil
	}
	if b.opts.Waker == nil {
		fail("this gitvend applies to no cluster, so nothing sleeps here")
		return nil
	}
	if err := b.opts.Waker.Wake(ctx, w.full, d.Environment, d.Namespace, until); err != nil {
		return fmt.Errorf("wake %s in %s: %w", d.Namespace, d.Environment, err)
	}
	in.reply(ask.c, fmt.Sprintf("@%s: the workloads of namespace %s in %s are awake until %s; the sleep schedule applies again after that.",
		ask.by, request.Code(d.Namespace), d.Environment, until.UTC().Format(time.RFC1123)))
	return nil
}
