package cron

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// approx compares amounts up to floating-point rounding.
var approx = cmpopts.EquateApprox(1e-12, 1e-9)

func TestScheduleRunsPerMonth(t *testing.T) {
	// The calendar of 2001-2028 has 10227 days (exactly 1461 weeks) in 336
	// months, 7 of them 29 February; an average month so has
	// 10227/336 = 30.4375 days.
	const days = 10227.0 / 336
	tests := []struct {
		schedule string
		want     float64
	}{
		{"0 2 * * *", days},
		{"@daily", days},
		{"@midnight", days},
		{"@hourly", 24 * days},         // 730.5
		{"@weekly", 1461.0 / 336},      // 4.348...
		{"@monthly", 1},                // the 1st of every month
		{"@yearly", 1.0 / 12},          // 28 runs in 336 months
		{"@annually", 1.0 / 12},        // the same
		{"0 0 29 2 *", 7.0 / 336},      // leap days only
		{"0 0 31 * *", 7.0 / 12},       // 7 months have a 31st
		{"0 0 30 2 *", 0},              // never
		{"0 0 * JAN,jul *", 62.0 / 12}, // 31 + 31 days a year
		{"0 9 * * MON-FRI", 5 * 1461.0 / 336},
		{"*/15 9-17 * * 1-5", 4 * 9 * 5 * 1461.0 / 336},
		{"5/20 * * * *", 3 * 24 * days}, // minutes 5, 25 and 45
		{"0 0 * * 7", 1461.0 / 336},     // 7 is Sunday too
		{"0 0 * * 0,7", 1461.0 / 336},   // and counts once
		{"0 0 1 * *", 1},                // any weekday: the 1st only
		{"0 0 1 * 0-6", days},           // both restricted: either matches
		{"0 0 ? * *", days},             // ? is *
		{"CRON_TZ=Europe/Berlin 30 6 * * *", days},
		{"TZ=UTC 0 0 1 * *", 1},
		{"@every 90m", 730 / 1.5}, // 486.67
		{"@every 1h", 730},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			sc, err := Parse(tt.schedule)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, sc.RunsPerMonth(), approx); diff != "" {
				t.Errorf("runs per month (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScheduleErrors(t *testing.T) {
	tests := []struct {
		schedule string
		want     string
	}{
		{"", "must have 5 fields (minute hour day-of-month month day-of-week) or be a macro such as @daily, got 0 fields"},
		{"* * * *", "must have 5 fields (minute hour day-of-month month day-of-week) or be a macro such as @daily, got 4 fields"},
		{"61 * * * *", `minute field: "61" must be a number from 0 to 59`},
		{"0 24 * * *", `hour field: "24" must be a number from 0 to 23`},
		{"0 0 0 * *", `day of month field: "0" must be a number from 1 to 31`},
		{"0 0 * FOO *", `month field: "FOO" must be a number from 1 to 12 or a name (JAN-DEC)`},
		{"0 0 * * 8", `day of week field: "8" must be a number from 0 to 7 or a name (SUN-SAT)`},
		{"*/0 * * * *", `minute field "*/0": the step after / must be a number from 1 to 59`},
		{"*/x * * * *", `minute field "*/x": the step after / must be a number from 1 to 59`},
		{"5-1 * * * *", `minute field "5-1": range 5-1 starts after it ends`},
		{"1-x * * * *", `minute field: "x" must be a number from 0 to 59`},
		{"@every soon", `@every needs a duration such as 90m or 6h: time: invalid duration "soon"`},
		{"@every 10ms", "@every needs a duration of at least 1s, got 10ms"},
		{"TZ=UTC", "a time zone must be followed by the schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			_, err := Parse(tt.schedule)
			if err == nil {
				t.Fatalf("parse %q: no error, want %q", tt.schedule, tt.want)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScheduleMatchesLastNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := Parse("0 19 * * MON-FRI")
	if err != nil {
		t.Fatal(err)
	}
	// Wednesday 2 December 2026, 19:00 in Berlin (18:00 UTC).
	wed19 := time.Date(2026, 12, 2, 19, 0, 0, 0, berlin)
	if !sc.Matches(wed19) || sc.Matches(wed19.Add(time.Minute)) || sc.Matches(wed19.In(time.UTC)) {
		t.Errorf("Matches: the minute is read in the time's location")
	}
	if got, ok := sc.Last(wed19.Add(90*time.Minute), 8*24*time.Hour); !ok || !got.Equal(wed19) {
		t.Errorf("Last: %v %v, want %v", got, ok, wed19)
	}
	// From Friday 20:00 the next firing is Monday 19:00.
	fri20 := time.Date(2026, 12, 4, 20, 0, 0, 0, berlin)
	if got, ok := sc.Next(fri20, 8*24*time.Hour); !ok || !got.Equal(time.Date(2026, 12, 7, 19, 0, 0, 0, berlin)) {
		t.Errorf("Next: %v %v, want Monday 19:00", got, ok)
	}
	if _, ok := sc.Next(fri20, 24*time.Hour); ok {
		t.Error("Next within a day of Friday evening: found a firing, want none")
	}
	// Both day fields restricted: either matches (the 1st, or a Sunday).
	either, _ := Parse("0 0 1 * SUN")
	if !either.Matches(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !either.Matches(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)) ||
		either.Matches(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)) {
		t.Error("a schedule with both day fields restricted matches either")
	}
	if either.EveryDay() || !sc.EveryDay() {
		t.Error("EveryDay: want true for weekday-only schedules, false for days of month")
	}
	every, _ := Parse("@every 1h")
	if every.Matches(wed19) || !every.Every() || every.EveryDay() {
		t.Error("@every never matches a minute")
	}
}
