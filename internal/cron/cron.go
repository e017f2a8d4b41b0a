// Package cron reads standard cron schedules, the way Kubernetes accepts a
// CronJob's: which minutes they fire at, and how often in an average month.
// The cost model prices CronJobs with it; sleep schedules use it for the
// minutes an environment goes to sleep and wakes.
package cron

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed standard cron schedule, one bit per allowed value.
type Schedule struct {
	minutes, hours, days uint64 // 0-59, 0-23, 1-31
	months               uint64 // 1-12
	weekdays             uint64 // 0-6, Sunday is 0
	// anyDay and anyWeekday are set when the field is "*" or "?": cron then
	// needs both day fields to match, and either of them otherwise.
	anyDay, anyWeekday bool
	// every is set for "@every <duration>" schedules instead of the fields.
	every time.Duration
}

// HoursPerMonth is the length of an average month in hours, as the cost
// model counts it: 365 days × 24 hours / 12, rounded.
const HoursPerMonth = 730

// cronField describes one field of a cron schedule.
type cronField struct {
	name     string
	min, max int
	names    string // three-letter names for min, min+1, ... (months and weekdays)
}

// cronFields returns the five fields of a standard cron schedule in order.
func cronFields() [5]cronField {
	return [5]cronField{
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day of month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC"},
		{name: "day of week", min: 0, max: 7, names: "SUNMONTUEWEDTHUFRISAT"},
	}
}

// Parse parses a CronJob schedule the way Kubernetes accepts it:
// five fields (minute, hour, day of month, month, day of week) with lists,
// ranges, steps and month and weekday names, one of the macros @yearly,
// @annually, @monthly, @weekly, @daily, @midnight and @hourly, or
// "@every <duration>". A leading CRON_TZ= or TZ= setting is allowed; the
// time zone does not change how often a schedule runs.
func Parse(s string) (Schedule, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "CRON_TZ=") || strings.HasPrefix(s, "TZ=") {
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return Schedule{}, fmt.Errorf("a time zone must be followed by the schedule")
		}
		s = strings.TrimSpace(s[i:])
	}
	if rest, ok := strings.CutPrefix(s, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return Schedule{}, fmt.Errorf("@every needs a duration such as 90m or 6h: %w", err)
		}
		if d < time.Second {
			return Schedule{}, fmt.Errorf("@every needs a duration of at least 1s, got %s", d)
		}
		return Schedule{every: d}, nil
	}
	switch strings.ToLower(s) {
	case "@yearly", "@annually":
		s = "0 0 1 1 *"
	case "@monthly":
		s = "0 0 1 * *"
	case "@weekly":
		s = "0 0 * * 0"
	case "@daily", "@midnight":
		s = "0 0 * * *"
	case "@hourly":
		s = "0 * * * *"
	}
	f := strings.Fields(s)
	if len(f) != 5 {
		return Schedule{}, fmt.Errorf("must have 5 fields (minute hour day-of-month month day-of-week) or be a macro such as @daily, got %d fields", len(f))
	}
	var sc Schedule
	fields := cronFields()
	sets := [5]*uint64{&sc.minutes, &sc.hours, &sc.days, &sc.months, &sc.weekdays}
	var stars [5]bool
	for i, field := range fields {
		set, star, err := field.parse(f[i])
		if err != nil {
			return Schedule{}, err
		}
		*sets[i], stars[i] = set, star
	}
	sc.anyDay, sc.anyWeekday = stars[2], stars[4]
	if sc.weekdays&(1<<7) != 0 { // 7 is Sunday too
		sc.weekdays = sc.weekdays&^(1<<7) | 1
	}
	return sc, nil
}

// parse returns the bits of the values a field allows and whether it was
// written as "*" or "?" (unrestricted).
func (f cronField) parse(s string) (set uint64, star bool, err error) {
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, step := f.min, f.max, 1
		rng := part
		if i := strings.IndexByte(part, '/'); i >= 0 {
			rng = part[:i]
			step, err = strconv.Atoi(part[i+1:])
			if err != nil || step < 1 || step > f.max {
				return 0, false, fmt.Errorf("%s field %q: the step after / must be a number from 1 to %d", f.name, s, f.max)
			}
		}
		switch {
		case rng == "*" || rng == "?":
			if step == 1 {
				star = true
			}
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			if lo, err = f.value(a); err != nil {
				return 0, false, err
			}
			if hi, err = f.value(b); err != nil {
				return 0, false, err
			}
			if lo > hi {
				return 0, false, fmt.Errorf("%s field %q: range %s starts after it ends", f.name, s, rng)
			}
		default:
			if lo, err = f.value(rng); err != nil {
				return 0, false, err
			}
			hi = lo
			if step > 1 { // "5/15" means from 5 to the end in steps of 15
				hi = f.max
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << uint(v)
		}
	}
	return set, star, nil
}

