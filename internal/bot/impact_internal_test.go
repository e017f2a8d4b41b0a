package bot

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/check"
	"github.com/gitvend/gitvend/internal/github"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/internal/policy"
)

// TestImpactRunFitsGitHub: an impact of thousands of long findings fits
// GitHub's limits on a check run's title and summary, and says where the
// rest is.
func TestImpactRunFitsGitHub(t *testing.T) {
	var denied []policy.Violation
	for i := range 5000 {
		denied = append(denied, policy.Violation{Policy: "cost-center", Severity: "deny",
			ID:   manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-a", Name: fmt.Sprintf("web-%d", i)},
			File: fmt.Sprintf("requests/dev/team-a/web-%d/deployment.yaml", i), Line: 8, Message: strings.Repeat("no cost-center label ", 20)})
	}
	rep := &check.ImpactReport{Changed: []string{check.RulesPolicies}, Objects: 10000,
		Environments: []check.EnvironmentImpact{{Environment: "dev", NewlyDenied: denied}}}
	run := impactRun("0123456789abcdef", rep)
	if run.Conclusion != "failure" || run.Title != "5000 newly denied" {
		t.Errorf("run %s %q", run.Conclusion, run.Title)
	}
	if len(run.Summary) > github.MaxCheckOutput || len([]rune(run.Title)) > github.MaxTitle {
		t.Errorf("summary of %d bytes, title of %d characters", len(run.Summary), len(run.Title))
	}
	if !strings.Contains(run.Summary, "gitvend check --impact --base DIR") {
		t.Errorf("summary does not say where the rest is:\n%s", run.Summary[len(run.Summary)-500:])
	}
	if len(run.Annotations) != 5000 {
		t.Errorf("%d annotations, want one per finding", len(run.Annotations))
	}
}
