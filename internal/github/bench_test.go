package github

import (
	"context"
	"testing"
)

// BenchmarkCachedGet measures a GET answered 304 by the GitHub double and
// served from the ETag cache: the path a resync with nothing changed takes.
func BenchmarkCachedGet(b *testing.B) {
	f := newFixture(b, fixtureOptions{})
	ctx := context.Background()
	n := f.openIssue(b, "bench")
	if _, err := f.client.GetIssue(ctx, owner, repoName, n); err != nil {
		b.Fatal(err)
	}
	f.gh.ResetCalls()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.client.GetIssue(ctx, owner, repoName, n); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if c := f.gh.Calls(); c.RateLimitUsed != 0 {
		b.Fatalf("cached GETs used %d of the rate limit", c.RateLimitUsed)
	}
}
