package deploy_test

import (
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitvend/gitvend/deploy/internal/deploytest"
	"github.com/gitvend/gitvend/internal/kubetest"
)

var kube kubetest.Shared

func TestMain(m *testing.M) { kube.Main(m) }

// build runs kustomize on dir as `kubectl kustomize` does.
func build(t *testing.T, dir string) []byte {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return out
}

// TestKustomize builds the base and the example overlay (which adds the
// ServiceMonitor component), and holds each against the documented
// promises, gitvend's own policies and the server configuration format.
func TestKustomize(t *testing.T) {
	tests := []struct {
		name    string
		dir     string
		want    deploytest.Want
		missing []string // config fields left to the installation
	}{
		{"base", "kustomize/base", deploytest.Want{Namespace: true, MetricsService: true}, []string{"github.appID", "repositories"}},
		{"example", "kustomize/overlays/example", deploytest.Want{Namespace: true, ServiceMonitor: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, objs := deploytest.Output(t, t.TempDir(), tt.name+".yaml", build(t, tt.dir))
			deploytest.Verify(t, objs, tt.want)
			deploytest.ServerConfig(t, objs, tt.missing...)
			deploytest.PassesCheck(t, ".", path)
		})
	}
}
