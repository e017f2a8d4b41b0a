package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// payloadsDir is GitHub's example webhook payloads in ../shared/testdata
// beside the repository root (this test runs in internal/server).
func payloadsDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join("..", "..", "..", "shared", "testdata", "github", "payloads")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("real webhook payloads absent (%s); skipping", d)
	}
	return d
}

// TestEveryRealPayload signs and posts every example payload GitHub
// publishes, under the event type its folder names: each is answered 202
// (or 200), never an error, and the handler sees the right repository.
func TestEveryRealPayload(t *testing.T) {
	root := payloadsDir(t)
	f := newFixture(t, nil)
	files, err := filepath.Glob(filepath.Join(root, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no payloads under %s (%v)", root, err)
	}
	handled := 0
	for i, file := range files {
		event := filepath.Base(filepath.Dir(file))
		name := event + "/" + filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			before := f.rec.calls()
			w := f.send(t, delivery{event: event, id: fmt.Sprintf("real-%d", i), body: string(body)})
			if w.Code != http.StatusAccepted && w.Code != http.StatusOK {
				t.Fatalf("answer %d %q", w.Code, w.Body.String())
			}
			if !f.srv.events[event] {
				return
			}
			if f.rec.calls() != before+1 {
				t.Fatalf("handler not called for a handled event")
			}
			handled++
			var raw struct {
				Repository struct {
					FullName string `json:"full_name"`
				}
				Installation struct{ ID int64 }
				Sender       struct{ Login string }
			}
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			hook := f.rec.hooks[len(f.rec.hooks)-1]
			if hook.Repo != raw.Repository.FullName || hook.InstallationID != raw.Installation.ID || hook.Sender != raw.Sender.Login {
				t.Errorf("hook repo=%q installation=%d sender=%q; payload has %q, %d, %q",
					hook.Repo, hook.InstallationID, hook.Sender, raw.Repository.FullName, raw.Installation.ID, raw.Sender.Login)
			}
			if hook.Payload == nil || strings.Contains(hook.Event, "/") {
				t.Errorf("hook = %+v", hook)
			}
		})
	}
	if handled == 0 {
		t.Error("no payload reached the handler")
	}
	t.Logf("%d payloads posted, %d handed to the handler", len(files), handled)
}
