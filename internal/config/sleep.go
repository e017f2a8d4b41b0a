package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/cron"
)

// Sleep is a sleep schedule of gitvend.yaml: the workloads of the
// environments and namespaces it names go to sleep (Deployments and
// StatefulSets scaled to zero, CronJobs suspended) at every minute its
// Sleep cron schedule names and wake at every minute its Wake schedule
// names, both read in TimeZone; the workloads sleep from a Sleep minute to
// the next Wake minute. A schedule repeats weekly: the day-of-month and
// month fields must be "*". For example, asleep in Berlin from 19:00 to
// 08:00 on working days and from Friday evening to Monday morning:
//
//	sleep:
//	- environments: [dev]
//	  namespaces: ["team-*"]
//	  sleep: "0 19 * * MON-FRI"
//	  wake: "0 8 * * MON-FRI"
//	  timezone: Europe/Berlin
type Sleep struct {
	// Environments the schedule applies to; every environment when empty.
	Environments []string `yaml:"environments"`
	// Namespaces the schedule applies to: names, or prefixes ending in
	// '*'; every namespace when empty.
	Namespaces []string `yaml:"namespaces"`
	// Sleep is a cron schedule (five fields, or a macro such as @daily)
	// of the minutes the workloads go to sleep.
	Sleep string `yaml:"sleep"`
	// Wake is a cron schedule of the minutes they wake.
	Wake string `yaml:"wake"`
	// TimeZone is the IANA time zone both schedules are read in, such as
	// Europe/Berlin; UTC when empty.
	TimeZone string `yaml:"timezone"`
}

// sleepLookback is how far back the last firing of a schedule is looked
// for: a weekly schedule fires within any week.
const sleepLookback = 7*24*time.Hour + time.Minute

// Covers tells whether the schedule applies to namespace in environment.
func (s Sleep) Covers(environment, namespace string) bool {
	if len(s.Environments) > 0 && !contains(s.Environments, environment) {
		return false
	}
	return len(s.Namespaces) == 0 || cluster.NamespaceAllowed(s.Namespaces, namespace)
}

// Location is the schedule's time zone.
func (s Sleep) Location() *time.Location {
	loc, err := loadZone(s.TimeZone)
	if err != nil {
		return time.UTC // Validate refuses it
	}
	return loc
}

func loadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("must name a time zone such as Europe/Berlin or UTC, not Local")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("must be an IANA time zone such as Europe/Berlin or UTC, got %q", name)
	}
	return loc, nil
}

// Asleep tells whether the schedule's workloads sleep at t: the latest
// firing of Sleep at or before t is later than the latest of Wake. When
// both fire in the same minute, Wake wins. It also returns the next minute
// after t at which the answer may change.
func (s Sleep) Asleep(t time.Time) (asleep bool, next time.Time) {
	sleep, err1 := cron.Parse(s.Sleep)
	wake, err2 := cron.Parse(s.Wake)
	if err1 != nil || err2 != nil {
		return false, time.Time{} // Validate refuses it
	}
	t = t.In(s.Location())
	lastSleep, okSleep := sleep.Last(t, sleepLookback)
	lastWake, okWake := wake.Last(t, sleepLookback)
	asleep = okSleep && (!okWake || lastSleep.After(lastWake))
	flip := wake
	if !asleep {
		flip = sleep
	}
	next, _ = flip.Next(t, sleepLookback)
	return asleep, next
}

// HoursAsleepPerWeek is how long the schedule's workloads sleep in a week.
func (s Sleep) HoursAsleepPerWeek() float64 {
	sleep, err1 := cron.Parse(s.Sleep)
	wake, err2 := cron.Parse(s.Wake)
	if err1 != nil || err2 != nil {
		return 0
	}
	// The week of 5 January 2026 has no change of daylight saving time
	// anywhere it is observed in the northern hemisphere; a week in
	// another zone may be an hour longer or shorter.
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, s.Location())
	asleep, _ := s.Asleep(start)
	minutes := 0
	for m := start; m.Before(start.Add(7 * 24 * time.Hour)); m = m.Add(time.Minute) {
		switch {
		case wake.Matches(m):
			asleep = false
		case sleep.Matches(m):
			asleep = true
		}
		if asleep {
			minutes++
		}
	}
	return float64(minutes) / 60
}

// validate checks the schedule at path f.
func (s Sleep) validate(f string, envs map[string]bool, bad func(path, format string, args ...any)) {
	for j, e := range s.Environments {
		if !envs[e] {
			bad(fmt.Sprintf("%s.environments[%d]", f, j), "unknown environment %q; environments are defined under environments", e)
		}
	}
	for j, ns := range s.Namespaces {
		if !validNamespacePattern(ns) {
			bad(fmt.Sprintf("%s.namespaces[%d]", f, j), "must be a namespace name or a prefix ending in '*', got %q", ns)
		}
	}
	if _, err := loadZone(s.TimeZone); err != nil {
		bad(f+".timezone", "%v", err)
	}
	var scheds [2]cron.Schedule
	ok := true
	for i, c := range []struct{ name, value, what string }{
		{"sleep", s.Sleep, "go to sleep"},
		{"wake", s.Wake, "wake"},
	} {
		if strings.TrimSpace(c.value) == "" {
			bad(f+"."+c.name, "is required: a cron schedule (minute hour day-of-month month day-of-week) of when the workloads %s, such as \"0 19 * * MON-FRI\"", c.what)
			ok = false
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(c.value), "CRON_TZ=") || strings.HasPrefix(strings.TrimSpace(c.value), "TZ=") {
			bad(f+"."+c.name, "must not set a time zone in the schedule; use %s.timezone", f)
			ok = false
			continue
		}
		sc, err := cron.Parse(c.value)
		switch {
		case err != nil:
			bad(f+"."+c.name, "%v", err)
			ok = false
		case sc.Every():
			bad(f+"."+c.name, "must name minutes of the week (five fields or a macro such as @daily), not @every, got %q", c.value)
			ok = false
		case !sc.EveryDay():
			bad(f+"."+c.name, "must repeat every week: day of month and month must be *, got %q", c.value)
			ok = false
		}
		scheds[i] = sc
	}
	if !ok {
		return
	}
	loc := s.Location()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, loc)
	for m := start; m.Before(start.Add(7 * 24 * time.Hour)); m = m.Add(time.Minute) {
		if scheds[0].Matches(m) && scheds[1].Matches(m) {
			bad(f, "sleep and wake both fire at %s %s; they must name different minutes", m.Weekday(), m.Format("15:04"))
			return
		}
	}
}

// SleepFor returns the first sleep schedule that applies to namespace in
// environment.
func (r *Repo) SleepFor(environment, namespace string) (Sleep, bool) {
	for _, s := range r.Sleep {
		if s.Covers(environment, namespace) {
			return s, true
		}
	}
	return Sleep{}, false
}
