package config

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/cluster"
)

// TestHeldByOwnersAndPurposes: a window limited to a team holds that
// team's objects only (an unknown owner is no team's); each purpose is
// held by the holding windows whose settings do not let it through.
func TestHeldByOwnersAndPurposes(t *testing.T) {
	friday := Window{Name: "freeze", Kind: WindowDeny, Schedule: "0 18 * * FRI", Duration: "60h", Owners: []string{"payments"}}
	healing := Window{Name: "healing", Kind: WindowDeny, Schedule: "0 18 * * FRI", Duration: "60h", SelfHeal: true, Sleep: WindowSleepHold, Expiry: WindowExpiryAllow}
	in := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	end := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		what    string
		ws      Windows
		s       Subject
		p       Purpose
		held    bool
		holding string
	}{
		{"the team's object", Windows{friday}, Subject{"team-a", "payments"}, ForApply, true, "freeze"},
		{"another team's object", Windows{friday}, Subject{"team-a", "search"}, ForApply, false, ""},
		{"an object of no known team", Windows{friday}, Subject{"team-a", ""}, ForApply, false, ""},
		{"self-heal waits by default", Windows{friday}, Subject{"team-a", "payments"}, ForSelfHeal, true, "freeze"},
		{"sleep goes on by default", Windows{friday}, Subject{"team-a", "payments"}, ForSleep, false, ""},
		{"expiry waits by default", Windows{friday}, Subject{"team-a", "payments"}, ForExpiry, true, "freeze"},
		{"selfHeal: true", Windows{healing}, Subject{"x", ""}, ForSelfHeal, false, ""},
		{"sleep: hold", Windows{healing}, Subject{"x", ""}, ForSleep, true, "healing"},
		{"expiry: allow", Windows{healing}, Subject{"x", ""}, ForExpiry, false, ""},
		{"the apply still held", Windows{healing}, Subject{"x", ""}, ForApply, true, "healing"},
		{"both: one holds self-heal", Windows{healing, friday}, Subject{"x", "payments"}, ForSelfHeal, true, "freeze"},
	}
	for _, tt := range tests {
		name, until, held := HeldBy(in, tt.s, tt.p, tt.ws)
		if held != tt.held || name != tt.holding || (held && !until.Equal(end)) {
			t.Errorf("%s: HeldBy = %q, %s, %v; want %q, %s, %v", tt.what, name, until, held, tt.holding, end, tt.held)
		}
	}
}

// TestHeldByServerCannotBeWeakened: the windows of a target (the platform
// team's) and of the environment (the repository's) each hold on their
// own: an allow window of the repository opens no hold of the target's.
func TestHeldByServerCannotBeWeakened(t *testing.T) {
	server := Windows{{Name: "weekdays", Kind: WindowAllow, Schedule: "0 9 * * MON-FRI", Duration: "8h"}}
	repo := Windows{{Name: "mornings", Kind: WindowAllow, Schedule: "0 8 * * *", Duration: "4h"},
		{Name: "lunch", Kind: WindowDeny, Schedule: "0 12 * * *", Duration: "1h"}}
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, time.UTC) }
	tests := []struct {
		at    time.Time
		name  string
		until time.Time
		held  bool
	}{
		{at(2, 10), "", time.Time{}, false},     // Wednesday morning: both allow
		{at(5, 10), "weekdays", at(7, 9), true}, // Saturday: the repository's allow window does not open the server's
		{at(2, 14), "mornings", at(3, 9), true}, // Wednesday afternoon: the repository's holds, and at 08:00 the server's
		{at(2, 12), "mornings", at(3, 9), true}, // lunch: deny, and outside the morning
		{at(1, 20), "weekdays", at(2, 9), true}, // both hold: until both let go
	}
	for _, tt := range tests {
		name, until, held := HeldBy(tt.at, Subject{Namespace: "team-a"}, ForApply, server, repo)
		if name != tt.name || !until.Equal(tt.until) || held != tt.held {
			t.Errorf("at %s: HeldBy = %q, %s, %v; want %q, %s, %v", tt.at, name, until, held, tt.name, tt.until, tt.held)
		}
	}
	// Without the repository's windows the server's alone decide.
	if _, _, held := HeldBy(at(2, 10), Subject{Namespace: "team-a"}, ForApply, server); held {
		t.Error("held inside the server's allow window")
	}
}

// TestServerTargetWindows: targets declare windows in the format of
// gitvend.yaml's, with field errors; the annotated example parses.
func TestServerTargetWindows(t *testing.T) {
	data, err := os.ReadFile("../../examples/server/gitvend.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseServer(data, ".", func(string) string { return "" }, false)
	if err != nil {
		t.Fatalf("the annotated example: %v", err)
	}
	var found []cluster.Window
	for _, tg := range s.Targets {
		found = append(found, tg.Windows...)
	}
	if len(found) == 0 || found[0].Name != "year-end-freeze" {
		t.Fatalf("the example's target windows: %+v", found)
	}
	bad := strings.Replace(string(data), "        kind: deny\n", "        kind: block\n", 1)
	bad = strings.Replace(bad, "        owners: []\n", "        owners: [Payments]\n", 1)
	bad = strings.Replace(bad, "        sleep: allow\n", "        sleep: nap\n", 1)
	bad = strings.Replace(bad, "        expiry: hold\n", "        expiry: never\n", 1)
	_, err = parseServer([]byte(bad), ".", func(string) string { return "" }, false)
	for _, want := range []string{
		`targets[0].windows[0].kind: must be one of deny, allow, got "block"`,
		`targets[0].windows[0].sleep: must be one of allow, hold, got "nap"`,
		`targets[0].windows[0].expiry: must be one of hold, allow, got "never"`,
		`targets[0].windows[0].owners[0]: must be a team name`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
