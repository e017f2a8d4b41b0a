package charttest_test

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"

	"github.com/gitvend/gitvend/deploy/internal/deploytest"
	"github.com/gitvend/gitvend/internal/manifest"
)

// TestToggles renders and lints the chart with each optional part on and
// off, over the example installation, and holds the output against what
// that setting promises.
func TestToggles(t *testing.T) {
	ch := loadChart(t)
	base := deploytest.Want{ServiceMonitor: true}
	tests := []struct {
		name   string
		values string
		want   func(w *deploytest.Want)
	}{
		{"ingress on", "ingress: {enabled: true, className: nginx, hosts: [{host: gitvend.example.com}], tls: [{secretName: t, hosts: [gitvend.example.com]}]}",
			func(w *deploytest.Want) { w.Ingress = true }},
		{"ingress off", "ingress: {enabled: false}", nil},
		{"network policy on", "networkPolicy: {enabled: true, opsFrom: [{namespaceSelector: {matchLabels: {team: monitoring}}}]}",
			func(w *deploytest.Want) { w.NetworkPolicy = true }},
		{"network policy on, ops closed", "networkPolicy: {enabled: true}", func(w *deploytest.Want) { w.NetworkPolicy = true }},
		{"network policy off", "networkPolicy: {enabled: false}", nil},
		{"service monitor off, metrics service on", "serviceMonitor: {enabled: false}",
			func(w *deploytest.Want) { w.ServiceMonitor, w.MetricsService = false, true }},
		{"service monitor and metrics service off", "serviceMonitor: {enabled: false}\nmetricsService: {enabled: false}",
			func(w *deploytest.Want) { w.ServiceMonitor = false }},
		{"prometheus rule on", "prometheusRule: {enabled: true}", func(w *deploytest.Want) { w.PrometheusRule = true }},
		{"prometheus rule without leader election", "replicas: 1\nconfig: {leaderElection: {enabled: false}}\nprometheusRule: {enabled: true}",
			func(w *deploytest.Want) { w.PrometheusRule, w.Replicas, w.NoPDB = true, 1, true }},
		{"prometheus rule off", "prometheusRule: {enabled: false}", nil},
		{"dashboard on", "grafanaDashboard: {enabled: true}", func(w *deploytest.Want) { w.Dashboard = true }},
		{"dashboard off", "grafanaDashboard: {enabled: false}", nil},
		{"budget off", "podDisruptionBudget: {enabled: false}", func(w *deploytest.Want) { w.NoPDB = true }},
		{"one replica, no budget", "replicas: 1", func(w *deploytest.Want) { w.Replicas, w.NoPDB = 1, true }},
		{"budget by maxUnavailable", "replicas: 3\npodDisruptionBudget: {minAvailable: null, maxUnavailable: 1}", func(w *deploytest.Want) { w.Replicas = 3 }},
		{"budget by percent", "replicas: 4\npodDisruptionBudget: {minAvailable: 50%}", func(w *deploytest.Want) { w.Replicas = 4 }},
		{"targets sharded over three replicas", "replicas: 3\nconfig: {leaderElection: {shardTargets: true}}", func(w *deploytest.Want) { w.Replicas = 3 }},
		{"listeners on other ports", "config: {listen: '0.0.0.0:3000', opsListen: ':3001'}", func(w *deploytest.Want) { w.HTTPPort, w.OpsPort = 3000, 3001 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals := readValues(t, "testdata/example-values.yaml")
			var over map[string]any
			if err := yaml.Unmarshal([]byte(tt.values), &over); err != nil {
				t.Fatal(err)
			}
			vals = chartutil.Values(merge(vals, over))
			want := base
			if tt.want != nil {
				tt.want(&want)
			}
			out, err := render(ch, vals)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			_, objs := deploytest.Output(t, t.TempDir(), "out.yaml", out)
			deploytest.Verify(t, objs, want)
			deploytest.ServerConfig(t, objs)
			l := lint.AllWithKubeVersionAndSchemaValidation(chartDir, vals, deploytest.Namespace, nil, false)
			for _, m := range l.Messages {
				if m.Severity > support.InfoSev {
					t.Errorf("helm lint: %s", m)
				}
			}
			wantShards := strings.Contains(tt.name, "sharded")
			if got := shardTargets(t, objs); got != wantShards {
				t.Errorf("config.yaml has leaderElection.shardTargets %v, want %v", got, wantShards)
			}
			if strings.Contains(tt.name, "without leader election") && strings.Contains(string(out), "GitvendLeaderMissing") {
				t.Error("GitvendLeaderMissing without leader election: no replica ever holds a Lease, so it would always fire")
			}
		})
	}
}

