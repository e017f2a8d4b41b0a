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
	// Owners limits the window to the objects of these teams: the team
	// that owns an object as gitvend's checks place it (the request record
	// under requests/, else the team that claims its namespace), never the
	// object's own owner label. Every owner when empty.
	Owners []string `yaml:"owners"`
	// SelfHeal lets a target that heals itself heal drift inside the
	// window; by default self-heal waits for the window's end.
	SelfHeal bool `yaml:"selfHeal"`
	// Sleep is WindowSleepAllow (the default: sleep schedules and wake
	// overrides go on inside the window) or WindowSleepHold (workloads
	// stay as they are, asleep or awake, until the window ends).
	Sleep string `yaml:"sleep"`
	// Expiry is WindowExpiryHold (the default: the removal pull request
	// of an expired request is not merged by autoMerge inside the window)
	// or WindowExpiryAllow (it is).
	Expiry string `yaml:"expiry"`
}

// The settings of a window for sleep (Window.Sleep) and expiry
// (Window.Expiry); empty is the first of each.
const (
	WindowSleepAllow  = "allow"
	WindowSleepHold   = "hold"
	WindowExpiryHold  = "hold"
	WindowExpiryAllow = "allow"
)

var (
	windowSleeps   = []string{WindowSleepAllow, WindowSleepHold}
	windowExpiries = []string{WindowExpiryHold, WindowExpiryAllow}
)

// Subject is what a window may apply to: an object's namespace ("" for a
// cluster-scoped object) and its owning team ("" when unknown).
type Subject struct {
	Namespace string
	Owner     string
}

// Purpose is what is asked of the windows: whether merged changes are
// applied (ForApply), drift healed (ForSelfHeal), workloads put to sleep
// or woken (ForSleep), or an expiry's removal merged (ForExpiry). The
// windows that hold at a time hold the apply; each of the others is held
// by those of them whose setting does not let it through.
type Purpose int

// The purposes of Windows.Held.
const (
	ForApply Purpose = iota
	ForSelfHeal
	ForSleep
	ForExpiry
)

