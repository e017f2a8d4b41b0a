package load

import (
	"strings"
	"testing"
	"time"
)

func vars(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestVarsDefaultsAndValues(t *testing.T) {
	c, err := Vars(vars(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Requests != 100 || c.Envs != 3 || c.Rate != 1 || c.Duration != 20*time.Second {
		t.Errorf("defaults = %+v", c)
	}
	c, err = Vars(vars(map[string]string{"REQUESTS": "1000", "ENVS": "5", "RATE": "30/m", "DURATION": "60s", "MERGES": "10", "DRIFT": "3", "DRAIN": "2m"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Requests: 1000, Envs: 5, Rate: 0.5, Duration: time.Minute, Drain: 2 * time.Minute, Merges: 10, Drift: 3}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if c.Issues() != 30 {
		t.Errorf("issues = %d, want 30", c.Issues())
	}
	if got := EnvNames(5); strings.Join(got, ",") != "dev,staging,prod,env-4,env-5" {
		t.Errorf("env names = %v", got)
	}
}

// TestVarsBadInput: every bad setting is reported, each naming its
// variable.
func TestVarsBadInput(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want []string
	}{
		{map[string]string{"REQUESTS": "many"}, []string{`REQUESTS: "many" is not a whole number`}},
		{map[string]string{"REQUESTS": "-1", "ENVS": "0"}, []string{"REQUESTS: -1 is not between 0 and 100000", "ENVS: 0 is not between 1 and 50"}},
		{map[string]string{"RATE": "2/d"}, []string{`RATE: "2/d": the unit after / must be s, m or h`}},
		{map[string]string{"RATE": "fast"}, []string{`RATE: "fast" is not a positive number`}},
		{map[string]string{"RATE": "0/s"}, []string{`RATE: "0/s" is not a positive number`}},
		{map[string]string{"DURATION": "60"}, []string{`DURATION: "60" is not a duration`}},
		{map[string]string{"DURATION": "-5s"}, []string{"DURATION: -5s is not above 0"}},
		{map[string]string{"RATE": "1/s", "DURATION": "5s", "MERGES": "6"}, []string{"MERGES: 6 is more than the 5 issues"}},
		{map[string]string{"MERGES": "1", "DRIFT": "2"}, []string{"DRIFT: 2 is more than MERGES (1)"}},
		{map[string]string{"DRIFT": "-1"}, []string{"DRIFT: -1 is negative"}},
	} {
		_, err := Vars(vars(tc.vars))
		if err == nil {
			t.Errorf("%v: no error", tc.vars)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not say %q", tc.vars, err, w)
			}
		}
	}
}
