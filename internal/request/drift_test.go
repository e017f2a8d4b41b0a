package request

import (
	"strings"
	"testing"
)

func TestParseRevertAndAdopt(t *testing.T) {
	cases := []struct {
		line   string
		verb   Verb
		object string
		err    string
	}{
		{line: "/provision revert", verb: Revert},
		{line: "/provision adopt", verb: Adopt},
		{line: "/provision revert object=Deployment/team-a/web", verb: Revert, object: "Deployment/team-a/web"},
		{line: "/provision adopt object=Namespace/team-a", verb: Adopt, object: "Namespace/team-a"},
		{line: "/provision revert target=dev", err: "takes only object="},
		{line: "/provision adopt object=Deployment/web/x/y", err: "want Kind/namespace/name"},
		{line: "/provision adopt object=deployment/team-a/web", err: "must start with a capital"},
		{line: "/provision revert object=Deployment/Team_A/web", err: "is not a Kubernetes name"},
		{line: "/provision revert object=Deployment//web", err: "is not a Kubernetes name"},
		{line: "/provision revert object=A/b/c object=A/b/d", err: "at most one"},
	}
	for _, c := range cases {
		cmds, errs := ParseCommands(c.line)
		if c.err != "" {
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.err) {
				t.Errorf("%s: errors %v, want one saying %q", c.line, errs, c.err)
			}
			continue
		}
		if len(errs) > 0 || len(cmds) != 1 {
			t.Fatalf("%s: %v %v", c.line, cmds, errs)
		}
		if cmds[0].Verb != c.verb || cmds[0].Object != c.object {
			t.Errorf("%s: got %s %q, want %s %q", c.line, cmds[0].Verb, cmds[0].Object, c.verb, c.object)
		}
		if got := cmds[0].String(); got != c.line {
			t.Errorf("%s: written back as %q", c.line, got)
		}
	}
}

// TestRevertAndAdoptOnlyOnDriftIssues: the drift verbs are refused
// elsewhere with a reason, and only a drift issue's help lists them.
func TestRevertAndAdoptOnlyOnDriftIssues(t *testing.T) {
	cmds, _ := ParseCommands("/provision revert\n/provision adopt object=Service/team-a/web")
	for _, p := range []Place{NewIssue, RequestIssue, RequestPR, BotIssue} {
		for _, c := range cmds {
			errs := Vocabulary{}.Check(c, p, "")
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), "applies on a drift issue only") {
				t.Errorf("place %d, %s: %v", p, c, errs)
			}
		}
		if u := Usage(p); strings.Contains(u, "revert") || strings.Contains(u, "adopt") {
			t.Errorf("usage at place %d lists the drift verbs:\n%s", p, u)
		}
	}
	for _, c := range cmds {
		if errs := (Vocabulary{}).Check(c, DriftIssue, ""); len(errs) > 0 {
			t.Errorf("%s on a drift issue: %v", c, errs)
		}
	}
	u := Usage(DriftIssue)
	for _, want := range []string{"/provision revert`", "/provision revert object=Kind/namespace/name", "/provision adopt`", "/provision adopt object=", "/provision help"} {
		if !strings.Contains(u, want) {
			t.Errorf("drift issue usage lacks %s:\n%s", want, u)
		}
	}
	if !strings.HasPrefix(Usage(BotIssue), "No `/provision` command applies") {
		t.Errorf("another bot issue's usage: %s", Usage(BotIssue))
	}
}
