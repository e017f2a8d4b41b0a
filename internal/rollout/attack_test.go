package rollout_test

import (
	"context"
	"testing"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// TestAPersonsStatusDoesNotSkipTheApply: a writer sets the status
// gitvend/apply/dev to success on the head before gitvend starts (as after
// a restart, when gitvend asks GitHub what it applied). gitvend only
// believes its own statuses: it applies the head and reports its own
// success.
func TestAPersonsStatusDoesNotSkipTheApply(t *testing.T) {
	env := kubetest.ForTest(t)
	var head string
	f := start(t, env, func(gh *githubtest.Server) {
		ctx := context.Background()
		branches, err := gh.Branches(ctx, repo)
		if err != nil {
			t.Fatal(err)
		}
		head = branches["main"]
		if err := gh.SetPermission(repo, "mallory", "write"); err != nil {
			t.Fatal(err)
		}
		if err := gh.PostStatus(ctx, repo, githubtest.StatusSpec{User: "mallory", SHA: head, State: "success",
			Context: rollout.StatusPrefix + "dev", Description: "applied, honest"}); err != nil {
			t.Fatal(err)
		}
	})
	waitFor(t, "gitvend's own status on the head", func() bool { return ownStatusOf(t, f.gh, head) == "success" })
	if err := env.Kubectl(context.Background(), "get", "configmap", "search-settings", "-n", "team-search").Run(); err != nil {
		t.Errorf("the head was not applied: %v", err)
	}
}

// ownStatusOf is the state of the newest gitvend/apply/dev status gitvend
// set on sha.
func ownStatusOf(t *testing.T, gh *githubtest.Server, sha string) string {
	all, err := gh.Statuses(repo)
	if err != nil {
		t.Fatal(err)
	}
	state := ""
	for _, st := range all {
		if st.SHA == sha && st.Context == rollout.StatusPrefix+"dev" && st.Creator == gh.BotLogin() {
			state = st.State
		}
	}
	return state
}
