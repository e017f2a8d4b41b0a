package rollout_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/githubtest"
	"github.com/gitvend/gitvend/internal/kubetest"
	"github.com/gitvend/gitvend/internal/rollout"
)

// liveValue reads one field of a live object with kubectl's jsonpath.
func liveValue(t *testing.T, env *kubetest.Env, kind, ns, name, path string) string {
	t.Helper()
	out, err := env.Kubectl(context.Background(), "get", kind, name, "-n", ns, "-o", "jsonpath="+path).CombinedOutput()
	if err != nil {
		t.Fatalf("get %s %s/%s: %v: %s", kind, ns, name, err, out)
	}
	return string(out)
}

// revertComment finds the App's comment holding the revert line of object.
func revertComment(t *testing.T, gh *githubtest.Server, object string) githubtest.Comment {
	t.Helper()
	for _, c := range issueTitled(t, gh, "Drift on target dev").Comments {
		if c.User == gh.BotLogin() && strings.Contains(c.Body, "target=dev object="+object+" state=") {
			return c
		}
	}
	return githubtest.Comment{}
}

// TestRevertFromTheDriftIssue: on a target that does not heal itself, a
// revert recorded on the drift issue applies Git to one object, and then
// to the whole target, once the leader reconciles the repository (the
// push signal of the replica that took the command); each record is
// marked done with what was applied, the issue closes once the cluster
// matches Git, and a person's comment that imitates a record does
// nothing.
func TestRevertFromTheDriftIssue(t *testing.T) {
	env := kubetest.ForTest(t)
	f := start(t, env)
	gh, ctx := f.gh, context.Background()
	waitFor(t, "the first apply", func() bool { return statusOf(t, gh, f.head(t)) == "success" })

	kubectl(t, env, "patch", "configmap", "search-settings", "-n", "team-search", "--type=merge", "-p", `{"data":{"index.shards":"9"}}`)
	kubectl(t, env, "set", "env", "statefulset/ledger-db", "-n", "team-payments", "POSTGRES_DB=stolen-db-name")
	var drift githubtest.Issue
	waitFor(t, "a drift issue naming both changes", func() bool {
		drift = issueTitled(t, gh, "Drift on target dev")
		return drift.State == "open" && strings.Contains(drift.Body, "StatefulSet team-payments/ledger-db") &&
			strings.Contains(drift.Body, "ConfigMap team-search/search-settings")
	})
	for _, want := range []string{"`/provision revert object=ConfigMap/team-search/search-settings`", "`/provision adopt object=StatefulSet/team-payments/ledger-db`"} {
		if !strings.Contains(drift.Body, want) {
			t.Errorf("the drift issue does not offer %s:\n%s", want, drift.Body)
		}
	}

	// Someone who may write the repository imitates the App's record:
	// nothing is applied.
	if _, err := gh.Comment(ctx, repo, drift.Number, "mallory", "sneaky\n"+rollout.RevertLine("dev", "ConfigMap/team-search/search-settings")); err != nil {
		t.Fatal(err)
	}
	f.r.Kick(repo)

	// One object.
	if _, err := gh.Comment(ctx, repo, drift.Number, gh.BotLogin(), "@alice asked to revert.\n"+rollout.RevertLine("dev", "StatefulSet/team-payments/ledger-db")); err != nil {
		t.Fatal(err)
	}
	f.r.Kick(repo)
	waitFor(t, "the StatefulSet reverted", func() bool {
		return strings.Contains(revertComment(t, gh, "StatefulSet/team-payments/ledger-db").Body, "state=done")
	})
	if got := liveValue(t, env, "statefulset", "team-payments", "ledger-db", `{.spec.template.spec.containers[0].env[?(@.name=="POSTGRES_DB")].value}`); got != "app" {
		t.Errorf("POSTGRES_DB after the revert of the StatefulSet: %q, want app", got)
	}
	if got := liveValue(t, env, "configmap", "team-search", "search-settings", `{.data.index\.shards}`); got != "9" {
		t.Errorf("index.shards changed by the revert of another object (or by the imitation): %q, want 9", got)
	}
	if c := revertComment(t, gh, "StatefulSet/team-payments/ledger-db"); !strings.Contains(c.Body, "Reverted StatefulSet/team-payments/ledger-db on target dev to Git") {
		t.Errorf("the record does not say what was reverted:\n%s", c.Body)
	}
	for _, c := range issueTitled(t, gh, "Drift on target dev").Comments {
		if c.User == "mallory" && strings.Contains(c.Body, "state=done") {
			t.Error("a person's comment was taken for a record")
		}
	}
	if issueTitled(t, gh, "Drift on target dev").State != "open" {
		t.Fatal("the drift issue closed while the ConfigMap still differs")
	}

	// The whole target.
	if _, err := gh.Comment(ctx, repo, drift.Number, gh.BotLogin(), "@alice asked to revert the target.\n"+rollout.RevertLine("dev", "")); err != nil {
		t.Fatal(err)
	}
	f.r.Kick(repo)
	waitFor(t, "the drift issue to close", func() bool { return issueTitled(t, gh, "Drift on target dev").State == "closed" })
	if got := liveValue(t, env, "configmap", "team-search", "search-settings", `{.data.index\.shards}`); got != "3" {
		t.Errorf("index.shards after the revert of the target: %q, want 3", got)
	}
	if c := revertComment(t, gh, ""); !strings.Contains(c.Body, "state=done") || !strings.Contains(c.Body, "Reverted target dev to Git") {
		t.Errorf("the record of the target's revert:\n%s", c.Body)
	}
}
