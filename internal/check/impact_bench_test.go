package check

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkImpact10000 measures the impact of a policy change on a
// repository of 10,000 objects, as `gitvend check --impact` and the
// gitvend/impact run compute it: the base read and judged with its rules
// in process, and again with the head's, whose new cost-center policy
// newly denies its 2,500 Deployments, in the policy sandbox (a child
// process: the input handed over as JSON, the policies compiled there).
func BenchmarkImpact10000(b *testing.B) {
	ctx := context.Background()
	base, head := b.TempDir(), b.TempDir()
	writeObjects(b, base, 10000)
	writeObjects(b, head, 10000)
	data, err := os.ReadFile(filepath.Join("testdata", "impact", "cost_center.rego"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(head, "policies"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(head, "policies", "cost_center.rego"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := Impact(ctx, base, head, ImpactOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Objects != 10000 || rep.NewlyDenied() != 2500 || len(rep.Errors) > 0 {
			b.Fatalf("objects %d, newly denied %d, errors %v", rep.Objects, rep.NewlyDenied(), rep.Errors)
		}
	}
}
