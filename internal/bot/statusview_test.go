package bot_test

import (
	"context"
	"testing"
)

// The status page's view of a repository: nothing of the catalog before
// the bot has worked on it (it fetches nothing for a page), then the
// catalog, the records, the open request issue and the bot's own pull
// request with its check runs; a pull request from a fork on a branch named
// like a request's is not taken for the request's.
func TestRepoView(t *testing.T) {
	h := newFreshHarness(t)
	ctx := context.Background()
	v, err := h.bot.RepoView(ctx, repo)
	if err != nil || v.Revision != "" || len(v.Blueprints) != 0 || len(v.Records) != 0 || v.Branch != "main" {
		t.Fatalf("before any job: %+v, %v", v, err)
	}
	if err := h.bot.EnsureLabels(ctx, repo); err != nil {
		t.Fatal(err)
	}
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()
	own := h.pulls()
	if len(own) != 1 {
		t.Fatalf("pull requests: %+v", own)
	}
	if n != 1 {
		t.Fatalf("the form is issue #%d; the fork below names #1", n)
	}
	_, forkPR, _ := h.openForkPR(map[string]string{"environments/dev/miner.yaml": "kind: ConfigMap\n"})
	h.settle()

	v, err = h.bot.RepoView(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if v.Revision == "" || len(v.Blueprints) == 0 || len(v.Records) == 0 || v.Label != "gitvend" {
		t.Errorf("catalog and records: revision %q, %d blueprints, %d records, label %q", v.Revision, len(v.Blueprints), len(v.Records), v.Label)
	}
	if len(v.Issues) != 1 || v.Issues[0].Number != n {
		t.Errorf("open request issues: %+v", v.Issues)
	}
	pr, ok := v.PRs[n]
	if !ok || pr.Number != own[0].Number || pr.Number == forkPR {
		t.Errorf("the request's pull request: %+v (the bot's is #%d, the fork's #%d)", pr, own[0].Number, forkPR)
	}
	names := map[string]bool{}
	for _, c := range v.Checks[n] {
		names[c.Name] = true
	}
	if !names["gitvend/policy"] || !names["gitvend/cost"] || v.ChecksUnread != 0 {
		t.Errorf("check runs of the request's pull request: %+v (%d unread)", v.Checks[n], v.ChecksUnread)
	}
}
