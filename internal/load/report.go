package load

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Report is what a run measured: the server's service levels from its
// /metrics (the change over the driven part of the run) and the
// generator's own view.
type Report struct {
	Config Config
	Log    string // the server's log

	Generate   time.Duration // writing the synthetic repository
	Check      CLITime       // gitvend check on it, when timed
	Verify     CLITime       // gitvend render --verify on it, when timed
	FirstApply time.Duration // server start → the repository's dev environment applied
	// FirstResync is server start → its first resync done, after which
	// the run's issues are opened.
	FirstResync time.Duration
	Drive       time.Duration // first issue opened → the run's work done (or DRAIN over)

	Server ServerLevels
	Own    OwnView
}

// Levels are a latency's estimated median and 95th percentile and how
// many observations they are of. Over says the percentile is beyond the
// histogram's highest finite bucket (P95 is then that bound).
type Levels struct {
	N        int
	P50, P95 float64 // seconds; NaN without observations
	Over     bool
}

// ServerLevels are read from the server's /metrics.
type ServerLevels struct {
	RequestToPR    Levels // gitvend_request_to_pr_seconds
	MergeToApplied Levels // gitvend_merge_to_applied_seconds
	PRsOpened      int    // gitvend_pull_requests_opened_total
	APICalls       int    // gitvend_github_api_calls_total
	// Errors by series, only those above zero: bot jobs ending in error,
	// queue jobs not succeeding, webhooks not accepted, GitHub calls with
	// no answer or a 5xx, retries, reconcile errors.
	Errors map[string]int
	// DriftObjects is the gitvend_drift_objects gauge at the end.
	DriftObjects int
	// Jobs are the bot's jobs by kind (gitvend_bot_job_seconds): what a
	// request issue's job waited behind on its repository's queue.
	Jobs map[string]JobTimes
}

// JobTimes are the jobs of one kind: how many ran, their time in all
// and their estimated median.
type JobTimes struct {
	N        int
	Sum, P50 float64 // seconds
}

// OwnView is what the generator saw on the double and the cluster.
type OwnView struct {
	Issues, WithPR, OnePR, Merged, Applied, Drifted, Reported int
	RequestToPR, MergeToApplied, DriftToIssue                 Levels
	// Unfinished names each issue that did not reach a stage it was meant
	// to, with the stage.
	Unfinished []string
}

