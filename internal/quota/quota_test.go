package quota

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/manifest"
)

// measure decodes docs (YAML documents) as objects of dev and returns the
// use of team-a as quantity text by resource, and its problems.
func measure(t *testing.T, docs string) (map[string]string, []string) {
	t.Helper()
	objs, err := manifest.Decode("test.yaml", []byte(docs))
	if err != nil {
		t.Fatal(err)
	}
	items := make([]Item, len(objs))
	for i := range objs {
		items[i] = Item{Object: &objs[i], Environment: "dev"}
	}
	use := Measure(items)[Place{"dev", "team-a"}]
	if use == nil {
		return nil, nil
	}
	got := map[string]string{}
	for name, d := range use.Amounts {
		got[name] = d.String()
	}
	return got, use.Problems
}

// measureCases are objects of team-a in dev and the use they add up to.
var measureCases = []struct {
	name, docs string
	want       map[string]string
}{
	{"init container larger than the containers", `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: team-a}
spec:
  initContainers:
  - {name: migrate, resources: {requests: {cpu: "2", memory: 64Mi}}}
  containers:
  - {name: a, resources: {requests: {cpu: 500m, memory: 128Mi}}}
  - {name: b, resources: {requests: {cpu: 500m, memory: 128Mi}, limits: {cpu: "1"}}}
`, map[string]string{"count/pods": "1", "pods": "1", "requests.cpu": "2", "requests.memory": "268435456", "limits.cpu": "1"}},
	{"sidecar beside the init container and the containers", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: team-a}
spec:
  replicas: 3
  template:
    spec:
      overhead: {cpu: 100m}
      initContainers:
      - {name: proxy, restartPolicy: Always, resources: {limits: {cpu: 200m, memory: 64Mi}}}
      - {name: setup, resources: {requests: {cpu: "1"}}}
      containers:
      - {name: app, resources: {requests: {cpu: 300m}, limits: {memory: 128Mi}}}
`, map[string]string{
		"count/deployments.apps": "1", "count/pods": "3", "pods": "3",
		// max(200m + 300m, 1 + 200m) + 100m overhead, three times
		"requests.cpu": "3.900", "requests.memory": "603979776",
		// sidecar 200m (only it has a cpu limit) + overhead 100m, three times
		"limits.cpu": "0.900", "limits.memory": "603979776",
	}},
	{"hpa maximum", `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: team-a}
spec:
  replicas: 1
  template: {spec: {containers: [{name: db, resources: {requests: {cpu: 250m}}}]}}
  volumeClaimTemplates: [{spec: {resources: {requests: {storage: 10Gi}}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: db, namespace: team-a}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: db}, maxReplicas: 4}
`, map[string]string{
		"count/statefulsets.apps": "1", "count/horizontalpodautoscalers.autoscaling": "1",
		"count/pods": "4", "pods": "4", "requests.cpu": "1.000",
		"persistentvolumeclaims": "4", "count/persistentvolumeclaims": "4", "requests.storage": "42949672960",
	}},
	{"hpa without a group, and one of another group", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team-a}
spec:
  replicas: 2
  template: {spec: {containers: [{name: web, resources: {requests: {cpu: 100m}}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other, namespace: team-a}
spec:
  template: {spec: {containers: [{name: o, resources: {requests: {cpu: 100m}}}]}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: team-a}
spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 6}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: other, namespace: team-a}
spec: {scaleTargetRef: {apiVersion: example.com/v1, kind: Deployment, name: other}, maxReplicas: 9}
`, map[string]string{
		"count/deployments.apps": "2", "count/horizontalpodautoscalers.autoscaling": "2",
		"count/pods": "7", "pods": "7", "requests.cpu": "0.7",
	}},
	{"jobs at parallelism", `
apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: team-a}
spec:
  parallelism: 5
  completions: 2
  template: {spec: {containers: [{name: j, resources: {requests: {cpu: 100m}}}]}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: c, namespace: team-a}
spec:
  schedule: "0 * * * *"
  jobTemplate: {spec: {parallelism: 3, template: {spec: {containers: [{name: c, resources: {requests: {cpu: 100m}}}]}}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: asleep, namespace: team-a}
spec:
  suspend: true
  schedule: "0 * * * *"
  jobTemplate: {spec: {template: {spec: {containers: [{name: c, resources: {requests: {cpu: "9"}}}]}}}}
`, map[string]string{"count/jobs.batch": "1", "count/cronjobs.batch": "2", "count/pods": "5", "pods": "5", "requests.cpu": "0.500"}},
	{"services and claims", `
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: team-a}
spec: {type: LoadBalancer, ports: [{port: 80}, {port: 443}]}
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: team-a}
spec: {type: NodePort, ports: [{port: 80}]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: team-a}
spec: {resources: {requests: {storage: 1Gi}}}
`, map[string]string{
		"count/services": "2", "services": "2", "services.loadbalancers": "1", "services.nodeports": "3",
		"count/persistentvolumeclaims": "1", "requests.storage": "1073741824",
	}},
}

