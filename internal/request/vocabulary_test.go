package request

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSuggest(t *testing.T) {
	words := []string{"set", "rerender", "destroy", "help", "web-service", "scheduled-job", "team-namespace"}
	tests := []struct {
		word, want string
	}{
		{"sett", "set"},
		{"hlep", "help"}, // a swap is one edit
		{"rerendr", "rerender"},
		{"destory", "destroy"},
		{"web-servce", "web-service"},
		{"Set", "set"}, // case is no typo worth refusing to help with
		{"se", "set"},
		{"web", ""}, // too far from anything
		{"x", ""},
		{"deploy", ""}, // two edits from destroy, but short words allow one
		{"set", ""},    // known words are no typos
		{"", ""},
		{strings.Repeat("s", 100), ""},
	}
	for _, tt := range tests {
		got, ok := Suggest(tt.word, words)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Suggest(%q) = %q, %v; want %q", tt.word, got, ok, tt.want)
		}
	}
	if d := distance("kitten", "sitting"); d != 3 {
		t.Errorf("distance(kitten, sitting) = %d, want 3", d)
	}
	if d := distance("ab", "ba"); d != 1 {
		t.Errorf("distance(ab, ba) = %d, want 1", d)
	}
	if d := distance("é", "e"); d != 1 {
		t.Errorf("distance counts bytes, not runes: %d", d)
	}
}

