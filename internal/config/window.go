package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/cron"
)

// Window is a change window of an environment in gitvend.yaml: from every
// minute its cron Schedule names (read in TimeZone) and for Duration, a
// deny window holds the apply of merged changes to the environment, and an
// allow window lets them through. Deny wins over allow; an environment
// without windows is always allowed; an environment with allow windows is
// held outside them. Reviews and merges go on: only the apply waits. For
// example, a freeze from Friday 18:00 to Monday 06:00 in Berlin:
//
//	environments:
//	- name: prod
//	  windows:
//	  - name: weekend-freeze
//	    kind: deny
//	    schedule: "0 18 * * FRI"
//	    duration: 60h
//	    timezone: Europe/Berlin
type Window struct {
	// Name names the window in statuses and comments.
	Name string `yaml:"name"`
	// Kind is WindowDeny or WindowAllow.
	Kind string `yaml:"kind"`
	// Schedule is a cron schedule (five fields, or a macro such as
	// @daily) of the minutes the window opens.
	Schedule string `yaml:"schedule"`
	// Duration is how long the window lasts from each opening, such as
	// 48h or 2d; at most MaxWindowDuration.
	Duration string `yaml:"duration"`
	// TimeZone is the IANA time zone the schedule is read in, such as
	// Europe/Berlin; UTC when empty.
	TimeZone string `yaml:"timezone"`
	// Namespaces the window applies to: names, or prefixes ending in '*';
	// every namespace (and the cluster-scoped objects) when empty.
	Namespaces []string `yaml:"namespaces"`
}

// The kinds of window (Window.Kind).
const (
	WindowDeny  = "deny"
	WindowAllow = "allow"
)

var windowKinds = []string{WindowDeny, WindowAllow}

// MaxWindowDuration bounds a window's duration.
const MaxWindowDuration = 31 * 24 * time.Hour

// windowLookahead is how far ahead the next opening of an allow window is
// looked for.
const windowLookahead = 366 * 24 * time.Hour

// Covers tells whether the window applies to namespace ("" for a
// cluster-scoped object).
func (w Window) Covers(namespace string) bool {
	return len(w.Namespaces) == 0 || (namespace != "" && cluster.NamespaceAllowed(w.Namespaces, namespace))
}

func (w Window) parsed() (cron.Schedule, time.Duration, *time.Location, bool) {
	sc, err1 := cron.Parse(w.Schedule)
	d, err2 := ParseDuration(w.Duration)
	loc, err3 := loadZone(w.TimeZone)
	if err1 != nil || err2 != nil || err3 != nil || sc.Every() || d > MaxWindowDuration {
		return cron.Schedule{}, 0, nil, false // Validate refuses it
	}
	return sc, d, loc, true
}

// Active tells whether the window is open at t, and when it closes: the
// end of the latest opening at or before t, extended by every opening
// before that end.
func (w Window) Active(t time.Time) (active bool, end time.Time) {
	sc, d, loc, ok := w.parsed()
	if !ok {
		return false, time.Time{}
	}
	t = t.In(loc)
	// The latest opening within d before t; a later one cannot be
	// missed, and an earlier one has closed by t.
	open, found := sc.Last(t, d-time.Nanosecond)
	if !found || !t.Before(open.Add(d)) {
		return false, time.Time{}
	}
	end = open.Add(d)
	for i := 0; i < 1000; i++ {
		next, ok := sc.Next(t, end.Sub(t))
		if !ok || next.After(end) {
			break
		}
		t, end = next, next.Add(d)
	}
	return true, end
}

// nextOpening is the first minute after t the window opens; false when not
// within windowLookahead.
func (w Window) nextOpening(t time.Time) (time.Time, bool) {
	sc, _, loc, ok := w.parsed()
	if !ok {
		return time.Time{}, false
	}
	return sc.Next(t.In(loc), windowLookahead)
}

