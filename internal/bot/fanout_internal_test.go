package bot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/request"
)

// TestDashboardBody pins the dashboard's text (UPDATE=1 rewrites it): a
// failing reason from a request's own values cannot pass for a marker or
// break the table.
func TestDashboardBody(t *testing.T) {
	failing := request.New("big", request.Spec{Blueprint: "svc", Environment: "staging", Namespace: "apps", Owner: "platform"})
	res := &FanoutResult{
		Pending: []FanoutGroup{{Environment: "prod", Index: 1, PR: 7, Requests: []string{"requests/prod/apps/a.yaml", "requests/prod/apps/b.yaml"}}},
		Failing: []desired.Failing{{Path: "requests/staging/apps/big.yaml", Request: failing,
			Err: errors.Join(&field.Error{Field: "parameters.size", Msg: "must be an integer from 1 to 7, got 9"},
				&field.Error{Field: "parameters.note", Msg: "got \"a | b <!-- gitvend:status -->\""})}},
		Pinned: 2,
		Merged: []FanoutGroup{{Environment: "dev", Index: 1, PR: 5, Requests: []string{"requests/dev/apps/a.yaml"},
			Merged: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}},
	}
	golden(t, "fanout-dashboard.md", dashboardBody(res))
}

func TestRequestsMarkerRoundTrip(t *testing.T) {
	stale := []desired.Stale{
		{Path: "requests/dev/apps/a.yaml"}, {Path: "requests/dev/apps/b.yaml"},
	}
	body := "text\n" + requestsMarker(stale) + "more"
	got := requestsOf(body)
	if len(got) != 2 || got[0] != stale[0].Path || got[1] != stale[1].Path {
		t.Errorf("requestsOf = %v", got)
	}
	if got := requestsOf("no marker"); got != nil {
		t.Errorf("requestsOf without a marker = %v", got)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (UPDATE=1 rewrites it):\n%s", file, got)
	}
}
