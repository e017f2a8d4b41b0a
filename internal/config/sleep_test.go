package config

import (
	"strings"
	"testing"
	"time"
)

const sleepHead = "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments: [{name: dev}, {name: prod}]\n"

func TestParseRepoSleep(t *testing.T) {
	r, err := ParseRepo([]byte(sleepHead + `sleep:
- environments: [dev]
  namespaces: ["team-*"]
  sleep: "0 19 * * MON-FRI"
  wake: "0 8 * * MON-FRI"
  timezone: Europe/Berlin
`))
	if err != nil {
		t.Fatal(err)
	}
	s, ok := r.SleepFor("dev", "team-search")
	if !ok {
		t.Fatal("no schedule for team-search in dev")
	}
	if _, ok := r.SleepFor("prod", "team-search"); ok {
		t.Error("a schedule for prod, which no schedule names")
	}
	if _, ok := r.SleepFor("dev", "kube-system"); ok {
		t.Error("a schedule for kube-system, outside the namespaces named")
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, berlin) }
	tests := []struct {
		at     time.Time
		asleep bool
		next   time.Time
	}{
		{at(2, 12, 0), false, at(2, 19, 0)},        // Wednesday noon
		{at(2, 18, 59), false, at(2, 19, 0)},       // a minute before
		{at(2, 19, 0), true, at(3, 8, 0)},          // the window starts
		{at(3, 7, 59), true, at(3, 8, 0)},          // Thursday morning
		{at(3, 8, 0), false, at(3, 19, 0)},         // woken
		{at(5, 12, 0), true, at(7, 8, 0)},          // Saturday: asleep since Friday evening, until Monday
		{at(7, 8, 30), false, at(7, 19, 0)},        // Monday
		{at(2, 18, 30).UTC(), false, at(2, 19, 0)}, // any location: read in Berlin's
	}
	for _, tt := range tests {
		asleep, next := s.Asleep(tt.at)
		if asleep != tt.asleep || !next.Equal(tt.next) {
			t.Errorf("Asleep(%s) = %v, next %s; want %v, next %s", tt.at, asleep, next, tt.asleep, tt.next)
		}
	}
	// 4 nights of 13 hours, and Friday 19:00 to Monday 08:00 (61 hours).
	if got := s.HoursAsleepPerWeek(); got != 4*13+61 {
		t.Errorf("HoursAsleepPerWeek = %v, want %v", got, 4*13+61)
	}
}

func TestParseRepoSleepErrors(t *testing.T) {
	tests := []struct {
		sleep string
		want  []string
	}{
		{`[{environments: [qa], sleep: "0 19 * * *", wake: "0 8 * * *"}]`,
			[]string{`sleep[0].environments[0]: unknown environment "qa"`}},
		{`[{namespaces: ["Team A"], sleep: "0 19 * * *", wake: "0 8 * * *"}]`,
			[]string{`sleep[0].namespaces[0]: must be a namespace name or a prefix ending in '*', got "Team A"`}},
		{`[{wake: "0 8 * * *"}]`, []string{"sleep[0].sleep: is required: a cron schedule"}},
		{`[{sleep: "0 25 * * *", wake: "0 8 * * *"}]`, []string{`sleep[0].sleep: hour field: "25" must be a number from 0 to 23`}},
		{`[{sleep: "0 19 1 * *", wake: "0 8 * * *"}]`, []string{`sleep[0].sleep: must repeat every week: day of month and month must be *, got "0 19 1 * *"`}},
		{`[{sleep: "@every 2h", wake: "0 8 * * *"}]`, []string{"sleep[0].sleep: must name minutes of the week"}},
		{`[{sleep: "CRON_TZ=UTC 0 19 * * *", wake: "0 8 * * *"}]`, []string{"sleep[0].sleep: must not set a time zone in the schedule; use sleep[0].timezone"}},
		{`[{sleep: "0 19 * * *", wake: "0 8 * * *", timezone: Mars/Olympus}]`, []string{`sleep[0].timezone: must be an IANA time zone such as Europe/Berlin or UTC, got "Mars/Olympus"`}},
		{`[{sleep: "0 19 * * *", wake: "0 8 * * *", timezone: Local}]`, []string{"sleep[0].timezone: must name a time zone"}},
		{`[{sleep: "0 8 * * MON", wake: "0 8 * * *"}]`, []string{"sleep[0]: sleep and wake both fire at Monday 08:00"}},
		{`[{sleep: "0 19 * * *", wake: "0 8 * * *", awake: "Mon-Fri"}]`, []string{"awake"}},
	}
	for _, tt := range tests {
		_, err := ParseRepo([]byte(sleepHead + "sleep: " + tt.sleep + "\n"))
		if err == nil {
			t.Errorf("sleep %s: no error, want %q", tt.sleep, tt.want)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("sleep %s: error %q does not say %q", tt.sleep, err, w)
			}
		}
	}
}