// TestMeasureCountsPodsAsKubernetes: init containers count as the larger
// of the largest init container and the sum of the containers, sidecars
// run beside both, pod overhead comes on top, a missing request takes
// the limit, replicas and parallelism multiply, an HPA counts at
// maxReplicas and a suspended CronJob counts nothing.
func TestMeasureCountsPodsAsKubernetes(t *testing.T) {
	for _, tc := range measureCases {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := measure(t, tc.docs)
			if len(problems) > 0 {
				t.Errorf("problems: %q", problems)
			}
			// inf.Dec prints the scale it has; compare the values.
			norm := func(m map[string]string) map[string]string {
				out := map[string]string{}
				for k, v := range m {
					if strings.Contains(v, ".") {
						v = strings.TrimSuffix(strings.TrimRight(v, "0"), ".")
					}
					out[k] = v
				}
				return out
			}
			if diff := cmp.Diff(norm(tc.want), norm(got)); diff != "" {
				t.Errorf("use (-want +got):\n%s", diff)
			}
		})
	}
}

// hostileDocs is a Deployment of team-a with counts and quantities that
// cannot be read.
var hostileDocs = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: team-a}
spec:
  replicas: -3
  template:
    spec:
      containers:
      - {name: a, resources: {requests: {cpu: lots, memory: 1e999}, limits: "everything"}}
      - "not a container"
      - {name: b, resources: {requests: {cpu: "` + strings.Repeat("9", 100) + `"}}}
      initContainers: 7
`

// TestMeasureHostileInput: quantities and counts that cannot be read are
// problems naming the object and the field; nothing panics.
func TestMeasureHostileInput(t *testing.T) {
	_, problems := measure(t, hostileDocs)
	want := []string{
		`Deployment d: spec.replicas: must be a whole number from 0 to 2147483647, got -3`,
		`Deployment d: spec.template.spec.containers[0].resources.requests.cpu: "lots" is not a valid quantity; use a number with an optional suffix such as 250m, 0.5, 512Mi or 1G`,
		`Deployment d: spec.template.spec.containers[0].resources.requests.memory: "1e999" has an exponent out of range (from -99 to 99)`,
		`Deployment d: spec.template.spec.containers[0].resources.limits: must be a mapping of resource names to quantities, got everything`,
		`Deployment d: spec.template.spec.containers[1]: must be a mapping, got not a container`,
		`Deployment d: spec.template.spec.containers[2].resources.requests.cpu: "9999999999999999"... is too long for a quantity (at most 64 characters)`,
	}
	if diff := cmp.Diff(want, problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// judgePod is a Pod of team-a requesting cpu, as a YAML document.
func judgePod(cpu string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: p" + cpu + ", namespace: team-a}\nspec: {containers: [{name: a, resources: {requests: {cpu: " + cpu + "}}}]}\n---\n"
}

// judgeQuotas are two ResourceQuotas of team-a, one of them scoped.
const judgeQuotas = `apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: team-a}
spec: {hard: {requests.cpu: 1500m, requests.example.com/fpga: "1", count/widgets.example.com: "2", hugepages-2Mi: 1Gi}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: scoped, namespace: team-a}
spec: {hard: {pods: "1"}, scopeSelector: {matchExpressions: [{operator: Exists, scopeName: PriorityClass}]}}
`

// TestJudge: a scoped quota is skipped with its reason, hard values
// gitvend cannot count are named, and the use before and after the change
// give the share and the headroom.
func TestJudge(t *testing.T) {
	decode := func(docs string) []Item {
		objs, err := manifest.Decode("q.yaml", []byte(docs))
		if err != nil {
			t.Fatal(err)
		}
		items := make([]Item, len(objs))
		for i := range objs {
			items[i] = Item{Object: &objs[i], Environment: "dev"}
		}
		return items
	}
	pod, quotas := judgePod, judgeQuotas
	base := decode(pod("1") + quotas)
	head := decode(pod("1") + pod("700m") + quotas)
	got := Judge(head, Measure(head), Measure(base))
	if len(got) != 2 {
		t.Fatalf("got %d quotas, want 2: %+v", len(got), got)
	}
	q := got[0]
	if want := []string{"gitvend does not count count/widgets.example.com, hugepages-2Mi"}; !cmp.Equal(q.Skipped, want) {
		t.Errorf("skipped %q, want %q", q.Skipped, want)
	}
	var lines []string
	for _, r := range q.Resources {
		lines = append(lines, r.Name+": used "+r.Text(r.Used)+", after "+r.Text(r.After)+", share "+r.Text(r.Share())+", headroom "+r.Text(r.Headroom()))
	}
	want := []string{
		"requests.cpu: used 1, after 1700m, share 700m, headroom 500m",
		"requests.example.com/fpga: used 0, after 0, share 0, headroom 1",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	if !q.Resources[0].Over() || q.Resources[1].Over() {
		t.Errorf("over = %v, %v; want true, false", q.Resources[0].Over(), q.Resources[1].Over())
	}
	if q.Resources[0].Tightened || q.Resources[1].Tightened {
		t.Errorf("a quota the change leaves alone counts as tightened: %+v", q.Resources)
	}
	lowered := decode(pod("1") + strings.Replace(quotas, "1500m", "900m", 1))
	if r := Judge(lowered, Measure(lowered), Measure(base))[0].Resources[0]; !r.Tightened || r.Share().Sign() != 0 || !r.Over() {
		t.Errorf("lowered hard value = %+v, want tightened, over, no share", r)
	}
	if r := Judge(head, Measure(head), nil)[0].Resources[0]; !r.Tightened || r.Used.Sign() != 0 {
		t.Errorf("without a base = %+v, want tightened and nothing used before", r)
	}
	if s := got[1]; s.Name != "scoped" || len(s.Resources) != 0 || len(s.Skipped) != 1 || !strings.Contains(s.Skipped[0], "scoped") {
		t.Errorf("scoped quota = %+v, want skipped as scoped", s)
	}
}