func (r *Report) fill(all []*tracked, m Metrics) {
	r.Server.RequestToPR = histLevels(m, "gitvend_request_to_pr_seconds")
	r.Server.Jobs = map[string]JobTimes{}
	for _, s := range m["gitvend_bot_job_seconds_count"] {
		kind := s.Labels["kind"]
		if s.Value < 1 {
			continue
		}
		match := map[string]string{"kind": kind}
		p50, _ := Quantile(0.5, m.Histogram("gitvend_bot_job_seconds", match))
		r.Server.Jobs[kind] = JobTimes{N: int(s.Value), Sum: m.Sum("gitvend_bot_job_seconds_sum", match), P50: p50}
	}
	r.Server.MergeToApplied = histLevels(m, "gitvend_merge_to_applied_seconds")
	r.Server.PRsOpened = int(m.Sum("gitvend_pull_requests_opened_total", nil))
	r.Server.APICalls = int(m.Sum("gitvend_github_api_calls_total", nil))
	r.Server.DriftObjects = int(m.Sum("gitvend_drift_objects", nil))
	r.Server.Errors = map[string]int{}
	add := func(key string, v float64) {
		if v > 0 {
			r.Server.Errors[key] += int(v)
		}
	}
	add(`gitvend_bot_jobs_total{result="error"}`, m.Sum("gitvend_bot_jobs_total", map[string]string{"result": "error"}))
	for _, s := range m["gitvend_queue_jobs_total"] {
		if o := s.Labels["outcome"]; o != "succeeded" {
			add(fmt.Sprintf(`gitvend_queue_jobs_total{outcome=%q}`, o), s.Value)
		}
	}
	for _, s := range m["gitvend_webhooks_total"] {
		switch o := s.Labels["outcome"]; o {
		case "accepted", "duplicate", "ignored":
		default:
			add(fmt.Sprintf(`gitvend_webhooks_total{outcome=%q}`, o), s.Value)
		}
	}
	for _, s := range m["gitvend_github_api_calls_total"] {
		if c := s.Labels["code"]; c == "error" || strings.HasPrefix(c, "5") {
			add(fmt.Sprintf(`gitvend_github_api_calls_total{code=%q}`, c), s.Value)
		}
	}
	add("gitvend_github_api_retries_total", m.Sum("gitvend_github_api_retries_total", nil))
	add("gitvend_queue_retries_total", m.Sum("gitvend_queue_retries_total", nil))
	add("gitvend_reconcile_errors_total", m.Sum("gitvend_reconcile_errors_total", nil))

	var toPR, toApply, toIssue []float64
	o := &r.Own
	for _, t := range all {
		o.Issues++
		if t.prCount == 1 {
			o.OnePR++
		}
		if !t.prAt.IsZero() {
			o.WithPR++
			toPR = append(toPR, t.prAt.Sub(t.opened).Seconds())
		} else {
			o.Unfinished = append(o.Unfinished, fmt.Sprintf("#%d %s: no pull request with its checks", t.issue, t.name))
		}
		if !t.mergedAt.IsZero() {
			o.Merged++
		} else if t.merge {
			o.Unfinished = append(o.Unfinished, fmt.Sprintf("#%d %s: not merged: %v", t.issue, t.name, t.mergeErr))
		}
		if !t.applied.IsZero() {
			o.Applied++
			toApply = append(toApply, t.applied.Sub(t.mergedAt).Seconds())
		} else if !t.mergedAt.IsZero() {
			o.Unfinished = append(o.Unfinished, fmt.Sprintf("#%d %s: merged, not applied", t.issue, t.name))
		}
		if !t.driftAt.IsZero() && t.driftErr == nil {
			o.Drifted++
		}
		if t.driftErr != nil {
			o.Unfinished = append(o.Unfinished, fmt.Sprintf("#%d %s: change by hand failed: %v", t.issue, t.name, t.driftErr))
		}
		if !t.reported.IsZero() {
			o.Reported++
			toIssue = append(toIssue, t.reported.Sub(t.driftAt).Seconds())
		} else if !t.driftAt.IsZero() && t.driftErr == nil {
			o.Unfinished = append(o.Unfinished, fmt.Sprintf("#%d %s: changed by hand, not in the drift issue", t.issue, t.name))
		} else if t.drift && t.driftErr == nil {
			o.Unfinished = append(o.Unfinished, fmt.Sprintf("#%d %s: never changed by hand (not applied)", t.issue, t.name))
		}
	}
	o.RequestToPR, o.MergeToApplied, o.DriftToIssue = exact(toPR), exact(toApply), exact(toIssue)
}

// histLevels estimates a histogram's p50 and p95 (see Quantile).
func histLevels(m Metrics, name string) Levels {
	h := m.Histogram(name, nil)
	l := Levels{N: int(m.Sum(name+"_count", nil))}
	l.P50, _ = Quantile(0.5, h)
	l.P95, l.Over = Quantile(0.95, h)
	return l
}

// exact gives the nearest-rank p50 and p95 of the durations d.
func exact(d []float64) Levels {
	l := Levels{N: len(d), P50: math.NaN(), P95: math.NaN()}
	if len(d) == 0 {
		return l
	}
	sort.Float64s(d)
	rank := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(d)))) - 1
		return d[max(i, 0)]
	}
	l.P50, l.P95 = rank(0.5), rank(0.95)
	return l
}

