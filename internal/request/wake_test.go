package request

import (
	"strings"
	"testing"
	"time"
)

func TestParseWake(t *testing.T) {
	cmds, errs := ParseCommands("/provision wake\n/provision wake for=2h\n/provision wake for=90m")
	if len(errs) > 0 || len(cmds) != 3 {
		t.Fatalf("commands %+v, errors %v", cmds, errs)
	}
	for i, want := range []time.Duration{0, 2 * time.Hour, 90 * time.Minute} {
		d, ok := cmds[i].WakeFor()
		if cmds[i].Verb != Wake || d != want || ok != (want > 0) {
			t.Errorf("command %d: %+v, for %v %v; want wake for %v", i, cmds[i], d, ok, want)
		}
	}
	for line, want := range map[string]string{
		"/provision wake for=soon":      "for=`soon` must be a duration from 1m to 168h",
		"/provision wake for=30s":       "for=`30s` must be a duration from 1m to 168h",
		"/provision wake for=200h":      "for=`200h` must be a duration from 1m to 168h",
		"/provision wake until=8am":     "wake takes nothing or for=<duration>",
		"/provision wake 2h":            "wake takes nothing or for=<duration>",
		"/provision wake for=1h for=2h": "wake takes nothing or for=<duration>",
	} {
		_, errs := ParseCommands(line)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), want) {
			t.Errorf("%s: errors %v, want one saying %q", line, errs, want)
		}
	}
}

func TestWakeAppliesOnTheRequestIssue(t *testing.T) {
	cmds, _ := ParseCommands("/provision wake for=1h")
	v := Vocabulary{}
	if errs := v.Check(cmds[0], RequestIssue, "web-service"); len(errs) != 0 {
		t.Errorf("wake on a request issue: %v", errs)
	}
	for _, p := range []Place{NewIssue, RequestPR, BotIssue} {
		if errs := v.Check(cmds[0], p, ""); len(errs) != 1 || !strings.Contains(errs[0].Error(), "wake applies on the issue of a request") {
			t.Errorf("wake at place %d: %v", p, errs)
		}
	}
	if !strings.Contains(Usage(RequestIssue), "/provision wake [for=2h]") || strings.Contains(Usage(NewIssue), "wake") {
		t.Error("Usage lists wake on request issues only")
	}
	// A typo of the verb is answered with it.
	wrong, _ := ParseCommands("/provision wkae")
	if errs := (Vocabulary{Blueprints: []string{"web-service"}}).Check(wrong[0], RequestIssue, "web-service"); len(errs) != 1 || !strings.Contains(errs[0].Error(), "/provision wake") {
		t.Errorf("a typo of wake: %v", errs)
	}
}
