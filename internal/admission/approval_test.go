package admission

import (
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/config"
)

func TestApprovers(t *testing.T) {
	const head, old = "h2", "h1"
	reviews := []Review{
		{Login: "dana", State: "APPROVED", CommitID: head},
		{Login: "erin", State: "APPROVED", CommitID: old},   // stale: an older head
		{Login: "alice", State: "APPROVED", CommitID: head}, // the author
		{Login: "deploy[bot]", Bot: true, State: "APPROVED", CommitID: head},
		{Login: "gitvend[bot]", State: "APPROVED", CommitID: head}, // gitvend itself
		{Login: "frank", State: "APPROVED", CommitID: head},
		{Login: "frank", State: "CHANGES_REQUESTED", CommitID: head}, // a later request cancels
		{Login: "gus", State: "DISMISSED", CommitID: head},           // dismissed
		{Login: "dana", State: "COMMENTED", CommitID: head},          // a comment changes nothing
		{Login: "hal", State: "CHANGES_REQUESTED", CommitID: old},
		{Login: "hal", State: "APPROVED", CommitID: head}, // the latest decides
	}
	got := Approvers(reviews, []string{"Alice"}, "gitvend[bot]", head)
	if strings.Join(got, ",") != "dana,hal" {
		t.Errorf("Approvers = %v, want dana,hal", got)
	}
}

func TestTally(t *testing.T) {
	env := config.Environment{Name: "prod", Approvals: &config.Approvals{Teams: []string{"sre", "leads"}, Count: 2}}
	people := []Person{{Login: "dana"}, {Login: "hal"}, {Login: "ivy"}}
	var asked []string
	for {
		q, ask := ApprovalNext(env, people)
		if !ask {
			break
		}
		asked = append(asked, q.User+"/"+q.Team)
		in := Input{People: people}
		in.Answer(q, q.User == "dana" && q.Team == "sre" || q.User == "ivy" && q.Team == "leads")
		people = in.People
	}
	if strings.Join(asked, " ") != "dana/sre hal/sre hal/leads ivy/sre ivy/leads" {
		t.Errorf("asked %v", asked)
	}
	a := Tally(env, people)
	if !a.Met() || strings.Join(a.Approved, ",") != "dana,ivy" || strings.Join(a.Others, ",") != "hal" {
		t.Errorf("tally = %+v", a)
	}
	want := "prod: 2 of 2 approvals from members of sre, leads (@dana, @ivy); not counted, outside those teams: @hal"
	if a.Line() != want {
		t.Errorf("line = %q, want %q", a.Line(), want)
	}
	one := Tally(env, people[:2])
	if one.Met() || one.Line() != "prod: 1 of 2 approvals from members of sre, leads (@dana); 1 more needed; not counted, outside those teams: @hal" {
		t.Errorf("one = %q", one.Line())
	}
}
