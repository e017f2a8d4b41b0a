package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gitvend/gitvend/internal/githubtest"
)

// roundTripper is an http.RoundTripper made of a function.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRequestMergedBeforeItsPullRequestOpens: a job reads the base branch,
// pushes the request's branch, and before it opens the pull request someone
// merges that branch (a resync that started before a merge does this).
// GitHub then refuses the pull request ("No commits between"); the request
// is reported as in the branch, no job fails, and no second pull request
// is opened.
func TestRequestMergedBeforeItsPullRequestOpens(t *testing.T) {
	var h *harness
	var once sync.Once
	merged := make(chan string, 1)
	intercept := roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/repos/acme/infra/pulls") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var spec struct{ Head string }
			if err := json.Unmarshal(body, &spec); err != nil {
				return nil, err
			}
			once.Do(func() {
				ctx := context.Background()
				n, err := h.gh.OpenPullRequest(ctx, repo, githubtest.PullSpec{User: "carol", Head: spec.Head, Title: "Ship it by hand"})
				if err != nil {
					t.Errorf("open the branch's pull request by hand: %v", err)
					return
				}
				if _, err := h.gh.MergePullRequest(ctx, repo, n, "carol"); err != nil {
					t.Errorf("merge it: %v", err)
				}
				merged <- spec.Head
			})
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	h = newHarnessThrough(t, exampleFiles(t), intercept)
	n := h.openForm("alice", "web-service", paymentsForm)
	h.settle()

	if head := <-merged; head != "gitvend/request-"+strconv.Itoa(n) {
		t.Fatalf("the merged branch is %s, want the request's", head)
	}
	for _, pr := range h.pulls() {
		if pr.User != "carol" {
			t.Errorf("gitvend opened #%d (%s) for a branch merged already", pr.Number, pr.State)
		}
	}
	comments := h.botComments(n)
	if len(comments) == 0 || !strings.Contains(comments[len(comments)-1], "is already in `main` as asked") {
		t.Errorf("the request's status: %q", comments)
	}
	if errs := h.jobErrors(); errs != 0 {
		t.Errorf("%v jobs failed", errs)
	}
}
