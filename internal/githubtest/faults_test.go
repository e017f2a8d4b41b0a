package githubtest

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	tok := f.token(t)
	url := f.gh.URL() + "/repos/acme/infra"

	t.Run("server errors", func(t *testing.T) {
		f.gh.SetFaults(Faults{ErrorRate: 1})
		defer f.gh.SetFaults(Faults{})
		status, msg := rawCall(t, "GET", url, "token "+tok)
		if status != http.StatusBadGateway || msg != "Server Error" {
			t.Fatalf("got %d %q, want 502 Server Error", status, msg)
		}
	})

	t.Run("secondary rate limit", func(t *testing.T) {
		f.gh.SetFaults(Faults{RateLimitRate: 1, RetryAfter: 3 * time.Second})
		defer f.gh.SetFaults(Faults{})
		_, _, err := f.client.Repositories.Get(f.ctx, "acme", "infra")
		var abuse *github.AbuseRateLimitError
		if !errors.As(err, &abuse) {
			t.Fatalf("error %v is not an AbuseRateLimitError", err)
		}
		if abuse.RetryAfter == nil || *abuse.RetryAfter != 3*time.Second {
			t.Fatalf("RetryAfter = %v, want 3s", abuse.RetryAfter)
		}
		if abuse.Message != secondaryRateLimitMessage {
			t.Fatalf("message = %q", abuse.Message)
		}
	})

	t.Run("latency", func(t *testing.T) {
		f.gh.SetFaults(Faults{Latency: 150 * time.Millisecond})
		defer f.gh.SetFaults(Faults{})
		start := time.Now()
		if status, _ := rawCall(t, "GET", url, "token "+tok); status != 200 {
			t.Fatalf("status %d", status)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Fatalf("call took %v, want at least 150ms", d)
		}
	})

	t.Run("same seed, same failures", func(t *testing.T) {
		run := func() []int {
			f.gh.SetFaults(Faults{ErrorRate: 0.3, RateLimitRate: 0.3, Seed: 7})
			defer f.gh.SetFaults(Faults{})
			var got []int
			for range 20 {
				status, _ := rawCall(t, "GET", url, "token "+tok)
				got = append(got, status)
			}
			return got
		}
		first, second := run(), run()
		if diff := cmp.Diff(first, second); diff != "" {
			t.Fatalf("runs differ (-first +second):\n%s", diff)
		}
		seen := map[int]bool{}
		for _, s := range first {
			seen[s] = true
		}
		if !seen[200] || !seen[502] || !seen[403] {
			t.Fatalf("statuses %v lack a mix of 200, 403 and 502", first)
		}
	})

	t.Run("faulted calls are counted", func(t *testing.T) {
		f.gh.ResetCalls()
		f.gh.SetFaults(Faults{ErrorRate: 1})
		defer f.gh.SetFaults(Faults{})
		rawCall(t, "GET", url, "token "+tok)
		got := f.gh.Calls()
		want := CallStats{ByRoute: map[string]int{"GET /repos/{owner}/{repo}": 1}, Total: 1, Faulted: 1}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("calls (-want +got):\n%s", diff)
		}
	})
}

func TestRateLimitAndETags(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{opts: Options{RateLimit: 4}})
	tok := f.token(t)
	get := func(etag string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", f.gh.URL()+"/repos/acme/infra/issues", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "token "+tok)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	type seen struct {
		Status    int
		Remaining string
		Used      string
		Resource  string
	}
	observe := func(r *http.Response) seen {
		return seen{r.StatusCode, r.Header.Get("X-RateLimit-Remaining"), r.Header.Get("X-RateLimit-Used"), r.Header.Get("X-RateLimit-Resource")}
	}
	first := get("")
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on a GET")
	}
	if reset, err := strconv.ParseInt(first.Header.Get("X-RateLimit-Reset"), 10, 64); err != nil || reset <= time.Now().Unix() {
		t.Fatalf("X-RateLimit-Reset = %q, want a future unix time", first.Header.Get("X-RateLimit-Reset"))
	}
	got := []seen{observe(first), observe(get(etag)), observe(get("")), observe(get(`"other"`)), observe(get("")), observe(get("")), observe(get(etag))}
	want := []seen{
		{200, "3", "1", "core"},
		{304, "3", "1", "core"}, // a conditional hit costs nothing
		{200, "2", "2", "core"},
		{200, "1", "3", "core"},
		{200, "0", "4", "core"},
		{403, "0", "4", "core"}, // exhausted
		{304, "0", "4", "core"}, // conditional requests still answer
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("responses (-want +got):\n%s", diff)
	}
	if n := f.gh.Calls().NotModified; n != 2 {
		t.Fatalf("NotModified = %d, want 2", n)
	}
	if r := f.gh.RateLimitRemaining(f.inst); r != 0 {
		t.Fatalf("RateLimitRemaining = %d, want 0", r)
	}
}