// holds tells whether w, holding, holds purpose p.
func (w Window) holds(p Purpose) bool {
	switch p {
	case ForSelfHeal:
		return !w.SelfHeal
	case ForSleep:
		return w.Sleep == WindowSleepHold
	case ForExpiry:
		return w.Expiry != WindowExpiryAllow
	}
	return true
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
// cluster-scoped object), whoever owns the object.
func (w Window) Covers(namespace string) bool {
	return len(w.Namespaces) == 0 || (namespace != "" && cluster.NamespaceAllowed(w.Namespaces, namespace))
}

// CoversSubject tells whether the window applies to s: its namespace,
// and its owner where the window is limited to owners.
func (w Window) CoversSubject(s Subject) bool {
	return w.Covers(s.Namespace) && (len(w.Owners) == 0 || (s.Owner != "" && slices.Contains(w.Owners, s.Owner)))
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

// holdAt tells whether ws, evaluated together, hold purpose p for s at
// t, by which window, and when that window lets go (zero when unknown):
// the deny windows open at t hold, and, when ws has allow windows for s
// and none is open, so do the allow windows, until the next one opens. Of
// the holding windows only those whose settings hold p count.
func (ws Windows) holdAt(t time.Time, s Subject, p Purpose) (name string, until time.Time, held bool) {
	var allows []Window
	for _, w := range ws {
		if !w.CoversSubject(s) {
			continue
		}
		if w.Kind == WindowAllow {
			allows = append(allows, w)
			continue
		}
		if !w.holds(p) {
			continue
		}
		if active, end := w.Active(t); active && (!held || end.After(until)) {
			name, until, held = w.Name, end, true
		}
	}
	if len(allows) == 0 {
		return name, until, held
	}
	for _, w := range allows {
		if active, _ := w.Active(t); active {
			return name, until, held
		}
	}
	// Outside every allow window: held until the next one opens (zero
	// when none opens within a year), by those of them that hold p.
	holder := ""
	for _, w := range allows {
		if w.holds(p) {
			holder = w.Name
			break
		}
	}
	if holder == "" {
		return name, until, held
	}
	var at time.Time
	opens := false
	for _, w := range allows {
		if next, ok := w.nextOpening(t); ok && (!opens || next.Before(at)) {
			at, opens = next, true
		}
	}
	switch {
	case !held:
		return holder, at, true
	case !opens:
		return name, time.Time{}, true
	case at.After(until):
		return holder, at, true
	}
	return name, until, held
}

// Windows are the change windows that apply together to one place.
type Windows []Window

// holdAt tells whether any of sets holds p for s at t: each set is
// evaluated on its own (an allow window of one set opens no hold of
// another), and of several holds the one that lets go last is told.
func holdAt(sets []Windows, t time.Time, s Subject, p Purpose) (name string, until time.Time, held bool) {
	for _, ws := range sets {
		n, u, h := ws.holdAt(t, s, p)
		if !h || (held && until.IsZero()) {
			continue
		}
		if !held || u.IsZero() || u.After(until) {
			name, until, held = n, u, true
		}
	}
	return name, until, held
}

// HeldBy tells whether the windows of sets (such as a target's, which the
// platform team owns, and an environment's) hold purpose p for s at now:
// held when any set holds, so that no set weakens another. It names the
// window that holds and the first time from now at which none holds
// (zero when none is found within a year).
func HeldBy(now time.Time, s Subject, p Purpose, sets ...Windows) (name string, until time.Time, held bool) {
	name, until, held = holdAt(sets, now, s, p)
	if !held || until.IsZero() {
		return name, until, held
	}
	// One window may end where another holds: follow them, a bounded
	// number of times.
	for i := 0; i < 32; i++ {
		_, next, still := holdAt(sets, until, s, p)
		if !still {
			break
		}
		if next.IsZero() {
			return name, time.Time{}, true
		}
		if !next.After(until) {
			break
		}
		until = next
	}
	return name, until, held
}

// Held tells whether a merged change to namespace ("" for a cluster-scoped
// object) in environment e waits at now, by which window, and until when:
// the first time from now at which no window holds it, zero when none is
// found. An environment without windows never holds.
func (e Environment) Held(now time.Time, namespace string) (name string, until time.Time, held bool) {
	return HeldBy(now, Subject{Namespace: namespace}, ForApply, e.Windows)
}

// TargetWindows are the windows a target of the server configuration
// declares.
func TargetWindows(t cluster.Target) Windows {
	out := make(Windows, len(t.Windows))
	for i, w := range t.Windows {
		out[i] = Window(w)
	}
	return out
}

// validateWindows checks the windows of environment at path f.
func (e Environment) validateWindows(f string, bad func(path, format string, args ...any)) {
	Windows(e.Windows).validate(f, "environment", bad)
}

// validate checks windows at path f of a place ("environment", "target").
func (ws Windows) validate(f, place string, bad func(path, format string, args ...any)) {
	names := map[string]bool{}
	for i, w := range ws {
		p := fmt.Sprintf("%s.windows[%d]", f, i)
		switch {
		case !IsDNSLabel(w.Name):
			bad(p+".name", "must be a DNS-1123 label such as weekend-freeze, got %q", w.Name)
		case names[w.Name]:
			bad(p+".name", "window %q is defined twice in the %s", w.Name, place)
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
		for j, o := range w.Owners {
			if !IsDNSLabel(o) {
				bad(fmt.Sprintf("%s.owners[%d]", p, j), "must be a team name (a DNS-1123 label such as payments), got %q", o)
			}
		}
		if w.Sleep != "" && !slices.Contains(windowSleeps, w.Sleep) {
			bad(p+".sleep", "must be one of %s, got %q", strings.Join(windowSleeps, ", "), w.Sleep)
		}
		if w.Expiry != "" && !slices.Contains(windowExpiries, w.Expiry) {
			bad(p+".expiry", "must be one of %s, got %q", strings.Join(windowExpiries, ", "), w.Expiry)
		}
	}
}
