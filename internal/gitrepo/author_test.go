package gitrepo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBotCommitsAreLinkedToTheBot: a commit authored with the bot user's
// id, pushed to the double, is attributed to the bot user the way GitHub
// links noreply emails; one authored with the App's id, as before, is
// attributed to nobody.
func TestBotCommitsAreLinkedToTheBot(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tok, err := f.gh.IssueToken(f.inst)
	if err != nil {
		t.Fatal(err)
	}
	getJSON := func(path string, v any) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, "GET", f.gh.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var bot struct {
		Login string `json:"login"`
		ID    int64  `json:"id"`
	}
	getJSON("/users/"+url.PathEscape(f.gh.BotLogin()), &bot)
	const appID = 42 // the fixture's App id
	if bot.ID == appID {
		t.Fatalf("the bot user has the App's id %d", appID)
	}

	r := f.open(t)
	head, err := r.Head(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	type linked struct {
		Email     string
		Author    string
		AuthorID  int64
		Committer string
	}
	commitBy := func(sig Signature, branch string) linked {
		t.Helper()
		sha, err := r.Commit(ctx, CommitSpec{Parent: head, Files: map[string][]byte{branch + ".txt": []byte("x\n")}, Message: "by " + sig.Email, Author: sig, Time: when})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Push(ctx, sha, branch, false); err != nil {
			t.Fatal(err)
		}
		var c struct {
			Commit struct {
				Author struct {
					Email string `json:"email"`
				} `json:"author"`
			} `json:"commit"`
			Author *struct {
				Login string `json:"login"`
				ID    int64  `json:"id"`
			} `json:"author"`
			Committer *struct {
				Login string `json:"login"`
			} `json:"committer"`
		}
		getJSON("/repos/"+fullName+"/commits/"+sha, &c)
		out := linked{Email: c.Commit.Author.Email}
		if c.Author != nil {
			out.Author, out.AuthorID = c.Author.Login, c.Author.ID
		}
		if c.Committer != nil {
			out.Committer = c.Committer.Login
		}
		return out
	}
	got := []linked{
		commitBy(BotSignature(bot.Login, bot.ID), "by-bot-user-id"),
		commitBy(BotSignature(bot.Login, appID), "by-app-id"),
	}
	want := []linked{
		{fmt.Sprintf("%d+gitvend[bot]@users.noreply.github.com", bot.ID), "gitvend[bot]", bot.ID, "gitvend[bot]"},
		{"42+gitvend[bot]@users.noreply.github.com", "", 0, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("commits as GitHub links them (-want +got):\n%s", diff)
	}
}
