package charttest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/gitvend/gitvend/deploy/internal/deploytest"
	"github.com/gitvend/gitvend/internal/config"
)

const (
	chartDir = "../gitvend"
	// repoDir holds deploy/gitvend.yaml, the policy settings the
	// deployment manifests are checked with.
	repoDir = "../.."
	release = "gitvend"
)

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	return ch
}

func readValues(t *testing.T, file string) chartutil.Values {
	t.Helper()
	if file == "" {
		return chartutil.Values{}
	}
	vals, err := chartutil.ReadValuesFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

// render renders the chart as `helm template` does, the manifests joined
// in file name order.
func render(ch *chart.Chart, vals chartutil.Values) ([]byte, error) {
	opts := chartutil.ReleaseOptions{Name: release, Namespace: deploytest.Namespace, Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValues(ch, vals, opts, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, rv)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	var b bytes.Buffer
	for _, name := range names {
		body := strings.TrimSpace(files[name])
		if strings.HasSuffix(name, "NOTES.txt") || body == "" {
			continue
		}
		b.WriteString("---\n# Source: " + name + "\n" + body + "\n")
	}
	return b.Bytes(), nil
}

// TestChart renders the chart with its defaults and with a complete
// installation's values, and holds each against the documented promises,
// gitvend's own policies and the server configuration format. The output
// is kept as golden files; UPDATE=1 rewrites them.
func TestChart(t *testing.T) {
	ch := loadChart(t)
	tests := []struct {
		name    string
		values  string
		want    deploytest.Want
		missing []string // config fields left to the installation
	}{
		{"defaults", "", deploytest.Want{MetricsService: true}, []string{"github.appID", "repositories"}},
		{"example", "testdata/example-values.yaml", deploytest.Want{ServiceMonitor: true}, nil},
		{"all-on", "testdata/all-on-values.yaml", deploytest.Want{ServiceMonitor: true, Replicas: 3, HTTPPort: 8443, OpsPort: 9102,
			Ingress: true, NetworkPolicy: true, PrometheusRule: true, Dashboard: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := render(ch, readValues(t, tt.values))
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			golden(t, filepath.Join("testdata", tt.name+".golden.yaml"), out)
			path, objs := deploytest.Output(t, t.TempDir(), tt.name+".yaml", out)
			deploytest.Verify(t, objs, tt.want)
			deploytest.ServerConfig(t, objs, tt.missing...)
			deploytest.PassesCheck(t, repoDir, path)
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if os.Getenv("UPDATE") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE=1 to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; UPDATE=1 rewrites it):\n%s", path, diff)
	}
}

// TestLint runs Helm's linter, schema validation included, with both sets
// of values; only informational messages may remain.
func TestLint(t *testing.T) {
	for _, values := range []string{"", "testdata/example-values.yaml", "testdata/all-on-values.yaml"} {
		l := lint.AllWithKubeVersionAndSchemaValidation(chartDir, readValues(t, values), deploytest.Namespace, nil, false)
		for _, m := range l.Messages {
			if m.Severity > support.InfoSev {
				t.Errorf("helm lint with %q: %s", values, m)
			}
		}
	}
}

// TestBadValues: values the chart must refuse, each with an error naming
// what is wrong.
func TestBadValues(t *testing.T) {
	ch := loadChart(t)
	tests := []struct {
		name    string
		values  string
		wantErr string
	}{
		{"unknown key", "replica: 3", "replica"},
		{"replicas type", "replicas: two", "replicas"},
		{"latest tag", "image: {tag: latest}", "image/tag"},
		{"wildcard verb", "rbac: {extraRules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]}", "rbac/extraRules/0/verbs/0"},
		{"no limits", "resources: {requests: {cpu: 1, memory: 1Gi}, limits: null}", "resources"},
		{"unknown config field", "config: {listn: ':8080'}", "listn"},
		{"owner", "owner: Platform Team", "owner"},
		{"no leader election", "config: {leaderElection: {enabled: false}}", "config.leaderElection.enabled"},
		{"loopback listen", "config: {opsListen: '127.0.0.1:9090'}", "config/opsListen"},
		{"budget blocking drains", "podDisruptionBudget: {minAvailable: 2}", "podDisruptionBudget.minAvailable"},
		{"budget both ways", "podDisruptionBudget: {maxUnavailable: 1}", "not both"},
		{"ingress without hosts", "ingress: {enabled: true}", "ingress.hosts"},
		{"ingress path", "ingress: {enabled: true, hosts: [{host: a.example.com, paths: [{path: webhook}]}]}", "ingress/hosts/0/paths/0/path"},
		{"rule duration", "prometheusRule: {enabled: true, driftUnresolvedFor: 1 hour}", "prometheusRule/driftUnresolvedFor"},
		{"failure ratio", "prometheusRule: {requestFailureRatio: 5}", "prometheusRule/requestFailureRatio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := chartutil.ReadValues([]byte(tt.values))
			if err != nil {
				t.Fatal(err)
			}
			_, err = render(ch, vals)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("render error = %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

// TestSchemaFollowsServerConfig keeps values.schema.json's config in step
// with the server configuration's own schema: the same fields, nested the
// same way, less apiVersion and kind, which the chart sets.
func TestSchemaFollowsServerConfig(t *testing.T) {
	var server, chartSchema map[string]any
	if err := json.Unmarshal(config.ServerSchema(), &server); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &chartSchema); err != nil {
		t.Fatal(err)
	}
	want := fields(server, "")
	want = slices.DeleteFunc(want, func(f string) bool { return f == "apiVersion" || f == "kind" })
	got := fields(chartSchema["properties"].(map[string]any)["config"].(map[string]any), "")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config fields in values.schema.json differ from the server configuration's (-server +chart):\n%s", diff)
	}
}

// fields lists the property paths of a JSON schema, sorted.
func fields(schema map[string]any, prefix string) []string {
	var out []string
	props, _ := schema["properties"].(map[string]any)
	for name, p := range props {
		path := prefix + name
		out = append(out, path)
		sub, _ := p.(map[string]any)
		out = append(out, fields(sub, path+".")...)
		if items, ok := sub["items"].(map[string]any); ok {
			out = append(out, fields(items, path+"[].")...)
		}
	}
	slices.Sort(out)
	return out
}
