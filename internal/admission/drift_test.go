package admission

import (
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/config"
)

func TestDrift(t *testing.T) {
	cfg := &config.Repo{Intake: config.Intake{Permission: "write"}, Environments: []config.Environment{
		{Name: "dev"}, {Name: "prod", Teams: []string{"sre", "payments"}},
	}}
	writer := Person{Login: "alice", Permission: "write"}
	// An environment open to everyone: the permission decides.
	if _, ask, r := Drift(cfg, "dev", []string{"dev"}, writer); ask || r != nil {
		t.Errorf("writer on dev: ask %v, refusal %v", ask, r)
	}
	if _, ask, r := Drift(cfg, "dev", []string{"dev"}, Person{Login: "eve", Permission: "read"}); ask || r == nil {
		t.Errorf("reader on dev: ask %v, refusal %v", ask, r)
	}
	if _, ask, r := Drift(cfg, "dev", []string{"dev"}, Person{Login: "eve", Association: "NONE"}); ask || r == nil {
		t.Errorf("stranger on dev: ask %v, refusal %v", ask, r)
	}
	// A target that applies a team-only environment asks about each team
	// in turn and refuses when none says yes.
	p := writer
	p.Teams = map[string]bool{}
	var asked []string
	for {
		q, ask, r := Drift(cfg, "shared", []string{"dev", "prod"}, p)
		if r != nil {
			if !strings.Contains(r.Reason, "environment prod") || !strings.Contains(r.Reason, "sre, payments") {
				t.Errorf("refusal: %s", r.Reason)
			}
			break
		}
		if !ask {
			t.Fatal("admitted without a team")
		}
		asked = append(asked, q.Team)
		p.Teams[q.Team] = false
	}
	if strings.Join(asked, ",") != "sre,payments" {
		t.Errorf("asked about %v", asked)
	}
	p.Teams = map[string]bool{"sre": false, "payments": true}
	if _, ask, r := Drift(cfg, "shared", []string{"dev", "prod"}, p); ask || r != nil {
		t.Errorf("payments member: ask %v, refusal %v", ask, r)
	}
}
