package githubtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	if err := f.gh.CreateLabel(testRepo, Label{Name: "gitvend"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.gh.OpenIssue(f.ctx, testRepo, IssueSpec{User: "alice", Title: "Need a namespace", Body: "team: payments", Labels: []string{"gitvend"}}); err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	if diff := cmp.Diff([]string{"issues/opened", "issues/labeled"}, f.sink.events()); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	for _, r := range f.sink.received() {
		if !r.Validated {
			t.Errorf("%s: signature %q does not match the body", r.Event, r.Signature)
		}
		if !strings.HasPrefix(r.UserAgent, "GitHub-Hookshot/") {
			t.Errorf("User-Agent %q", r.UserAgent)
		}
		if !uuidPattern.MatchString(r.Delivery) {
			t.Errorf("delivery id %q is not a UUID", r.Delivery)
		}
		if r.ParsedType != "IssuesEvent" {
			t.Errorf("payload decodes as %s", r.ParsedType)
		}
		ev, err := github.ParseWebHook(r.Event, r.Payload)
		if err != nil {
			t.Fatal(err)
		}
		is := ev.(*github.IssuesEvent)
		got := []any{is.GetSender().GetLogin(), is.GetInstallation().GetID(), is.GetRepo().GetFullName(), is.GetIssue().GetUser().GetLogin(), orgLogin(t, r.Payload)}
		want := []any{"alice", f.inst, testRepo, "alice", "acme"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("payload fields (-want +got):\n%s", diff)
		}
	}
	var statuses []int
	for _, d := range f.gh.Deliveries() {
		statuses = append(statuses, d.StatusCode)
	}
	if diff := cmp.Diff([]int{200, 200}, statuses); diff != "" {
		t.Errorf("recorded statuses (-want +got):\n%s", diff)
	}
}

func TestWebhookBotIsSender(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	n, err := f.gh.OpenIssue(f.ctx, testRepo, IssueSpec{User: "alice", Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	f.sink.reset()
	if _, _, err := f.client.Issues.CreateComment(f.ctx, "acme", "infra", n, &github.IssueComment{Body: github.String("On it")}); err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	got := f.sink.received()
	if len(got) != 1 || got[0].Event != "issue_comment" {
		t.Fatalf("received %v, want one issue_comment", f.sink.events())
	}
	ev, err := github.ParseWebHook(got[0].Event, got[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	c := ev.(*github.IssueCommentEvent)
	fields := []string{c.GetAction(), c.GetSender().GetLogin(), c.GetSender().GetType(), c.GetComment().GetUser().GetLogin(), c.GetComment().GetBody()}
	if diff := cmp.Diff([]string{"created", "gitvend[bot]", "Bot", "gitvend[bot]", "On it"}, fields); diff != "" {
		t.Fatalf("comment event (-want +got):\n%s", diff)
	}
}

func TestWebhookLossAndRedelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	n, err := f.gh.OpenIssue(f.ctx, testRepo, IssueSpec{User: "alice", Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	f.sink.reset()

	t.Run("drop", func(t *testing.T) {
		f.gh.DropWebhooks(1)
		if _, err := f.gh.Comment(f.ctx, testRepo, n, "alice", "/provision help"); err != nil {
			t.Fatal(err)
		}
		f.idle(t)
		if got := f.sink.received(); len(got) != 0 {
			t.Fatalf("a dropped delivery arrived: %v", f.sink.events())
		}
		ds := f.gh.Deliveries()
		last := ds[len(ds)-1]
		if !last.Dropped || last.Event != "issue_comment" || last.Action != "created" {
			t.Fatalf("last delivery %+v is not a dropped issue_comment", last)
		}

		if err := f.gh.Redeliver(last.ID); err != nil {
			t.Fatal(err)
		}
		f.idle(t)
		got := f.sink.received()
		if len(got) != 1 || got[0].Delivery != last.ID {
			t.Fatalf("redelivery: received %d deliveries, want one with id %s", len(got), last.ID)
		}
		if !jsonSame(t, got[0].Payload, last.Payload) {
			t.Fatal("redelivered payload differs")
		}
		ds = f.gh.Deliveries()
		if re := ds[len(ds)-1]; !re.Redelivery || re.StatusCode != 200 {
			t.Fatalf("redelivery record %+v", re)
		}
		if err := f.gh.Redeliver("no-such-delivery"); err == nil {
			t.Fatal("redelivering an unknown id succeeded")
		}
	})

	t.Run("filter", func(t *testing.T) {
		f.sink.reset()
		f.gh.SetWebhookFilter(func(d Delivery) bool { return d.Event != "issue_comment" })
		defer f.gh.SetWebhookFilter(nil)
		if _, err := f.gh.Comment(f.ctx, testRepo, n, "alice", "lost"); err != nil {
			t.Fatal(err)
		}
		if err := f.gh.CloseIssue(f.ctx, testRepo, n, "alice"); err != nil {
			t.Fatal(err)
		}
		f.idle(t)
		if diff := cmp.Diff([]string{"issues/closed"}, f.sink.events()); diff != "" {
			t.Fatalf("events (-want +got):\n%s", diff)
		}
	})

	t.Run("failing receiver", func(t *testing.T) {
		f.sink.mu.Lock()
		f.sink.status = 500
		f.sink.mu.Unlock()
		if err := f.gh.ReopenIssue(f.ctx, testRepo, n, "alice"); err != nil {
			t.Fatal(err)
		}
		f.idle(t)
		ds := f.gh.Deliveries()
		if last := ds[len(ds)-1]; last.StatusCode != 500 || last.Err == "" {
			t.Fatalf("last delivery %+v, want status 500 with an error", last)
		}
	})

	t.Run("no receiver", func(t *testing.T) {
		f.gh.SetWebhookURL("")
		defer f.gh.SetWebhookURL(f.sink.srv.URL)
		if _, err := f.gh.Comment(f.ctx, testRepo, n, "alice", "nobody listens"); err != nil {
			t.Fatal(err)
		}
		f.idle(t)
		ds := f.gh.Deliveries()
		if last := ds[len(ds)-1]; last.Err != "no webhook URL" {
			t.Fatalf("last delivery %+v", last)
		}
	})
}

func orgLogin(t *testing.T, payload []byte) string {
	t.Helper()
	var p struct {
		Organization struct {
			Login string `json:"login"`
		} `json:"organization"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	return p.Organization.Login
}

func jsonSame(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return cmp.Equal(x, y)
}

func TestWebhookOrderAndScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	if err := f.gh.CreateRepo(f.ctx, RepoSpec{Owner: "acme", Name: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	n, err := f.gh.OpenIssue(f.ctx, testRepo, IssueSpec{User: "alice", Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 15 {
		body := fmt.Sprintf("comment %d", i)
		want = append(want, body)
		if _, err := f.gh.Comment(f.ctx, testRepo, n, "alice", body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.gh.OpenIssue(f.ctx, "acme/elsewhere", IssueSpec{User: "alice", Title: "not installed"}); err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	var got []string
	for _, r := range f.sink.received() {
		var p struct {
			Comment struct {
				Body string `json:"body"`
			} `json:"comment"`
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		}
		if err := json.Unmarshal(r.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if p.Repository.FullName != testRepo {
			t.Errorf("delivery for %s, where the App is not installed", p.Repository.FullName)
		}
		if r.Event == "issue_comment" {
			got = append(got, p.Comment.Body)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("comment order (-want +got):\n%s", diff)
	}
}

// TestWebhookEditNamesTheEditor: an edit of someone else's issue or comment
// is sent with the editor as sender and the old body in changes.body.from;
// someone without write access may edit only their own.
func TestWebhookEditNamesTheEditor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	for login, perm := range map[string]string{"alice": "write", "carol": "write", "bob": "read"} {
		if err := f.gh.SetPermission(testRepo, login, perm); err != nil {
			t.Fatal(err)
		}
	}
	n, err := f.gh.OpenIssue(f.ctx, testRepo, IssueSpec{User: "alice", Title: "x", Body: "env: dev"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.gh.Comment(f.ctx, testRepo, n, "alice", "/provision set environment=dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.gh.EditIssueBody(f.ctx, testRepo, n, "bob", "env: prod"); err == nil {
		t.Error("a reader edited someone else's issue")
	}
	if err := f.gh.EditComment(f.ctx, testRepo, id, "bob", "/provision set environment=prod"); err == nil {
		t.Error("a reader edited someone else's comment")
	}
	f.idle(t)
	f.sink.reset()
	if err := f.gh.EditIssueBody(f.ctx, testRepo, n, "carol", "env: prod"); err != nil {
		t.Fatal(err)
	}
	if err := f.gh.EditComment(f.ctx, testRepo, id, "carol", "/provision set environment=prod"); err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	var got [][]string
	for _, r := range f.sink.received() {
		ev, err := github.ParseWebHook(r.Event, r.Payload)
		if err != nil {
			t.Fatal(err)
		}
		switch e := ev.(type) {
		case *github.IssuesEvent:
			got = append(got, []string{r.Event, e.GetAction(), e.GetSender().GetLogin(), e.GetIssue().GetUser().GetLogin(), e.GetChanges().GetBody().GetFrom(), e.GetIssue().GetBody()})
		case *github.IssueCommentEvent:
			got = append(got, []string{r.Event, e.GetAction(), e.GetSender().GetLogin(), e.GetComment().GetUser().GetLogin(), e.GetChanges().GetBody().GetFrom(), e.GetComment().GetBody()})
		}
	}
	want := [][]string{
		{"issues", "edited", "carol", "alice", "env: dev", "env: prod"},
		{"issue_comment", "edited", "carol", "alice", "/provision set environment=dev", "/provision set environment=prod"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("edit webhooks (-want +got):\n%s", diff)
	}
}
