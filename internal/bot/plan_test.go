package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/request"
)

// TestPlan works out a proposal and its review from plain values: the same
// inputs give the same commit, and a removal says so everywhere.
func TestPlan(t *testing.T) {
	w := &work{full: "acme/infra", branch: "main", baseSHA: strings.Repeat("a", 40)}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	in := &intake{issue: &github.Issue{Number: 7}, people: []string{"alice", "carol"}, latest: t0,
		draft: &request.Draft{Parameters: map[string]string{"image": "x"}}}
	r := request.New("orders", request.Spec{Blueprint: "web-service", Environment: "dev", Namespace: "team-payments", Owner: "payments"})
	author := gitrepo.Signature{Name: "gitvend", Email: "bot@example.com"}
	rep := &check.Report{Passed: true, Cost: check.Cost{Currency: "USD", Monthly: 12.5}}
	sha := strings.Repeat("b", 40)
	tests := []struct {
		name    string
		change  *desired.Change
		message string
		title   string
		status  string
	}{
		{name: "proposal",
			change:  &desired.Change{Rendered: &desired.Rendered{}, Delete: []string{"requests/dev/team-payments/orders"}, Files: []desired.File{{Path: "a.yaml", Data: []byte("a")}}},
			message: "Request orders: web-service in dev/team-payments\n\nAsked for in acme/infra#7 by @alice, @carol.\n",
			title:   "gitvend: orders (web-service) in dev/team-payments",
			status:  "📬 #12 proposes **orders** (`web-service` in `dev/team-payments`): policy passed, $12.50/month."},
		{name: "removal",
			change:  &desired.Change{Delete: []string{"requests/dev/team-payments/orders.yaml"}},
			message: "Remove request orders: web-service from dev/team-payments\n\nAsked for in acme/infra#7 by @alice, @carol.\n",
			title:   "gitvend: remove orders (web-service) from dev/team-payments",
			status:  "📬 #12 removes **orders** (`web-service` in `dev/team-payments`): policy passed, $12.50/month."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planProposal(w, in, r, tt.change, author)
			files := map[string][]byte{}
			for _, f := range tt.change.Files {
				files[f.Path] = f.Data
			}
			want := gitrepo.CommitSpec{Parent: w.baseSHA, Files: files, Delete: tt.change.Delete, Message: tt.message, Author: author, Time: t0.UTC()}
			if diff := cmp.Diff(want, p.commit); diff != "" {
				t.Errorf("commit (-want +got):\n%s", diff)
			}
			if p.title != tt.title {
				t.Errorf("title %q, want %q", p.title, tt.title)
			}
			rv := planReview(w, in, r, tt.change, p, sha, rep, "summary")
			if len(rv.runs) != 2 || rv.runs[0].Name != CheckPolicy || rv.runs[1].Name != CheckCost || rv.runs[0].HeadSHA != sha ||
				!strings.HasPrefix(rv.runs[0].Summary, "### ✅ Policy passed") || !strings.HasPrefix(rv.runs[1].Summary, "### ✅ Within budget") {
				t.Errorf("runs: %+v", rv.runs)
			}
			if !strings.HasPrefix(rv.summary, "<sub>Checked `bbbbbbb`, the head of this pull request.</sub>\n\nsummary") {
				t.Errorf("summary not stamped with the commit: %q", rv.summary)
			}
			if !strings.Contains(rv.body, "Closes #7") || strings.Contains(rv.body, "#### Parameters") == p.remove {
				t.Errorf("body:\n%s", rv.body)
			}
			rv.status.PR = 12
			if got, _, _ := strings.Cut(rv.status.render(), "\n"); got != tt.status {
				t.Errorf("status %q, want %q", got, tt.status)
			}
		})
	}
}

func TestStatusTexts(t *testing.T) {
	tests := []struct {
		name string
		data statusData
		want string
	}{
		{"in branch", inBranchStatus("orders", "main"), "✅ **orders** is already in `main` as asked; nothing to propose."},
		{"not merged", notMergedStatus("orders", "main", &github.PullRequest{Number: 3}),
			"**orders** is not in `main`, so there is nothing to remove. Close #3 to drop the request before it is merged."},
		{"not merged, no PR", notMergedStatus("orders", "main", nil), "**orders** is not in `main`, so there is nothing to remove."},
		{"invalid", statusData{Errors: []string{"spec.owner: unknown team \"x\""}, KeptPR: 3},
			"❌ gitvend could not render this request:\n\n- spec.owner: unknown team \"x\"\n\nFix it by editing the issue or with `/provision set key=value`; `/provision help` lists the commands. #3 still holds the last version that rendered."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want+"\n", tt.data.render()); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}
