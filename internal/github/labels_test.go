package github

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/githubtest"
)

// TestEnsureLabels creates the labels a repository lacks, with their
// colour and description, and leaves alone one an administrator recoloured
// (in another case, too); a second run only lists them.
func TestEnsureLabels(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	ctx := context.Background()
	if err := f.gh.CreateLabel(fullName, githubtest.Label{Name: "GitVend-Drift", Color: "000000", Description: "ours"}); err != nil {
		t.Fatal(err)
	}
	want := []Label{
		{Name: "gitvend", Color: "5319e7", Description: "A request for gitvend"},
		{Name: "gitvend-drift", Color: "d93f0b", Description: "Live objects differ from Git"},
	}
	did, err := f.client.EnsureLabels(ctx, owner, repoName, want...)
	if err != nil || did != Created {
		t.Fatalf("EnsureLabels = %v, %v", did, err)
	}
	got, err := f.gh.Labels(fullName)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]githubtest.Label{
		{Name: "GitVend-Drift", Color: "000000", Description: "ours"},
		{Name: "gitvend", Color: "5319e7", Description: "A request for gitvend"},
	}, got); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}

	f.gh.ResetCalls()
	if did, err := f.client.EnsureLabels(ctx, owner, repoName, want...); err != nil || did != Unchanged {
		t.Fatalf("second EnsureLabels = %v, %v", did, err)
	}
	if calls := f.gh.Calls(); calls.ByRoute["POST /repos/{owner}/{repo}/labels"] != 0 || calls.ByRoute["GET /repos/{owner}/{repo}/labels"] != 1 {
		t.Errorf("second EnsureLabels calls: %+v", calls.ByRoute)
	}
}
