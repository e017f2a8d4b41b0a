package bot_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/gitrepo"
	"github.com/gitvend/gitvend/internal/server"
)

// recorder is a queue that keeps the jobs it is given.
type recorder struct{ jobs []func(context.Context) error }

func (r *recorder) Add(_, _ string, job func(context.Context) error) error {
	r.jobs = append(r.jobs, job)
	return nil
}

// offline is GitHub out of reach.
type offline struct{}

func (offline) ForRepo(context.Context, string, string) (*github.Client, error) {
	return nil, errors.New("GitHub is out of reach in this test")
}

type noGit struct{}

func (noGit) Open(context.Context, string, string) (*gitrepo.Repo, error) {
	return nil, errors.New("no git")
}

// TestEveryRealPayloadThroughTheDispatcher posts every example payload
// GitHub publishes to the webhook server with the bot's dispatcher behind
// it, for a bot that serves each payload's repository: every delivery is
// accepted or ignored (never a 500 or a panic), and every job it queues
// ends (with an error, GitHub being out of reach, or with nothing to do)
// rather than a panic.
func TestEveryRealPayloadThroughTheDispatcher(t *testing.T) {
	root := filepath.Join("..", "..", "..", "shared", "testdata", "github", "payloads")
	files, _ := filepath.Glob(filepath.Join(root, "*", "*.json"))
	if len(files) == 0 {
		t.Skipf("real webhook payloads absent (%s); skipping", root)
	}
	repos := map[string]string{}
	for _, f := range files {
		var p struct {
			Repository struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		}
		if data, err := os.ReadFile(f); err == nil && json.Unmarshal(data, &p) == nil && p.Repository.FullName != "" {
			repos[p.Repository.FullName] = "main"
		}
	}
	b, err := bot.New(bot.Options{Clients: offline{}, Git: noGit{}, Login: "gitvend[bot]", Repos: repos})
	if err != nil {
		t.Fatal(err)
	}
	q := &recorder{}
	srv := server.New(server.Options{Secret: []byte(secret), Handler: bot.NewDispatcher(b, q, nil)})
	h := srv.Handler()
	for i, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", filepath.Base(filepath.Dir(f)))
		req.Header.Set("X-GitHub-Delivery", "delivery-"+filepath.Base(f)+string(rune('a'+i%26)))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted && rec.Code != http.StatusOK {
			t.Errorf("%s: status %d: %s", f, rec.Code, rec.Body)
		}
	}
	if len(q.jobs) == 0 {
		t.Fatal("no payload queued a job")
	}
	failed := 0
	for _, job := range q.jobs {
		if job(context.Background()) != nil {
			failed++
		}
	}
	if failed == 0 {
		t.Error("every job succeeded without GitHub")
	}
	t.Logf("%d payloads, %d jobs queued, %d of them needed GitHub", len(files), len(q.jobs), failed)
}
