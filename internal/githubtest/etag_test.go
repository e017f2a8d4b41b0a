package githubtest

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestETagsBelongToTheToken: like GitHub, whose responses vary by
// Authorization, an ETag gives 304 only to the token it was served to; a
// rotated token of the same installation gets a 200 with its own ETag.
func TestETagsBelongToTheToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	if _, err := f.gh.OpenIssue(f.ctx, testRepo, IssueSpec{User: "alice", Title: "etag"}); err != nil {
		t.Fatal(err)
	}
	old, err := f.gh.IssueToken(f.inst)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := f.gh.IssueToken(f.inst)
	if err != nil {
		t.Fatal(err)
	}
	get := func(auth, etag string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", f.gh.URL()+"/repos/acme/infra/issues/1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", "token "+auth)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("ETag")
	}
	_, etagOld := get(old, "")
	_, etagNew := get(rotated, "")
	if etagOld == "" || etagOld == etagNew {
		t.Fatalf("ETags %q and %q: want one per token for the same body", etagOld, etagNew)
	}
	type answer struct {
		Who    string
		Status int
	}
	var got []answer
	for _, tc := range []struct{ who, tok, etag string }{
		{"same token", old, etagOld},
		{"rotated token, old ETag", rotated, etagOld},
		{"rotated token, its ETag", rotated, etagNew},
	} {
		status, _ := get(tc.tok, tc.etag)
		got = append(got, answer{tc.who, status})
	}
	want := []answer{{"same token", 304}, {"rotated token, old ETag", 200}, {"rotated token, its ETag", 304}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}
