package load

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is one load run. Each field is set from the make variable of the
// same name in upper case; errors name that variable.
type Config struct {
	// Requests is how many requests the synthetic repository holds before
	// the run starts.
	Requests int
	// Envs is how many environments they are spread over; the first is
	// dev, the one the cluster target applies.
	Envs int
	// Rate is how many request issues are opened per second.
	Rate float64
	// Duration is how long issues are opened for; the run then waits up to
	// Drain for the work it started to finish.
	Duration time.Duration
	Drain    time.Duration
	// Merges is how many of the resulting pull requests are merged (each
	// as soon as its checks are posted), and Drift how many of the merged
	// requests' Deployments are then changed by hand.
	Merges int
	Drift  int
}

// Issues is how many request issues the run opens: Rate × Duration, at
// least one.
func (c Config) Issues() int {
	n := int(c.Rate*c.Duration.Seconds() + 0.5)
	return max(n, 1)
}

// Limits on a run, so that a typo does not start a run of days.
const (
	maxRequests = 100_000
	maxEnvs     = 50
)

// Validate reports every problem of c, each naming its variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if c.Requests < 0 || c.Requests > maxRequests {
		bad("REQUESTS", "%d is not between 0 and %d", c.Requests, maxRequests)
	}
	if c.Envs < 1 || c.Envs > maxEnvs {
		bad("ENVS", "%d is not between 1 and %d", c.Envs, maxEnvs)
	}
	if c.Rate <= 0 || c.Rate > 100 {
		bad("RATE", "%g per second is not above 0 and at most 100", c.Rate)
	}
	if c.Duration <= 0 || c.Duration > 24*time.Hour {
		bad("DURATION", "%s is not above 0 and at most 24h", c.Duration)
	}
	if c.Drain <= 0 {
		bad("DRAIN", "%s is not above 0", c.Drain)
	}
	if c.Merges < 0 {
		bad("MERGES", "%d is negative", c.Merges)
	} else if c.Rate > 0 && c.Duration > 0 && c.Merges > c.Issues() {
		bad("MERGES", "%d is more than the %d issues RATE × DURATION opens", c.Merges, c.Issues())
	}
	if c.Drift < 0 {
		bad("DRIFT", "%d is negative", c.Drift)
	} else if c.Drift > c.Merges {
		bad("DRIFT", "%d is more than MERGES (%d): only merged requests are on the cluster to change", c.Drift, c.Merges)
	}
	return errors.Join(errs...)
}

// ParseRate reads a rate such as "2/s", "30/m", "0.5/s" or "2" (per
// second), as a number per second.
func ParseRate(s string) (float64, error) {
	num, unit, found := strings.Cut(strings.TrimSpace(s), "/")
	per := time.Second
	if found {
		switch unit {
		case "s":
		case "m", "min":
			per = time.Minute
		case "h":
			per = time.Hour
		default:
			return 0, fmt.Errorf("%q: the unit after / must be s, m or h", s)
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%q is not a positive number per s, m or h (such as 2/s or 30/m)", s)
	}
	return v / per.Seconds(), nil
}

// Vars reads a Config from variables by name (REQUESTS, ENVS, RATE,
// DURATION, DRAIN, MERGES, DRIFT); an empty or missing one keeps the
// default. Every problem names its variable.
func Vars(get func(string) string) (Config, error) {
	c := Config{Requests: 100, Envs: 3, Rate: 1, Duration: 20 * time.Second, Drain: 5 * time.Minute, Merges: 2, Drift: 1}
	var errs []error
	integer := func(name string, dst *int) {
		if s := strings.TrimSpace(get(name)); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, s))
				return
			}
			*dst = v
		}
	}
	duration := func(name string, dst *time.Duration) {
		if s := strings.TrimSpace(get(name)); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 60s or 5m", name, s))
				return
			}
			*dst = v
		}
	}
	integer("REQUESTS", &c.Requests)
	integer("ENVS", &c.Envs)
	if s := get("RATE"); strings.TrimSpace(s) != "" {
		v, err := ParseRate(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("RATE: %w", err))
		} else {
			c.Rate = v
		}
	}
	duration("DURATION", &c.Duration)
	duration("DRAIN", &c.Drain)
	integer("MERGES", &c.Merges)
	integer("DRIFT", &c.Drift)
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}
