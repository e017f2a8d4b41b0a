package bot_test

import (
	"context"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/server"
)

// keys is a queue that keeps the keys of the jobs it is given.
type keys struct{ got []string }

func (k *keys) Add(key, _ string, _ func(context.Context) error) error {
	k.got = append(k.got, key)
	return nil
}

// A webhook spells the repository as GitHub does ("Acme/Infra") while the
// configuration says acme/infra: the job is queued, under the configured
// spelling, the key resyncs use, so the two never run at once.
func TestWebhookRepositoryInAnotherCase(t *testing.T) {
	b, err := bot.New(bot.Options{Clients: offline{}, Git: noGit{}, Login: "gitvend[bot]", Repos: map[string]string{"acme/infra": ""}})
	if err != nil {
		t.Fatal(err)
	}
	for _, spelling := range []string{"acme/infra", "Acme/Infra", "ACME/INFRA"} {
		if !b.Serves(spelling) {
			t.Errorf("Serves(%q) = false", spelling)
		}
	}
	if b.Serves("acme/infra2") || b.Serves("acme/infr") {
		t.Error("Serves matches another repository")
	}
	q := &keys{}
	d := bot.NewDispatcher(b, q, nil)
	for _, spelling := range []string{"Acme/Infra", "acme/infra"} {
		ev := &gh.IssuesEvent{Action: gh.String("opened"), Issue: &gh.Issue{Number: gh.Int(7), Title: gh.String("t"), User: &gh.User{Login: gh.String("alice")}}}
		if err := d.HandleWebhook(context.Background(), server.Webhook{Event: "issues", DeliveryID: spelling, Repo: spelling, Sender: "alice", Payload: ev}); err != nil {
			t.Fatal(err)
		}
	}
	if len(q.got) != 2 || q.got[0] != q.got[1] || !strings.HasPrefix(q.got[0], "acme/infra") {
		t.Errorf("queue keys = %q, want one key starting with acme/infra for both spellings", q.got)
	}
}

// Two served repositories differing only in case are one repository.
func TestReposDifferingInCase(t *testing.T) {
	_, err := bot.New(bot.Options{Clients: offline{}, Git: noGit{}, Login: "gitvend[bot]", Repos: map[string]string{"acme/infra": "", "Acme/Infra": ""}})
	if err == nil || !strings.Contains(err.Error(), "without regard to case") {
		t.Fatalf("err = %v, want a duplicate repository error", err)
	}
}

// The whole story with the configuration spelling the repository in
// another case than GitHub: the request becomes a checked pull request.
func TestConfiguredInAnotherCase(t *testing.T) {
	h := newHarness(t, func(o *bot.Options) { o.Repos = map[string]string{"ACME/Infra": ""} })
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	pr := h.onePR(n)
	runs := h.checkRuns(pr.HeadSHA)
	if runs[bot.CheckPolicy].Conclusion != "success" || runs[bot.CheckCost].Conclusion != "success" {
		t.Errorf("check runs: %+v", runs)
	}
	if err := h.bot.Resync(context.Background(), "ACME/Infra"); err != nil {
		t.Errorf("resync: %v", err)
	}
}
