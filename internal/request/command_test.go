package request

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/field"
)

func TestParseCommands(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []Command
		errs []string
	}{
		{"create", "/provision web-service name=payments-api image=ghcr.io/acme/pay:1.2 replicas=3",
			[]Command{{Verb: Create, Blueprint: "web-service", Line: 1, Args: []Arg{
				{"name", "payments-api"}, {"image", "ghcr.io/acme/pay:1.2"}, {"replicas", "3"}}}}, nil},
		{"set among prose", "Thanks!\n\n  /provision set replicas=5 host=\"a b\"  \nmore text",
			[]Command{{Verb: Set, Line: 3, Args: []Arg{{"replicas", "5"}, {"host", "a b"}}}}, nil},
		{"single quotes keep text", `/provision set greeting='say "hi" \n'`,
			[]Command{{Verb: Set, Line: 1, Args: []Arg{{"greeting", `say "hi" \n`}}}}, nil},
		{"double quote escapes", `/provision set greeting="a \"b\" \\ c"`,
			[]Command{{Verb: Set, Line: 1, Args: []Arg{{"greeting", `a "b" \ c`}}}}, nil},
		{"empty value", `/provision set host=`,
			[]Command{{Verb: Set, Line: 1, Args: []Arg{{"host", ""}}}}, nil},
		{"value with equals and yaml", `/provision set env="a: b" x={} y=---`,
			[]Command{{Verb: Set, Line: 1, Args: []Arg{{"env", "a: b"}, {"x", "{}"}, {"y", "---"}}}}, nil},
		{"other verbs", "/provision rerender\n/provision help\n/provision destroy",
			[]Command{{Verb: Rerender, Line: 1}, {Verb: Help, Line: 2}, {Verb: Destroy, Line: 3}}, nil},
		{"quoted reply is not a command", "> /provision set replicas=5\nok", nil, nil},
		{"code fence is not a command", "```\n/provision set replicas=5\n```\n~~~~\n/provision help\n~~~~", nil, nil},
		{"prefix of another word", "/provisioning set x=1\n/provisionset", nil, nil},
		{"bare prefix", "/provision", nil, []string{"line 1: /provision: missing what to do; use /provision <blueprint> key=value … or a command; /provision help lists the commands that apply here"}},
		{"set without pairs", "/provision set", nil, []string{"line 1: /provision set: set needs at least one key=value, such as /provision set replicas=3"}},
		{"help with args", "/provision help me", nil, []string{"line 1: /provision help me: help takes no arguments, got `me`"}},
		{"not key=value", "/provision set replicas", nil, []string{"line 1: /provision set replicas: `replicas` is not key=value; quote values with spaces: key=\"a value\""}},
		{"unterminated quote", `/provision set a="b`, nil, []string{`line 1: /provision set a="b: unterminated " quote`}},
		{"bad key", "/provision set 9a=1", nil, []string{"line 1: /provision set 9a=1: key `9a` must be a name of letters, digits, '-' or '_' starting with a letter"}},
		{"quoted key", `/provision set "a b"=1`, nil, []string{"line 1: /provision set \"a b\"=1: `a b=1` is not key=value; quote values with spaces: key=\"a value\""}},
		{"duplicate key", "/provision set a=1 a=2", nil, []string{"line 1: /provision set a=1 a=2: key `a` is given twice"}},
		{"verb is key=value", "/provision a=1", nil, []string{"line 1: /provision a=1: `a=1` is not a command or a blueprint; use /provision <blueprint> key=value … or a command; /provision help lists the commands that apply here"}},
		{"good and bad lines", "/provision set a=1\n/provision set b", []Command{{Verb: Set, Line: 1, Args: []Arg{{"a", "1"}}}},
			[]string{"line 2: /provision set b: `b` is not key=value; quote values with spaces: key=\"a value\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ParseCommands(tt.text)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("commands (-want +got):\n%s", diff)
			}
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
				if fe, ok := e.(*field.Error); !ok || fe.Line == 0 || fe.Field == "" {
					t.Errorf("error %q is not a *field.Error with a line and the command", e)
				}
			}
			if diff := cmp.Diff(tt.errs, msgs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCommandsLimits(t *testing.T) {
	many := strings.Repeat("/provision help\n", MaxCommands+5)
	cmds, errs := ParseCommands(many)
	if len(cmds) != MaxCommands || len(errs) != 1 {
		t.Fatalf("got %d commands and %d errors, want %d and 1", len(cmds), len(errs), MaxCommands)
	}
	long := "/provision set a=" + strings.Repeat("x", MaxCommandBytes)
	if _, errs := ParseCommands(long); len(errs) != 1 || !strings.Contains(errs[0].Error(), "at most 8192") {
		t.Fatalf("long command: %v", errs)
	}
	var args []string
	for i := 0; i <= MaxArgs; i++ {
		args = append(args, fmt.Sprintf("k%d=v", i))
	}
	if _, errs := ParseCommands("/provision set " + strings.Join(args, " ")); len(errs) != 1 {
		t.Fatalf("too many args: %v", errs)
	}
	if _, errs := ParseCommands("/provision set a=\xff"); len(errs) != 1 {
		t.Fatalf("invalid UTF-8: %v", errs)
	}
}

func FuzzParseCommands(f *testing.F) {
	for _, s := range []string{"/provision web-service a=1 b=\"c d\"", "/provision set x='y'", "```\n/provision help\n```", "/provision set a=\"\\", "> /provision destroy"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmds, _ := ParseCommands(s)
		for _, c := range cmds {
			if len(c.Args) > MaxArgs {
				t.Fatalf("%d args", len(c.Args))
			}
			d := &Draft{}
			d.Apply(c)
		}
	})
}

func TestParseExtend(t *testing.T) {
	cmds, errs := ParseCommands("/provision extend ttl=72h")
	if len(errs) > 0 || len(cmds) != 1 || cmds[0].Verb != Extend || len(cmds[0].Args) != 1 || cmds[0].Args[0] != (Arg{Key: "ttl", Value: "72h"}) {
		t.Fatalf("extend: %+v %v", cmds, errs)
	}
	if got := cmds[0].String(); got != "/provision extend ttl=72h" {
		t.Errorf("String: %q", got)
	}
	for _, bad := range []string{"/provision extend", "/provision extend ttl=72h name=x", "/provision extend replicas=3", "/provision extend ttl=soon", "/provision extend ttl=-1h", "/provision extend 'ttl'=1h"} {
		if cmds, errs := ParseCommands(bad); len(cmds) != 0 || len(errs) != 1 {
			t.Errorf("%s: %+v %v", bad, cmds, errs)
		} else if !strings.Contains(errs[0].Error(), "ttl") {
			t.Errorf("%s: %v", bad, errs[0])
		}
	}
}

func TestExtendOnlyOnTheRequestIssue(t *testing.T) {
	cmds, _ := ParseCommands("/provision extend ttl=1d")
	var v Vocabulary
	if errs := v.Check(cmds[0], RequestIssue, "web-service"); len(errs) != 0 {
		t.Errorf("on the request issue: %v", errs)
	}
	for _, p := range []Place{RequestPR, NewIssue} {
		if errs := v.Check(cmds[0], p, ""); len(errs) != 1 || !strings.Contains(errs[0].Error(), "issue of a request") {
			t.Errorf("at %d: %v", p, errs)
		}
	}
	if !strings.Contains(Usage(RequestIssue), "/provision extend ttl=") || strings.Contains(Usage(RequestPR), "extend") {
		t.Error("only the request issue's usage lists extend")
	}
}

func TestParseApplyNow(t *testing.T) {
	tests := []struct {
		text   string
		reason string
		err    string
	}{
		{`/provision apply-now reason="fix for the checkout outage"`, "fix for the checkout outage", ""},
		{`/provision apply-now`, "", `apply-now takes one reason="…"`},
		{`/provision apply-now reason="now"`, "", "must be 10 to 200 characters, got 3"},
		{`/provision apply-now because="fix for the checkout outage"`, "", `apply-now takes one reason="…"`},
		{`/provision apply-now reason="fix for the outage" force=true`, "", `apply-now takes one reason="…"`},
		{`/provision apply-now reason="` + strings.Repeat("x", 201) + `"`, "", "got 201"},
	}
	for _, tt := range tests {
		cmds, errs := ParseCommands(tt.text)
		switch {
		case tt.err == "" && (len(errs) > 0 || len(cmds) != 1 || cmds[0].Verb != ApplyNow || cmds[0].Reason() != tt.reason):
			t.Errorf("%s: %+v, %v; want reason %q", tt.text, cmds, errs, tt.reason)
		case tt.err != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.err)):
			t.Errorf("%s: errors %v; want one saying %q", tt.text, errs, tt.err)
		}
	}
	v := Vocabulary{}
	cmd := Command{Verb: ApplyNow, Args: []Arg{{Key: "reason", Value: "fix for the checkout outage"}}, Line: 1}
	if errs := v.Check(cmd, RequestPR, ""); len(errs) != 0 {
		t.Errorf("apply-now on a pull request: %v", errs)
	}
	if errs := v.Check(cmd, RequestIssue, ""); len(errs) != 1 || !strings.Contains(errs[0].Error(), "apply-now applies on a merged pull request") {
		t.Errorf("apply-now on an issue: %v", errs)
	}
	if !strings.Contains(Usage(RequestPR), "/provision apply-now reason=") || strings.Contains(Usage(RequestIssue), "apply-now") {
		t.Error("apply-now is listed where it does not apply, or not where it does")
	}
}