func (l Levels) String() string {
	if l.N == 0 {
		return "no observations"
	}
	over := ""
	if l.Over {
		over = ">"
	}
	return fmt.Sprintf("p50 %s  p95 %s%s  (n=%d)", secs(l.P50), over, secs(l.P95), l.N)
}

func secs(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3f s", v)
}

// Print writes the report for a person.
func (r *Report) Print(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "\ngitvend load: %d requests over %d environments; %d issues at %.3g/s for %s; %d merges, %d changes by hand\n",
		c.Requests, c.Envs, c.Issues(), c.Rate, c.Duration, c.Merges, c.Drift)
	fmt.Fprintf(w, "  repository written in %s; server start → repository applied %s, → first resync done %s; run %s\n",
		r.Generate.Round(time.Millisecond), r.FirstApply.Round(time.Millisecond), r.FirstResync.Round(time.Millisecond), r.Drive.Round(time.Millisecond))
	if r.Check.Wall > 0 {
		fmt.Fprintf(w, "  gitvend check          %8s  peak RSS %d MB\n", r.Check.Wall.Round(time.Millisecond), r.Check.PeakRSS>>20)
		fmt.Fprintf(w, "  gitvend render --verify %7s  peak RSS %d MB\n", r.Verify.Wall.Round(time.Millisecond), r.Verify.PeakRSS>>20)
	}
	s := r.Server
	fmt.Fprintf(w, "\nService levels from the server's /metrics (change over the run; percentiles interpolated in histogram buckets):\n")
	fmt.Fprintf(w, "  request → PR       %s\n", s.RequestToPR)
	fmt.Fprintf(w, "  merge → applied    %s\n", s.MergeToApplied)
	fmt.Fprintf(w, "  pull requests opened  %d\n", s.PRsOpened)
	perReq := "-"
	if r.Own.Issues > 0 {
		perReq = fmt.Sprintf("%.1f", float64(s.APICalls)/float64(r.Own.Issues))
	}
	fmt.Fprintf(w, "  GitHub API calls   %d (%s per request issue, merges and drift included)\n", s.APICalls, perReq)
	fmt.Fprintf(w, "  drifted objects    %d (gauge at the end)\n", s.DriftObjects)
	for _, kind := range slices.Sorted(maps.Keys(s.Jobs)) {
		j := s.Jobs[kind]
		fmt.Fprintf(w, "  bot jobs, %-8s %d, %.3f s in all, p50 %.3f s\n", kind, j.N, j.Sum, j.P50)
	}
	if len(s.Errors) == 0 {
		fmt.Fprintf(w, "  errors             none\n")
	} else {
		keys := make([]string, 0, len(s.Errors))
		for k := range s.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  errors             %s %d\n", k, s.Errors[k])
		}
	}
	o := r.Own
	fmt.Fprintf(w, "\nThe generator's own view (from issue opened, merge made, change by hand; polled every look):\n")
	fmt.Fprintf(w, "  issues opened      %d; with a pull request and its checks %d; with exactly one pull request %d\n", o.Issues, o.WithPR, o.OnePR)
	fmt.Fprintf(w, "  merged             %d; applied %d\n", o.Merged, o.Applied)
	fmt.Fprintf(w, "  changed by hand    %d; in the drift issue %d\n", o.Drifted, o.Reported)
	fmt.Fprintf(w, "  request → PR       %s\n", o.RequestToPR)
	fmt.Fprintf(w, "  merge → applied    %s\n", o.MergeToApplied)
	fmt.Fprintf(w, "  drift → issue      %s\n", o.DriftToIssue)
	if len(o.Unfinished) == 0 {
		fmt.Fprintf(w, "  unfinished         none\n")
	} else {
		fmt.Fprintf(w, "  unfinished         %d:\n", len(o.Unfinished))
		for i, u := range o.Unfinished {
			if i == 20 {
				fmt.Fprintf(w, "    … and %d more\n", len(o.Unfinished)-i)
				break
			}
			fmt.Fprintf(w, "    %s\n", u)
		}
	}
}
