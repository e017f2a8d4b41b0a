package bot_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/githubtest"
)

// labelled tells whether issue n carries the label name.
func (h *harness) labelled(n int, name string) bool {
	return slices.ContainsFunc(h.issue(n).Labels, func(l string) bool { return strings.EqualFold(l, name) })
}

// TestFreshRepositoryForm reproduces a form request on a repository that
// has no gitvend label yet: GitHub drops the form's label, and gitvend used
// to ignore the issue. Now the form is recognised by its headings, served,
// and labelled, with gitvend's labels created in their colours.
func TestFreshRepositoryForm(t *testing.T) {
	h := newFreshHarness(t)
	n := h.openForm("alice", "web-service", paymentsForm)
	if h.labelled(n, "gitvend") {
		t.Fatal("the double applied a form label the repository lacks")
	}
	h.settle()
	h.onePR(n)
	if !h.labelled(n, "gitvend") {
		t.Errorf("the form issue was not labelled: %v", h.issue(n).Labels)
	}
	labels, err := h.gh.Labels(repo)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"gitvend": "5319e7", "gitvend-drift": "d93f0b"}
	for _, l := range labels {
		if c, ok := want[l.Name]; ok && c == l.Color && l.Description != "" {
			delete(want, l.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("labels %v missing or grey: %+v", want, labels)
	}
}

// TestResyncFindsUnlabelledForms loses every webhook of a form issue on a
// fresh repository: the resync, which lists open issues once whatever
// their labels, creates gitvend's labels (leaving one an administrator
// recoloured alone), finds the form and serves it, and leaves a plain
// issue alone.
func TestResyncFindsUnlabelledForms(t *testing.T) {
	h := newFreshHarness(t)
	ctx := context.Background()
	if err := h.gh.CreateLabel(repo, githubtest.Label{Name: "GitVend-Drift", Color: "000000"}); err != nil {
		t.Fatal(err)
	}
	h.gh.SetWebhookURL("")
	n := h.openForm("alice", "web-service", paymentsForm)
	plain, err := h.gh.OpenIssue(ctx, repo, githubtest.IssueSpec{User: "alice", Title: "Printer is broken", Body: "again"})
	if err != nil {
		t.Fatal(err)
	}
	h.gh.SetWebhookURL(h.web.URL + "/webhook")
	h.gh.ResetCalls()
	if err := h.bot.Resync(ctx, repo); err != nil {
		t.Fatal(err)
	}
	h.settle()
	h.onePR(n)
	if !h.labelled(n, "gitvend") || h.labelled(plain, "gitvend") {
		t.Errorf("labels: form %v, plain %v", h.issue(n).Labels, h.issue(plain).Labels)
	}
	calls := h.gh.Calls()
	if got := calls.ByRoute["GET /repos/{owner}/{repo}/issues"]; got != 2 {
		t.Errorf("listed issues %d times, want 2 (open ones, and closed ones lately updated)", got)
	}
	labels, err := h.gh.Labels(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range labels {
		if strings.EqualFold(l.Name, "gitvend-drift") && (l.Name != "GitVend-Drift" || l.Color != "000000") {
			t.Errorf("an existing label was changed: %+v", l)
		}
	}
	if len(labels) != 4 {
		t.Errorf("labels: %+v, want the request label, the drift label, the expiry label and the prune confirmation", labels)
	}
}

// TestInstallationMakesLabels posts GitHub's own installation webhooks,
// naming the served repository: each makes sure gitvend's labels exist
// there.
func TestInstallationMakesLabels(t *testing.T) {
	for _, tt := range []struct{ event, file, name string }{
		{"installation", "created.payload.json", "Codertocat/Hello-World"},
		{"installation_repositories", "added.payload.json", "Codertocat/Space"},
	} {
		t.Run(tt.event, func(t *testing.T) {
			root := filepath.Join("..", "..", "..", "shared", "testdata")
			if d := os.Getenv("GITVEND_CONFORMANCE_DIR"); d != "" {
				root = d
			}
			path := filepath.Join(root, "github", "payloads", tt.event, tt.file)
			body, err := os.ReadFile(path)
			if err != nil {
				t.Skipf("real webhook payload absent: %v", err)
			}
			h := newFreshHarness(t)
			body = bytes.ReplaceAll(body, []byte(`"full_name": "`+tt.name+`"`), []byte(`"full_name": "`+repo+`"`))
			if !bytes.Contains(body, []byte(repo)) {
				t.Fatalf("payload %s does not name %s", path, tt.name)
			}
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write(body)
			req, err := http.NewRequest(http.MethodPost, h.web.URL+"/webhook", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", tt.event)
			req.Header.Set("X-GitHub-Delivery", "install-"+tt.event)
			req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status %d", resp.StatusCode)
			}
			h.settle()
			labels, err := h.gh.Labels(repo)
			if err != nil {
				t.Fatal(err)
			}
			if len(labels) != 4 || labels[0].Name != "gitvend" || labels[1].Name != "gitvend-drift" || labels[2].Name != bot.ExpiryLabel || labels[3].Name != cluster.ConfirmPrune {
				t.Errorf("labels after %s: %+v", tt.event, labels)
			}
		})
	}
}
