package config

import (
	"strings"
	"testing"
	"time"
)

const windowHead = "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments:\n"

func TestEnvironmentHeld(t *testing.T) {
	r, err := ParseRepo([]byte(windowHead + `- name: dev
- name: prod
  windows:
  - name: weekend-freeze
    kind: deny
    schedule: "0 18 * * FRI"
    duration: 60h
    timezone: Europe/Berlin
  - name: payments-night
    kind: deny
    schedule: "0 22 * * *"
    duration: 8h
    timezone: Europe/Berlin
    namespaces: ["payments"]
- name: stage
  windows:
  - name: office-hours
    kind: allow
    schedule: "0 9 * * MON-FRI"
    duration: 8h
  - name: no-fridays
    kind: deny
    schedule: "0 0 * * FRI"
    duration: 1d
`))
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, berlin) }
	utc := func(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, time.UTC) }
	tests := []struct {
		env, namespace string
		at             time.Time
		name           string
		until          time.Time
		held           bool
	}{
		{"dev", "team-a", at(5, 12, 0), "", time.Time{}, false},                     // no windows: always allowed
		{"prod", "team-a", at(2, 12, 0), "", time.Time{}, false},                    // Wednesday noon
		{"prod", "team-a", at(4, 17, 59), "", time.Time{}, false},                   // a minute before the freeze
		{"prod", "team-a", at(4, 18, 0), "weekend-freeze", at(7, 6, 0), true},       // the freeze starts
		{"prod", "team-a", at(6, 23, 0), "weekend-freeze", at(7, 6, 0), true},       // Sunday night
		{"prod", "team-a", at(7, 6, 0), "", time.Time{}, false},                     // Monday morning: open again
		{"prod", "payments", at(2, 23, 0), "payments-night", at(3, 6, 0), true},     // the namespace's own window
		{"prod", "team-a", at(2, 23, 0), "", time.Time{}, false},                    // not another namespace's
		{"prod", "", at(2, 23, 0), "", time.Time{}, false},                          // nor cluster-scoped objects
		{"prod", "payments", at(6, 12, 0), "weekend-freeze", at(7, 6, 0), true},     // both hold: the longer named
		{"prod", "payments", at(4, 17, 0), "", time.Time{}, false},                  // before both
		{"stage", "team-a", utc(2, 12, 0), "", time.Time{}, false},                  // inside an allow window
		{"stage", "team-a", utc(2, 17, 0), "office-hours", utc(3, 9, 0), true},      // outside it: until the next
		{"stage", "team-a", utc(3, 17, 30), "office-hours", utc(7, 9, 0), true},     // Thursday after hours: Friday is denied
		{"stage", "team-a", utc(4, 10, 0), "no-fridays", utc(7, 9, 0), true},        // deny wins over allow
		{"stage", "team-a", utc(5, 10, 0), "office-hours", utc(7, 9, 0), true},      // the weekend
		{"prod", "team-a", at(4, 18, 0).UTC(), "weekend-freeze", at(7, 6, 0), true}, // any location
	}
	for _, tt := range tests {
		env, _ := r.Environment(tt.env)
		name, until, held := env.Held(tt.at, tt.namespace)
		if name != tt.name || !until.Equal(tt.until) || held != tt.held {
			t.Errorf("%s %q at %s: Held = %q, %s, %v; want %q, %s, %v", tt.env, tt.namespace, tt.at, name, until, held, tt.name, tt.until, tt.held)
		}
	}
}

func TestWindowActiveOverlapping(t *testing.T) {
	// Openings every 6 hours for 8 hours: one window, never closed.
	w := Window{Name: "always", Kind: WindowDeny, Schedule: "0 */6 * * *", Duration: "8h"}
	at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	active, end := w.Active(at)
	if !active || end.Sub(at) < 24*time.Hour {
		t.Errorf("Active(%s) = %v, %s; want active for a day and more", at, active, end)
	}
	// Back to back: one window from 08:00 to 12:00.
	w = Window{Name: "b2b", Kind: WindowDeny, Schedule: "0 8,10 * * *", Duration: "2h"}
	active, end = w.Active(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC); !active || !end.Equal(want) {
		t.Errorf("back to back: Active = %v, %s; want true, %s", active, end, want)
	}
}

func TestParseRepoWindowErrors(t *testing.T) {
	tests := []struct {
		yaml string
		want []string
	}{
		{`- name: prod
  windows:
  - {name: Freeze, kind: block, schedule: "", duration: ""}
`, []string{
			`environments[0].windows[0].name: must be a DNS-1123 label`,
			`environments[0].windows[0].kind: must be one of deny, allow, got "block"`,
			`environments[0].windows[0].schedule: is required`,
			`environments[0].windows[0].duration: is required`,
		}},
		{`- name: prod
  windows:
  - {name: a, kind: deny, schedule: "@every 1h", duration: 40d, timezone: Mars/Olympus}
  - {name: a, kind: allow, schedule: "CRON_TZ=UTC 0 9 * * *", duration: 2x, namespaces: ["Bad_NS"]}
`, []string{
			`environments[0].windows[0].schedule: must name minutes`,
			`environments[0].windows[0].duration: must be at most 31d, got "40d"`,
			`environments[0].windows[0].timezone: must be an IANA time zone`,
			`environments[0].windows[1].name: window "a" is defined twice`,
			`environments[0].windows[1].schedule: must not set a time zone`,
			`environments[0].windows[1].duration: must be a duration such as`,
			`environments[0].windows[1].namespaces[0]: must be a namespace name`,
		}},
		{`- name: prod
  windows:
  - {name: a, kind: deny, schedule: "0 18 * * FRI", duration: 2d, zone: UTC}
`, []string{`zone`}},
		{`- name: prod
  windows:
  - {name: a, kind: deny, schedule: "0 18 * * FRI", duration: 2d, owners: [paymnets]}
`, []string{`environments[0].windows[0].owners[0]: unknown team "paymnets"`}},
	}
	for _, tt := range tests {
		_, err := ParseRepo([]byte(windowHead + tt.yaml))
		if err == nil {
			t.Errorf("%s: no error", tt.yaml)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tt.yaml, err, w)
			}
		}
	}
}
