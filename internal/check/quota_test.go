package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// quotaRepo writes a desired-state repository with one environment, dev,
// whose root lists files (name to content) in team-a.
func quotaRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := "apiVersion: gitvend.dev/v1alpha1\nkind: Config\nenvironments: [{name: dev}]\nteams: [{name: a, namespaces: [team-a]}]\n"
	root := filepath.Join(dir, "environments", "dev")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	var names []string
	for name, data := range files {
		names = append(names, name)
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(names)
	kust := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [" + strings.Join(names, ", ") + "]\n"
	for name, data := range map[string]string{
		filepath.Join(dir, "gitvend.yaml"):        cfg,
		filepath.Join(root, "kustomization.yaml"): kust,
	} {
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// deployment is a Deployment in team-a with replicas pods of one
// container requesting cpu and limiting memory.
func deployment(name string, replicas int, cpu, memory string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: team-a}
spec:
  replicas: %d
  template:
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/app:1.0.0
        resources:
          requests: {cpu: %q, memory: 128Mi}
          limits: {memory: %q}
`, name, replicas, cpu, memory)
}

const computeQuota = `apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: team-a}
spec:
  hard:
    requests.cpu: "2"
    limits.memory: 2Gi
    pods: "4"
`

// TestQuotaFindings checks pull requests against a namespace whose quota
// allows 2 cores, 2Gi of memory limits and 4 pods, where the base runs two
// pods of 500m: the finding names the quota, the resource, the use before
// the change, the change's share and the headroom; a change that fits
// has none, and a quota or workload that cannot be read is reported
// without a panic.
func TestQuotaFindings(t *testing.T) {
	ctx := context.Background()
	base := map[string]string{"quota.yaml": computeQuota, "web.yaml": deployment("web", 2, "500m", "512Mi")}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	hpa := `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: team-a}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
`
	cases := []struct {
		name string
		head map[string]string
		pass bool
	}{
		{"overflows", with(map[string]string{"api.yaml": deployment("api", 2, "600m", "256Mi")}), false},
		{"fits", with(map[string]string{"api.yaml": deployment("api", 1, "500m", "256Mi")}), true},
		// 1 + 3 × 0.1 is 1.3000000000000003 in floating point.
		{"fits exactly in decimals", with(map[string]string{
			"api.yaml":   deployment("api", 3, "0.1", "1Mi"),
			"quota.yaml": strings.NewReplacer(`requests.cpu: "2"`, `requests.cpu: "1.3"`, `pods: "4"`, `pods: "5"`).Replace(computeQuota),
		}), true},
		{"hpa maximum overflows", with(map[string]string{"hpa.yaml": hpa}), false},
		// The apiserver reads a memory value beyond 8Ei as 8Ei.
		{"huge quantities", with(map[string]string{"api.yaml": deployment("api", 2147483647, "1e30", "999999999999999999999999Ei")}), false},
		{"malformed quantities", with(map[string]string{
			"api.yaml":   deployment("api", 1, "lots", "1Gi"),
			"quota.yaml": strings.Replace(computeQuota, `pods: "4"`, `pods: "-4"`, 1),
		}), false},
		{"lowers the quota below the use", with(map[string]string{
			"quota.yaml": strings.Replace(computeQuota, `requests.cpu: "2"`, `requests.cpu: 500m`, 1),
		}), false},
		{"scoped quota", map[string]string{
			"quota.yaml": strings.Replace(computeQuota, "spec:\n", "spec:\n  scopes: [BestEffort]\n", 1),
			"web.yaml":   deployment("web", 9, "5", "8Gi"),
		}, true},
	}
	var out strings.Builder
	baseDir := quotaRepo(t, base)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := quotaRepo(t, tc.head)
			c, err := New(ctx, baseDir, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := c.For(head).Check(ctx, []string{head}, baseDir)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "== %s\n", tc.name)
			passed := true
			for _, v := range rep.Violations {
				if v.Policy != "quota" {
					continue
				}
				passed = passed && v.Severity != "deny"
				fmt.Fprintf(&out, "%s %s %s:%d: %s\n", v.Severity, v.ID, v.File, v.Line, v.Message)
			}
			for _, n := range rep.Notices {
				if strings.Contains(n.Message, "ResourceQuota") {
					fmt.Fprintf(&out, "note %s:%d: %s\n", n.File, n.Line, n.Message)
				}
			}
			if passed != tc.pass {
				t.Errorf("quota policy passed = %v, want %v", passed, tc.pass)
			}
		})
	}
	golden(t, filepath.Join("testdata", "quota.golden"), out.String())
}

// TestQuotaException: an exception naming the quota waives its finding,
// which the report lists apart with the exception's reason.
func TestQuotaException(t *testing.T) {
	ctx := context.Background()
	baseDir := quotaRepo(t, map[string]string{"quota.yaml": computeQuota})
	exception := "policy:\n  exceptions:\n  - {policy: quota, kind: ResourceQuota, namespace: team-a, name: compute, reason: the cluster's quota is raised this week}\n"
	f, err := os.OpenFile(filepath.Join(baseDir, "gitvend.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(exception); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	head := quotaRepo(t, map[string]string{"quota.yaml": computeQuota, "web.yaml": deployment("web", 3, "1", "512Mi")})
	c, err := New(ctx, baseDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.For(head).Check(ctx, []string{head}, baseDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range rep.Violations {
		if v.Policy == "quota" {
			t.Errorf("finding not waived: %s", v.Message)
		}
	}
	if len(rep.Excepted) != 1 || rep.Excepted[0].Policy != "quota" || rep.Excepted[0].Exception != "the cluster's quota is raised this week" ||
		!strings.Contains(rep.Excepted[0].Message, "requests.cpu would reach 3 of its hard 2: 0 in use, this change adds 3, headroom 2") {
		t.Errorf("excepted = %+v, want the requests.cpu finding with the exception's reason", rep.Excepted)
	}
}
