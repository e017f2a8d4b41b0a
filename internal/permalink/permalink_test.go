package permalink

import (
	"strings"
	"testing"
)

func TestLinksAreSignedAndChecked(t *testing.T) {
	l := New("https://gitvend.example.com/", []byte("s3cret"))
	u := l.PullRequest("acme/infra", 7)
	p, ok := strings.CutPrefix(u, "https://gitvend.example.com/v/")
	if !ok {
		t.Fatalf("url %q", u)
	}
	v, err := l.Open("/v/" + p)
	if err != nil || v != (View{Kind: "pull", Repo: "acme/infra", Number: 7}) {
		t.Fatalf("open %q = %+v, %v", u, v, err)
	}
	tv, err := l.Open(strings.TrimPrefix(l.Target("prod eu"), "https://gitvend.example.com"))
	if err != nil || tv.Target != "prod eu" {
		t.Errorf("target: %+v, %v", tv, err)
	}
	sig, _, _ := strings.Cut(p, "/")
	for _, bad := range []string{
		"/v/pull/acme/infra/7",             // unsigned
		"/v/" + sig + "/pull/acme/infra/8", // another pull request
		"/v/" + sig + "/pull/acme/other/7", // another repository
		"/v/" + strings.Repeat("A", len(sig)) + "/pull/acme/infra/7",
		"/v/" + sig,
		"/v/",
	} {
		if v, err := l.Open(bad); err == nil {
			t.Errorf("%s opened %+v", bad, v)
		}
	}
	if _, err := New("https://gitvend.example.com", []byte("other")).Open("/v/" + p); err == nil {
		t.Error("a link signed with another secret opened")
	}
	// Without a secret the key would be public: nothing is signed, and the
	// server, given no Links, serves no view.
	if l := New("https://gitvend.example.com", nil); l != nil || l.PullRequest("acme/infra", 7) != "" {
		t.Error("links made without a secret")
	}
	if New("", []byte("s")).PullRequest("acme/infra", 1) != "" || (*Links)(nil).Target("x") != "" {
		t.Error("links without a public URL are not empty")
	}
}
