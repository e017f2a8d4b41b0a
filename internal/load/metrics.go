package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Sample is one series of a Prometheus text page: its labels and value.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Metrics is a Prometheus text page read into series by metric name (for
// a histogram, name_bucket, name_sum and name_count).
type Metrics map[string][]Sample

// Scrape reads the page at url.
func Scrape(ctx context.Context, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return ParseMetrics(resp.Body)
}

// ParseMetrics reads the Prometheus text format: comments are skipped,
// each other line is name{labels} value.
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, labels, rest := line, map[string]string{}, ""
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				return nil, fmt.Errorf("metrics line %d: unclosed labels", n)
			}
			name, rest = line[:i], strings.TrimSpace(line[j+1:])
			if err := parseLabels(line[i+1:j], labels); err != nil {
				return nil, fmt.Errorf("metrics line %d: %w", n, err)
			}
		} else {
			name, rest, _ = strings.Cut(line, " ")
		}
		valText, _, _ := strings.Cut(strings.TrimSpace(rest), " ") // a timestamp may follow
		v, err := strconv.ParseFloat(valText, 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: value %q: %w", n, valText, err)
		}
		m[name] = append(m[name], Sample{Labels: labels, Value: v})
	}
	return m, sc.Err()
}

func parseLabels(s string, into map[string]string) error {
	for s = strings.TrimSpace(s); s != ""; {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || !strings.HasPrefix(rest, `"`) {
			return fmt.Errorf("label %q has no quoted value", s)
		}
		var val strings.Builder
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
				switch rest[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(rest[i])
				}
				continue
			}
			val.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return fmt.Errorf("label %s: unclosed value", k)
		}
		into[strings.TrimSpace(k)] = val.String()
		s = strings.TrimPrefix(strings.TrimSpace(rest[i+1:]), ",")
		s = strings.TrimSpace(s)
	}
	return nil
}

// Sum adds the series of name whose labels include every pair of match.
func (m Metrics) Sum(name string, match map[string]string) float64 {
	total := 0.0
	for _, s := range m[name] {
		if matches(s.Labels, match) {
			total += s.Value
		}
	}
	return total
}

func matches(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Delta is m less before, series by series (counters and histograms grow;
// a series absent from before counts from zero).
func (m Metrics) Delta(before Metrics) Metrics {
	out := Metrics{}
	for name, ss := range m {
		for _, s := range ss {
			v := s.Value
			for _, b := range before[name] {
				if sameLabels(s.Labels, b.Labels) {
					v -= b.Value
					break
				}
			}
			out[name] = append(out[name], Sample{Labels: s.Labels, Value: v})
		}
	}
	return out
}

func sameLabels(a, b map[string]string) bool {
	return len(a) == len(b) && matches(a, b)
}

// Bucket is a histogram's cumulative count of observations at most Le.
type Bucket struct {
	Le    float64
	Count float64
}

// Histogram is the buckets of histogram name, summed over the series
// whose labels include match, by upper bound.
func (m Metrics) Histogram(name string, match map[string]string) []Bucket {
	byLe := map[float64]float64{}
	for _, s := range m[name+"_bucket"] {
		if !matches(s.Labels, match) {
			continue
		}
		le, err := strconv.ParseFloat(s.Labels["le"], 64)
		if err != nil {
			continue
		}
		byLe[le] += s.Value
	}
	out := make([]Bucket, 0, len(byLe))
	for le, c := range byLe {
		out = append(out, Bucket{Le: le, Count: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Le < out[j].Le })
	return out
}

// Quantile estimates the q-quantile (0 < q < 1) of a histogram's
// observations as Prometheus's histogram_quantile does: it finds the
// bucket that holds the observation of rank q × count and interpolates
// linearly between that bucket's lower and upper bounds (the lower bound
// of the first bucket is 0). An estimate is never off by more than the
// width of its bucket. A rank in the +Inf bucket gives the highest finite
// bound and over=true: the quantile is above it. No observations give NaN.
func Quantile(q float64, buckets []Bucket) (v float64, over bool) {
	if len(buckets) == 0 {
		return math.NaN(), false
	}
	total := buckets[len(buckets)-1].Count
	if total <= 0 {
		return math.NaN(), false
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for _, b := range buckets {
		if b.Count >= rank {
			if math.IsInf(b.Le, 1) {
				return lower, true
			}
			in := b.Count - below
			if in <= 0 {
				return b.Le, false
			}
			return lower + (b.Le-lower)*(rank-below)/in, false
		}
		lower, below = b.Le, b.Count
	}
	return lower, true
}