// heldAt tells whether a change to namespace in environment e is held at t
// by a single window, the one named, and when that window lets it go
// (zero when unknown).
func (e Environment) heldAt(t time.Time, namespace string) (name string, until time.Time, held bool) {
	var allows []Window
	for _, w := range e.Windows {
		if !w.Covers(namespace) {
			continue
		}
		if w.Kind == WindowAllow {
			allows = append(allows, w)
			continue
		}
		if active, end := w.Active(t); active && (!held || end.After(until)) {
			name, until, held = w.Name, end, true
		}
	}
	if held || len(allows) == 0 {
		return name, until, held
	}
	for _, w := range allows {
		if active, _ := w.Active(t); active {
			return "", time.Time{}, false
		}
	}
	// Outside every allow window: held until the next one opens.
	for _, w := range allows {
		if at, ok := w.nextOpening(t); ok && (!held || at.Before(until)) {
			name, until, held = w.Name, at, true
		}
	}
	if !held {
		name, held = allows[0].Name, true // no allow window opens within a year
	}
	return name, until, held
}

// Held tells whether a merged change to namespace ("" for a cluster-scoped
// object) in environment e waits at now, by which window, and until when:
// the first time from now at which no window holds it, zero when none is
// found. An environment without windows never holds.
func (e Environment) Held(now time.Time, namespace string) (name string, until time.Time, held bool) {
	name, until, held = e.heldAt(now, namespace)
	if !held || until.IsZero() {
		return name, until, held
	}
	// One window may end where another holds: follow them, a bounded
	// number of times.
	for i := 0; i < 32; i++ {
		_, next, still := e.heldAt(until, namespace)
		if !still || next.IsZero() || !next.After(until) {
			if still && next.IsZero() {
				return name, time.Time{}, true
			}
			break
		}
		until = next
	}
	return name, until, held
}

// validateWindows checks the windows of environment at path f.
func (e Environment) validateWindows(f string, bad func(path, format string, args ...any)) {
	names := map[string]bool{}
	for i, w := range e.Windows {
		p := fmt.Sprintf("%s.windows[%d]", f, i)
		switch {
		case !IsDNSLabel(w.Name):
			bad(p+".name", "must be a DNS-1123 label such as weekend-freeze, got %q", w.Name)
		case names[w.Name]:
			bad(p+".name", "window %q is defined twice in the environment", w.Name)
		}
		names[w.Name] = true
		if !slices.Contains(windowKinds, w.Kind) {
			bad(p+".kind", "must be one of %s, got %q", strings.Join(windowKinds, ", "), w.Kind)
		}
		switch s := strings.TrimSpace(w.Schedule); {
		case s == "":
			bad(p+".schedule", "is required: a cron schedule (minute hour day-of-month month day-of-week) of when the window opens, such as \"0 18 * * FRI\"")
		case strings.HasPrefix(s, "CRON_TZ=") || strings.HasPrefix(s, "TZ="):
			bad(p+".schedule", "must not set a time zone in the schedule; use %s.timezone", p)
		default:
			sc, err := cron.Parse(w.Schedule)
			switch {
			case err != nil:
				bad(p+".schedule", "%v", err)
			case sc.Every():
				bad(p+".schedule", "must name minutes (five fields or a macro such as @daily), not @every, got %q", w.Schedule)
			}
		}
		if w.Duration == "" {
			bad(p+".duration", "is required: how long the window lasts from each opening, such as 48h or 2d")
		} else if d, err := ParseDuration(w.Duration); err != nil {
			bad(p+".duration", "%v", err)
		} else if d > MaxWindowDuration {
			bad(p+".duration", "must be at most %s, got %q", "31d", w.Duration)
		}
		if _, err := loadZone(w.TimeZone); err != nil {
			bad(p+".timezone", "%v", err)
		}
		for j, ns := range w.Namespaces {
			if !validNamespacePattern(ns) {
				bad(fmt.Sprintf("%s.namespaces[%d]", p, j), "must be a namespace name or a prefix ending in '*', got %q", ns)
			}
		}
	}
}