// merge lays over onto vals, maps recursively, anything else replaced.
func merge(vals, over map[string]any) map[string]any {
	out := maps.Clone(vals)
	for k, v := range over {
		if vm, ok := v.(map[string]any); ok {
			if om, ok := out[k].(map[string]any); ok {
				out[k] = merge(om, vm)
				continue
			}
			if om, ok := out[k].(chartutil.Values); ok {
				out[k] = merge(om, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// TestSchemaCoversValues: every value in values.yaml, at every depth, is
// described in values.schema.json, so editors and `helm lint` know it.
func TestSchemaCoversValues(t *testing.T) {
	var values map[string]any
	data, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	data, err = os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	var missing []string
	var walk func(path string, v any, s map[string]any)
	walk = func(path string, v any, s map[string]any) {
		s = resolve(schema, s)
		switch v := v.(type) {
		case map[string]any:
			props, _ := s["properties"].(map[string]any)
			for k, sub := range v {
				ps, ok := props[k].(map[string]any)
				if !ok {
					if ap, isMap := s["additionalProperties"].(map[string]any); isMap {
						walk(path+"."+k, sub, ap)
						continue
					}
					missing = append(missing, strings.TrimPrefix(path+"."+k, "."))
					continue
				}
				walk(path+"."+k, sub, ps)
			}
		case []any:
			items, _ := s["items"].(map[string]any)
			for i, sub := range v {
				if items == nil {
					missing = append(missing, fmt.Sprintf("%s[%d]", strings.TrimPrefix(path, "."), i))
					continue
				}
				walk(fmt.Sprintf("%s[%d]", path, i), sub, items)
			}
		}
	}
	walk("", values, schema)
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("values.yaml has %s, which values.schema.json does not describe", m)
	}
}

// resolve follows a local $ref.
func resolve(root, s map[string]any) map[string]any {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s
	}
	cur := any(root)
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, _ := cur.(map[string]any)
		cur = m[part]
	}
	out, _ := cur.(map[string]any)
	return out
}

// TestMonitoringUsesExportedMetrics: every metric the alerts and the
// dashboard query is one gitvend exports (read from its sources), and the
// alerts cover each service level.
func TestMonitoringUsesExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	if len(exported) < 10 {
		t.Fatalf("found %d metrics in gitvend's sources, expected many more: %v", len(exported), exported)
	}
	ch := loadChart(t)
	out, err := render(ch, readValues(t, "testdata/all-on-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, objs := deploytest.Output(t, t.TempDir(), "out.yaml", out)
	var exprs []string
	var alerts []string
	for _, o := range objs {
		switch {
		case o.Kind == "PrometheusRule":
			groups, _ := manifest.Lookup(o.Content, "spec", "groups")
			for _, g := range groups.([]any) {
				for _, r := range g.(map[string]any)["rules"].([]any) {
					rule := r.(map[string]any)
					alerts = append(alerts, fmt.Sprint(rule["alert"]))
					exprs = append(exprs, fmt.Sprint(rule["expr"]))
				}
			}
		case o.Kind == "ConfigMap" && strings.HasSuffix(o.Name, "-dashboard"):
			data, _ := manifest.Lookup(o.Content, "data", "gitvend.json")
			var d struct {
				Panels []struct {
					Title   string `json:"title"`
					Targets []struct {
						Expr string `json:"expr"`
					} `json:"targets"`
				} `json:"panels"`
			}
			if err := yaml.Unmarshal([]byte(fmt.Sprint(data)), &d); err != nil {
				t.Fatal(err)
			}
			for _, p := range d.Panels {
				if len(p.Targets) == 0 {
					t.Errorf("dashboard panel %q queries nothing", p.Title)
				}
				for _, tg := range p.Targets {
					exprs = append(exprs, tg.Expr)
				}
			}
		}
	}
	for _, want := range []string{"GitvendRequestsFailing", "GitvendApplyFailing", "GitvendDriftUnresolved", "GitvendGitHubRateLimitLow", "GitvendLeaderMissing"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s among %v", want, alerts)
		}
	}
	metricRE := regexp.MustCompile(`\bgitvend_[a-z_]+`)
	used := map[string]bool{}
	for _, e := range exprs {
		if strings.Count(e, "(") != strings.Count(e, ")") || strings.Count(e, "{") != strings.Count(e, "}") {
			t.Errorf("unbalanced expression %q", e)
		}
		for _, m := range metricRE.FindAllString(e, -1) {
			used[m] = true
			name := m
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(m, suffix); ok && exported[base] {
					name = base
				}
			}
			if !exported[name] {
				t.Errorf("%s in %q is not a metric gitvend exports", m, e)
			}
		}
	}
	if len(used) < 8 {
		t.Errorf("alerts and dashboard query only %v", slices.Sorted(maps.Keys(used)))
	}
}

// exportedMetrics reads the names of gitvend's Prometheus metrics from its
// sources: the Name of every metric option literal.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	nameRE := regexp.MustCompile(`Name:\s*"(gitvend_[a-z_]+)"`)
	out := map[string]bool{}
	root := filepath.Join(repoDir, "..", "internal")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range nameRE.FindAllStringSubmatch(string(data), -1) {
			out[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
