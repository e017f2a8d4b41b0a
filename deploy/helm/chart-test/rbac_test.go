package charttest_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitvend/gitvend/internal/manifest"
)

// TestSameRBACAsKustomize: the chart with its defaults grants exactly what
// the kustomize base grants, rule for rule.
func TestSameRBACAsKustomize(t *testing.T) {
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), "../../kustomize/base")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	data, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	base, err := manifest.Decode("base.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := render(loadChart(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	chart, err := manifest.Decode("chart.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Role", "ClusterRole"} {
		if diff := cmp.Diff(rules(t, base, kind), rules(t, chart, kind)); diff != "" {
			t.Errorf("%s rules differ (-kustomize +chart):\n%s", kind, diff)
		}
	}
}

func rules(t *testing.T, objs []manifest.Object, kind string) any {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind {
			return o.Content["rules"]
		}
	}
	t.Fatalf("no %s", kind)
	return nil
}
