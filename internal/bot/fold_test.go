package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/blueprint"
	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/request"
)

// TestFold routes an issue's form and comments into a draft and replies,
// without GitHub: who may ask, which commands count, and what is answered.
func TestFold(t *testing.T) {
	cfg := config.DefaultRepo()
	cat, err := blueprint.Load(context.Background(), blueprint.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	b := &Bot{opts: Options{Login: "gitvend[bot]"}}
	w := &work{cfg: cfg, cat: cat}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	form := &github.Issue{Number: 1, User: "alice", Title: "[gitvend] web-service: orders", Labels: []string{"gitvend"}, CreatedAt: t0,
		Body: "### Request name\n\norders\n\n### Environment\n\ndev\n\n### Namespace\n\nteam-payments\n\n### Owner\n\npayments\n\n### Image\n\nghcr.io/acme/orders:2.1.0\n"}
	plain := &github.Issue{Number: 1, User: "alice", Title: "We need a job", CreatedAt: t0}
	perms := map[string]string{"alice": "write", "bob": "read", "carol": "write"}
	say := func(id int64, user, body string) github.Comment {
		return github.Comment{ID: id, User: user, Body: body, CreatedAt: t0.Add(time.Duration(id) * time.Minute)}
	}
	type want struct {
		draft   *request.Draft
		people  []string
		latest  time.Time
		refusal string   // the refused login
		replies []string // marker: first line of the body
	}
	tests := []struct {
		name     string
		issue    *github.Issue
		comments []github.Comment
		want     want
	}{
		{name: "form", issue: form, want: want{
			draft: &request.Draft{Blueprint: "web-service", Name: "orders", Environment: "dev", Namespace: "team-payments", Owner: "payments",
				Parameters: map[string]string{"image": "ghcr.io/acme/orders:2.1.0"}},
			people: []string{"alice"}, latest: t0}},
		{name: "form by someone who may only read", issue: func() *github.Issue { i := *form; i.User = "bob"; return &i }(),
			comments: []github.Comment{say(1, "alice", "/provision set replicas=2")},
			want:     want{refusal: "bob", latest: t0}},
		{name: "commands change the form, in order", issue: form,
			comments: []github.Comment{say(2, "carol", "/provision set minReplicas=3"), say(1, "alice", "thanks\n/provision set minReplicas=2 maxReplicas=4")},
			want: want{
				draft: &request.Draft{Blueprint: "web-service", Name: "orders", Environment: "dev", Namespace: "team-payments", Owner: "payments",
					Parameters: map[string]string{"image": "ghcr.io/acme/orders:2.1.0", "minReplicas": "3", "maxReplicas": "4"}},
				people: []string{"alice", "carol"}, latest: t0.Add(2 * time.Minute)}},
		{name: "a command on a plain issue starts a request", issue: plain,
			comments: []github.Comment{say(1, "alice", "/provision scheduled-job name=export environment=dev")},
			want: want{draft: &request.Draft{Blueprint: "scheduled-job", Name: "export", Environment: "dev", Parameters: map[string]string{}},
				people: []string{"alice"}, latest: t0.Add(time.Minute)}},
		{name: "refused, unreadable and help", issue: form,
			comments: []github.Comment{
				say(1, "bob", "/provision set minReplicas=5"),
				say(2, "alice", "/provision set minReplicas"),
				say(3, "carol", "/provision help"),
			},
			want: want{
				draft: &request.Draft{Blueprint: "web-service", Name: "orders", Environment: "dev", Namespace: "team-payments", Owner: "payments",
					Parameters: map[string]string{"image": "ghcr.io/acme/orders:2.1.0"}},
				people: []string{"alice"}, latest: t0,
				replies: []string{
					"refused-bob: 🚫 Sorry @bob, requests in this repository need write permission or more. Nothing was rendered.",
					"reply-2: ❌ @alice, gitvend could not read your command:",
					"reply-3: gitvend commands, one per line:",
				}}},
		{name: "one refusal per person on a thread", issue: form,
			comments: []github.Comment{say(1, "bob", "/provision set minReplicas=5"), say(2, "bob", "/provision set minReplicas=6"), say(3, "bob", "/provision help")},
			want: want{
				draft: &request.Draft{Blueprint: "web-service", Name: "orders", Environment: "dev", Namespace: "team-payments", Owner: "payments",
					Parameters: map[string]string{"image": "ghcr.io/acme/orders:2.1.0"}},
				people: []string{"alice"}, latest: t0,
				replies: []string{"refused-bob: 🚫 Sorry @bob, requests in this repository need write permission or more. Nothing was rendered."}}},
		{name: "one answer per comment, the last", issue: plain,
			comments: []github.Comment{say(1, "alice", "/provision help\n/provision set minReplicas=2")},
			want:     want{latest: t0, replies: []string{"reply-1: ❌ @alice, gitvend could not read your command:"}}},
		{name: "the bot's own comments and marked ones do not count", issue: plain,
			comments: []github.Comment{
				say(1, "gitvend[bot]", "/provision scheduled-job name=x"),
				say(2, "alice", "quoting you: /provision scheduled-job name=y\n"+github.Marker("status")),
			},
			want: want{latest: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &facts{issue: tt.issue, perms: perms, threads: map[int]*github.Thread{1: {Number: 1, Comments: tt.comments}}}
			f.form = isForm(tt.issue, cfg.Intake.Label, cat)
			f.inputs = attribute(tt.issue, f.form, comments(f.threads), ledger{}, nil, b.isOwn)
			in := b.fold(w, f)
			got := want{draft: in.draft, people: in.people, latest: in.latest}
			if in.refusal != nil {
				got.refusal = in.refusal.User
			}
			for _, r := range in.replies {
				first, _, _ := strings.Cut(r.body, "\n")
				got.replies = append(got.replies, r.marker+": "+first)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("fold (-want +got):\n%s", diff)
			}
		})
	}
}
