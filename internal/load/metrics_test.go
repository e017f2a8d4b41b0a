package load

import (
	"math"
	"strings"
	"testing"
)

const page = `# HELP gitvend_request_to_pr_seconds Seconds.
# TYPE gitvend_request_to_pr_seconds histogram
gitvend_request_to_pr_seconds_bucket{le="0.25"} 0
gitvend_request_to_pr_seconds_bucket{le="0.5"} 4
gitvend_request_to_pr_seconds_bucket{le="1"} 8
gitvend_request_to_pr_seconds_bucket{le="+Inf"} 10
gitvend_request_to_pr_seconds_sum 7.5
gitvend_request_to_pr_seconds_count 10
gitvend_github_api_calls_total{code="200",method="GET",route="/repos/{owner}/{repo}/issues/{number}"} 12
gitvend_github_api_calls_total{code="201",method="POST",route="/repos/{owner}/{repo}/pulls"} 3
gitvend_webhooks_total{event="issues",outcome="accepted"} 5
weird{a="x\"y,z",b="2"} 1 1700000000
`

func TestParseAndQuantile(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Sum("gitvend_github_api_calls_total", nil); got != 15 {
		t.Errorf("api calls = %v, want 15", got)
	}
	if got := m.Sum("gitvend_github_api_calls_total", map[string]string{"method": "POST"}); got != 3 {
		t.Errorf("POST calls = %v, want 3", got)
	}
	if s := m["weird"]; len(s) != 1 || s[0].Labels["a"] != `x"y,z` || s[0].Labels["b"] != "2" || s[0].Value != 1 {
		t.Errorf("weird = %+v", s)
	}
	h := m.Histogram("gitvend_request_to_pr_seconds", nil)
	// Rank 5 of 10 is the first of the four in (0.5, 1]: 0.5 + 0.5 × 1/4.
	if v, over := Quantile(0.5, h); over || math.Abs(v-0.625) > 1e-9 {
		t.Errorf("p50 = %v (over %v), want 0.625", v, over)
	}
	// Rank 2 of 10 is half-way through the four in (0.25, 0.5].
	if v, _ := Quantile(0.2, h); math.Abs(v-0.375) > 1e-9 {
		t.Errorf("p20 = %v, want 0.375", v)
	}
	// Rank 9.5 is in +Inf: above the highest bound.
	if v, over := Quantile(0.95, h); !over || v != 1 {
		t.Errorf("p95 = %v (over %v), want 1 and over", v, over)
	}
	if v, _ := Quantile(0.5, nil); !math.IsNaN(v) {
		t.Errorf("empty p50 = %v, want NaN", v)
	}

	before, _ := ParseMetrics(strings.NewReader(`gitvend_github_api_calls_total{code="200",method="GET",route="/repos/{owner}/{repo}/issues/{number}"} 10` + "\n"))
	if got := m.Delta(before).Sum("gitvend_github_api_calls_total", nil); got != 5 {
		t.Errorf("delta api calls = %v, want 5", got)
	}
	if _, err := ParseMetrics(strings.NewReader("x{a=1} 2\n")); err == nil {
		t.Error("unquoted label value: no error")
	}
}