func TestCode(t *testing.T) {
	tests := map[string]string{
		"sett":                         "`sett`",
		"@everyone <img src=x> [a](b)": "`@everyone <img src=x> [a](b)`",
		"a`b":                          "``a`b``",
		"`a":                           "`` `a ``",
		"line\nbreak\r\nhere":          "`line break here`",
		"":                             "` `",
		"x <!-- gitvend:summary -->":   "`x <!-\u200b- gitvend:summary -->`",
	}
	for in, want := range tests {
		if got := Code(in); got != want {
			t.Errorf("Code(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVocabularyCheck(t *testing.T) {
	v := Vocabulary{
		Blueprints: []string{"scheduled-job", "team-namespace", "web-service"},
		Parameters: func(bp string) []string {
			return map[string][]string{"web-service": {"image", "minReplicas", "maxReplicas"}, "scheduled-job": {"schedule", "image"}}[bp]
		},
		Environments: []string{"dev", "prod"},
	}
	tests := []struct {
		name    string
		command string
		place   Place
		current string
		want    []string
	}{
		{"typo of a verb", "/provision sett minReplicas=3", RequestIssue, "web-service",
			[]string{"line 1: /provision sett minReplicas=3: `sett` is neither a command nor a blueprint of this repository; did you mean `/provision set`?"}},
		{"typo of a blueprint", "/provision web-servce name=x", NewIssue, "",
			[]string{"line 1: /provision web-servce name=x: `web-servce` is neither a command nor a blueprint of this repository; did you mean the blueprint `web-service`?"}},
		{"unknown word on a new issue lists the blueprints", "/provision database name=x", NewIssue, "",
			[]string{"line 1: /provision database name=x: `database` is neither a command nor a blueprint of this repository; blueprints are `scheduled-job`, `team-namespace`, `web-service`"}},
		{"unknown word on a request", "/provision database", RequestIssue, "web-service",
			[]string{"line 1: /provision database: `database` is neither a command nor a blueprint of this repository; commands are set, rerender, destroy and help"}},
		{"typo of a parameter", "/provision set minReplica=3", RequestIssue, "web-service",
			[]string{"line 1: /provision set minReplica=3: `minReplica` is not a parameter of web-service; did you mean `minReplicas`?"}},
		{"unknown parameter lists the keys", "/provision set colour=red", RequestIssue, "web-service",
			[]string{"line 1: /provision set colour=red: `colour` is not a parameter of web-service; keys are `blueprint`, `environment`, `name`, `namespace`, `owner`, `ttl`, `image`, `minReplicas`, `maxReplicas`"}},
		{"parameters of the blueprint a create names", "/provision scheduled-job name=x schedul=@daily", NewIssue, "",
			[]string{"line 1: /provision scheduled-job name=x schedul=@daily: `schedul` is not a parameter of scheduled-job; did you mean `schedule`?"}},
		{"typo of an environment", "/provision set environment=prd", RequestIssue, "web-service",
			[]string{"line 1: /provision set environment=prd: `prd` is not an environment of this repository; did you mean `prod`?"}},
		{"unknown environment lists them", `/provision set environment="<b>staging</b>"`, RequestIssue, "web-service",
			[]string{"line 1: /provision set environment=<b>staging</b>: `<b>staging</b>` is not an environment of this repository; environments are `dev`, `prod`"}},
		{"create on a pull request", "/provision web-service name=x", RequestPR, "web-service",
			[]string{"line 1: /provision web-service name=x: a new request starts in an issue; on a pull request, use `/provision set key=value …`"}},
		{"known words pass", "/provision set minReplicas=3 environment=prod ttl=7d", RequestIssue, "web-service", nil},
		{"parameters of an unknown blueprint are not judged", "/provision set anything=1", RequestIssue, "gone", nil},
		{"other verbs pass", "/provision rerender", RequestIssue, "web-service", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmds, errs := ParseCommands(tt.command)
			if len(errs) > 0 || len(cmds) != 1 {
				t.Fatalf("parse: %v %v", cmds, errs)
			}
			var got []string
			for _, e := range v.Check(cmds[0], tt.place, tt.current) {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsagePerPlace(t *testing.T) {
	for _, tt := range []struct {
		place      Place
		has, lacks []string
	}{
		{NewIssue, []string{"/provision <blueprint>", "/provision help"}, []string{"/provision set", "/provision destroy", "/provision rerender"}},
		{RequestIssue, []string{"/provision set", "/provision rerender", "/provision destroy", "starts this request over"}, []string{"asks for a new thing"}},
		{RequestPR, []string{"/provision set", "/provision rerender", "/provision destroy"}, []string{"<blueprint>"}},
		{BotIssue, []string{"No `/provision` command applies"}, []string{"/provision set", "<blueprint>"}},
	} {
		u := Usage(tt.place)
		for _, s := range tt.has {
			if !strings.Contains(u, s) {
				t.Errorf("usage at %d lacks %q:\n%s", tt.place, s, u)
			}
		}
		for _, s := range tt.lacks {
			if strings.Contains(u, s) {
				t.Errorf("usage at %d has %q:\n%s", tt.place, s, u)
			}
		}
	}
}

func TestConfirmPruneOnlyOnPullRequests(t *testing.T) {
	cmds, errs := ParseCommands("/provision confirm-prune")
	if len(errs) > 0 || len(cmds) != 1 || cmds[0].Verb != ConfirmPrune {
		t.Fatalf("ParseCommands = %v, %v; want one confirm-prune", cmds, errs)
	}
	if _, errs := ParseCommands("/provision confirm-prune now"); len(errs) != 1 {
		t.Errorf("confirm-prune with an argument: %v, want an error", errs)
	}
	var v Vocabulary
	if errs := v.Check(cmds[0], RequestPR, ""); len(errs) > 0 {
		t.Errorf("on a pull request: %v, want none", errs)
	}
	for _, p := range []Place{NewIssue, RequestIssue} {
		if errs := v.Check(cmds[0], p, ""); len(errs) != 1 || !strings.Contains(errs[0].Error(), "applies on a pull request") {
			t.Errorf("at place %d: %v, want one error saying where it applies", p, errs)
		}
	}
	if !strings.Contains(Usage(RequestPR), "/provision confirm-prune") || strings.Contains(Usage(RequestIssue), "confirm-prune") {
		t.Error("only the pull request's help lists confirm-prune")
	}
	if cmds, _ := ParseCommands("/provision confirm-prnue"); len(cmds) != 1 {
		t.Fatal("a misspelt verb reads as a blueprint")
	} else if errs := v.Check(cmds[0], RequestPR, ""); len(errs) != 1 || !strings.Contains(errs[0].Error(), "did you mean `/provision confirm-prune`?") {
		t.Errorf("misspelt: %v, want a did-you-mean", errs)
	}
}
