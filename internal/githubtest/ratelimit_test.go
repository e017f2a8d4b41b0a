package githubtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSecondaryRateLimitShapes: the double tells a secondary rate limit in
// each of GitHub's ways, with 403 or 429, always with a body that mentions
// it.
func TestSecondaryRateLimitShapes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, fixtureOptions{opts: Options{Now: func() time.Time { return now }}})
	tok := f.token(t)
	type seen struct {
		Status     int
		RetryAfter string
		Remaining  string
		Reset      string
		Secondary  bool
	}
	reset := strconv.FormatInt(now.Add(90*time.Second).Unix(), 10)
	tests := []struct {
		name   string
		faults Faults
		want   seen
	}{
		{"Retry-After", Faults{RateLimitRate: 1, RetryAfter: 90 * time.Second}, seen{403, "90", "", "", true}},
		{"remaining 0 and reset", Faults{RateLimitRate: 1, RetryAfter: 90 * time.Second, RateLimitShape: RateLimitReset}, seen{403, "", "0", reset, true}},
		{"neither", Faults{RateLimitRate: 1, RateLimitShape: RateLimitBare}, seen{403, "", "", "", true}},
		{"429", Faults{RateLimitRate: 1, RateLimitShape: RateLimitBare, RateLimitStatus: 429}, seen{429, "", "", "", true}},
	}
	for _, tc := range tests {
		f.gh.SetFaults(tc.faults)
		req, err := http.NewRequest("GET", f.gh.URL()+"/repos/acme/infra", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		var body struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &body)
		got := seen{resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("X-RateLimit-Remaining"),
			resp.Header.Get("X-RateLimit-Reset"), strings.Contains(body.Message, "secondary rate limit")}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	f.gh.SetFaults(Faults{})
}