// value parses one number or name of the field.
func (f cronField) value(s string) (int, error) {
	for i := 0; i+3 <= len(f.names); i += 3 {
		if strings.EqualFold(s, f.names[i:i+3]) {
			return f.min + i/3, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < f.min || v > f.max {
		allowed := fmt.Sprintf("a number from %d to %d", f.min, f.max)
		if len(f.names) > 0 {
			allowed += fmt.Sprintf(" or a name (%s-%s)", f.names[:3], f.names[len(f.names)-3:])
		}
		return 0, fmt.Errorf("%s field: %q must be %s", f.name, s, allowed)
	}
	return v, nil
}

// RunsPerMonth is how many times the schedule fires in an average month:
// the number of firings over the 28 years from 2001 to 2028, in which the
// calendar (weekdays and leap years alike) repeats exactly, divided by that
// span's 336 months.
func (sc Schedule) RunsPerMonth() float64 {
	if sc.every > 0 {
		return float64(HoursPerMonth*time.Hour) / float64(sc.every)
	}
	perDay := bits.OnesCount64(sc.minutes) * bits.OnesCount64(sc.hours)
	if perDay == 0 {
		return 0
	}
	// byFirst[f] holds the days of a month starting on weekday f that fall
	// on an allowed weekday.
	var byFirst [7]uint64
	for f := range 7 {
		for d := 1; d <= 31; d++ {
			if sc.weekdays&(1<<uint((f+d-1)%7)) != 0 {
				byFirst[f] |= 1 << uint(d)
			}
		}
	}
	const firstYear, years = 2001, 28
	first := int(time.Monday) // 1 January 2001 was a Monday
	days := 0
	for y := firstYear; y < firstYear+years; y++ {
		for m := 1; m <= 12; m++ {
			n := daysIn(y, m)
			if sc.months&(1<<uint(m)) != 0 {
				inMonth := uint64(1)<<uint(n+1) - 2 // days 1 to n
				// Cron needs both day fields to match when either is
				// unrestricted, and either of them otherwise.
				match := sc.days | byFirst[first]
				if sc.anyDay || sc.anyWeekday {
					match = sc.days & byFirst[first]
				}
				days += bits.OnesCount64(match & inMonth)
			}
			first = (first + n) % 7
		}
	}
	return float64(days) * float64(perDay) / (years * 12)
}

// daysIn returns the number of days of month m in year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// Every tells whether the schedule is an "@every <duration>" schedule,
// which fires at intervals from when it started rather than at set
// minutes: Matches is always false for it.
func (sc Schedule) Every() bool { return sc.every > 0 }

// EveryDay tells whether the day-of-month and month fields allow every
// value, so that the schedule repeats every week.
func (sc Schedule) EveryDay() bool {
	return sc.every == 0 && sc.anyDay && sc.months == allMonths
}

const allMonths = uint64(1<<13 - 2) // bits 1 to 12

// Matches tells whether the schedule fires in the minute of t, read in t's
// location.
func (sc Schedule) Matches(t time.Time) bool {
	if sc.every > 0 {
		return false
	}
	if sc.minutes&(1<<uint(t.Minute())) == 0 || sc.hours&(1<<uint(t.Hour())) == 0 ||
		sc.months&(1<<uint(t.Month())) == 0 {
		return false
	}
	day := sc.days&(1<<uint(t.Day())) != 0
	weekday := sc.weekdays&(1<<uint(t.Weekday())) != 0
	if sc.anyDay || sc.anyWeekday {
		return day && weekday
	}
	return day || weekday
}

// Last returns the latest minute at or before t (in t's location) at which
// the schedule fires, looking back at most within; false when it does not
// fire in that span.
func (sc Schedule) Last(t time.Time, within time.Duration) (time.Time, bool) {
	m := t.Truncate(time.Minute)
	for end := t.Add(-within); !m.Before(end); m = m.Add(-time.Minute) {
		if sc.Matches(m) {
			return m, true
		}
	}
	return time.Time{}, false
}

// Next returns the earliest minute after t (in t's location) at which the
// schedule fires, looking ahead at most within; false when it does not fire
// in that span.
func (sc Schedule) Next(t time.Time, within time.Duration) (time.Time, bool) {
	m := t.Truncate(time.Minute).Add(time.Minute)
	for end := t.Add(within); !m.After(end); m = m.Add(time.Minute) {
		if sc.Matches(m) {
			return m, true
		}
	}
	return time.Time{}, false
}
