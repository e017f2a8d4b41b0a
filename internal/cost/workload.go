package cost

import (
	"fmt"
	"math"
	"strings"

	"github.com/gitvend/gitvend/internal/cron"
	"github.com/gitvend/gitvend/internal/manifest"
)

// costed is the estimate of one object before HorizontalPodAutoscalers are
// applied to it.
type costed struct {
	ObjectCost
	// perReplica is the monthly cost of one replica.
	perReplica float64
	// scalable is set for kinds with a scale subresource that an HPA can
	// drive.
	scalable bool
	// scaledBy names the HPA applied to the object, if any.
	scaledBy string
	// item is the object's index among the items estimated.
	item int
}

// estimateObject prices obj at p. It returns false for kinds that cost
// nothing by themselves (ConfigMaps, Roles, Services of other types, ...),
// which are left out of estimates.
func estimateObject(obj *manifest.Object, p Prices) (costed, bool) {
	var n notes
	c := costed{ObjectCost: ObjectCost{ID: obj.ID}}
	group, kind := obj.Group(), obj.Kind
	switch {
	case group == "" && kind == "Pod":
		spec := mapAt(obj.Content, "spec", "", &n)
		c.setWorkload(estimatePod(spec, "spec", &n), 1, HoursPerMonth, p, &n)
	case (group == "apps" || group == "extensions") && (kind == "Deployment" || kind == "ReplicaSet"),
		group == "apps" && kind == "StatefulSet",
		group == "" && kind == "ReplicationController":
		spec := mapAt(obj.Content, "spec", "", &n)
		replicas := count(spec, "replicas", "spec", 1, &n)
		pd := estimatePod(templateSpec(spec, "spec", &n), "spec.template.spec", &n)
		if kind == "StatefulSet" {
			for i, t := range listAt(spec, "volumeClaimTemplates", "spec", &n) {
				field := fmt.Sprintf("spec.volumeClaimTemplates[%d]", i)
				tm, ok := t.(map[string]any)
				if !ok {
					n.add("%s: must be a mapping, got a %s; costed at 0", field, typeName(t))
					continue
				}
				pd.storageGB += claimGB(tm, field, &n)
			}
		}
		c.scalable = true
		c.setWorkload(pd, replicas, HoursPerMonth, p, &n)
	case (group == "apps" || group == "extensions") && kind == "DaemonSet":
		spec := mapAt(obj.Content, "spec", "", &n)
		pd := estimatePod(templateSpec(spec, "spec", &n), "spec.template.spec", &n)
		n.add("a DaemonSet runs one pod on every node it selects; costed as one pod")
		c.setWorkload(pd, 1, HoursPerMonth, p, &n)
	case group == "batch" && kind == "Job":
		spec := mapAt(obj.Content, "spec", "", &n)
		c.estimateJob(spec, p, &n)
	case group == "batch" && kind == "CronJob":
		spec := mapAt(obj.Content, "spec", "", &n)
		c.estimateCronJob(spec, p, &n)
	case group == "" && kind == "PersistentVolumeClaim":
		c.StorageGB = claimGB(obj.Content, "", &n)
		c.Monthly = c.StorageGB * p.StorageGB * HoursPerMonth
	case group == "" && kind == "Service":
		spec, _ := obj.Content["spec"].(map[string]any)
		if t, _ := spec["type"].(string); t != "LoadBalancer" {
			return costed{}, false
		}
		c.Monthly = p.LoadBalancer * HoursPerMonth
	default:
		return costed{}, false
	}
	c.Notes = n
	return c, true
}

// templateSpec returns template.spec of spec, a workload's spec found at
// parent.
func templateSpec(spec map[string]any, parent string, n *notes) map[string]any {
	tmpl := mapAt(spec, "template", parent, n)
	if tmpl == nil {
		return nil
	}
	return mapAt(tmpl, "spec", parent+".template", n)
}

// setWorkload records replicas pods like pd running for hours a month.
func (c *costed) setWorkload(pd pod, replicas int64, hours float64, p Prices, n *notes) {
	c.Replicas = int(replicas)
	c.CPU, c.RAMGiB, c.GPU, c.StorageGB = pd.cpu, pd.ramGiB, pd.gpu, pd.storageGB
	c.perReplica = pd.hourly(p) * hours
	c.Monthly = float64(replicas) * c.perReplica
	if pd.spot != "" {
		n.add("runs on spot capacity (%s); CPU and memory at spot prices", pd.spot)
	}
}

// jobRun is one run of a Job: how many pods run at a time, for how long,
// and what each reserves.
type jobRun struct {
	pods    int64
	hours   float64
	bounded bool // hours come from activeDeadlineSeconds
	pod     pod
}

// readJobRun reads a Job spec found at field ("spec" or
// "spec.jobTemplate.spec"). A run keeps parallelism pods busy (fewer when
// completions is lower) for activeDeadlineSeconds, the longest a run may
// last, or for one hour when that is not set.
func readJobRun(spec map[string]any, field string, n *notes) jobRun {
	r := jobRun{pods: count(spec, "parallelism", field, 1, n), hours: 1}
	if _, ok := spec["completions"]; ok && spec["completions"] != nil {
		r.pods = min(r.pods, count(spec, "completions", field, r.pods, n))
	}
	if v, ok := spec["activeDeadlineSeconds"]; ok && v != nil {
		secs := count(spec, "activeDeadlineSeconds", field, 0, n)
		if secs > 0 {
			r.hours, r.bounded = float64(secs)/3600, true
		}
	}
	r.pod = estimatePod(templateSpec(spec, field, n), field+".template.spec", n)
	return r
}

// describe says how a run is costed, for notes.
func (r jobRun) describe(field string) string {
	s := fmt.Sprintf("%s with %d pod(s) at a time", formatHours(r.hours), r.pods)
	if r.bounded {
		return s + " (" + field + ".activeDeadlineSeconds)"
	}
	return s + " (assumed; " + field + ".activeDeadlineSeconds would bound it)"
}

func formatHours(h float64) string {
	if h == 1 {
		return "1 hour"
	}
	return formatFloat(h) + " hours"
}

// estimateJob costs a Job as the one run it makes.
func (c *costed) estimateJob(spec map[string]any, p Prices, n *notes) {
	r := readJobRun(spec, "spec", n)
	if s, _ := spec["suspend"].(bool); s {
		n.add("suspended (spec.suspend: true); costs nothing until resumed")
		c.setWorkload(r.pod, r.pods, 0, p, n)
		return
	}
	hours := math.Min(r.hours, HoursPerMonth)
	n.add("a Job runs once; costed as one run of %s", r.describe("spec"))
	c.setWorkload(r.pod, r.pods, hours, p, n)
}

// estimateCronJob costs a CronJob as its runs in an average month, each
// like one Job run, never more than its pods running all month. A schedule
// that cannot be read is costed as running all month.
func (c *costed) estimateCronJob(spec map[string]any, p Prices, n *notes) {
	tmpl := mapAt(spec, "jobTemplate", "spec", n)
	r := readJobRun(mapAt(tmpl, "spec", "spec.jobTemplate", n), "spec.jobTemplate.spec", n)
	if s, _ := spec["suspend"].(bool); s {
		n.add("suspended (spec.suspend: true); costs nothing until resumed")
		c.setWorkload(r.pod, r.pods, 0, p, n)
		return
	}
	raw, _ := spec["schedule"].(string)
	sched, err := cron.Parse(raw)
	if err != nil {
		n.add("spec.schedule %q: %v; costed as running all month", raw, err)
		c.setWorkload(r.pod, r.pods, HoursPerMonth, p, n)
		return
	}
	runs := sched.RunsPerMonth()
	hours := runs * r.hours
	n.add("schedule %q runs about %s times a month; each run costed as %s", raw, formatFloat(runs), r.describe("spec.jobTemplate.spec"))
	if hours > HoursPerMonth {
		n.add("its runs add up to more than a month; costed as running all month")
		hours = HoursPerMonth
	}
	c.setWorkload(r.pod, r.pods, hours, p, n)
}

// scaler is a HorizontalPodAutoscaler: the workload it targets and the
// range it keeps that workload's replicas in.
type scaler struct {
	id          manifest.ID
	environment string
	group, kind string // of the target
	name        string
	min, max    int64
	problem     string // why the HPA is ignored, if it is
	item        int    // the HPA's index among the items estimated
}

// readScaler reads obj as a HorizontalPodAutoscaler; false for other kinds
// and HPAs without a target.
func readScaler(obj *manifest.Object, environment string) (scaler, bool) {
	if obj.Group() != "autoscaling" || obj.Kind != "HorizontalPodAutoscaler" {
		return scaler{}, false
	}
	spec, _ := obj.Content["spec"].(map[string]any)
	ref, _ := spec["scaleTargetRef"].(map[string]any)
	kind, _ := ref["kind"].(string)
	name, _ := ref["name"].(string)
	if kind == "" || name == "" {
		return scaler{}, false
	}
	s := scaler{id: obj.ID, environment: environment, kind: kind, name: name, group: "*"}
	if api, ok := ref["apiVersion"].(string); ok && api != "" {
		s.group = manifest.ID{APIVersion: api}.Group()
	}
	var n notes
	s.min = count(spec, "minReplicas", "spec", 1, &n)
	s.max = count(spec, "maxReplicas", "spec", 0, &n)
	switch {
	case len(n) > 0:
		s.problem, _, _ = strings.Cut(n[0], "; counted as")
	case s.max < 1:
		s.problem = "spec.maxReplicas: must be set to a whole number from 1 to 2147483647"
	case s.min > s.max:
		s.problem = fmt.Sprintf("spec.minReplicas (%d) is more than spec.maxReplicas (%d)", s.min, s.max)
	}
	return s, true
}

// targets tells whether the HPA scales c.
func (s scaler) targets(c *costed) bool {
	return c.scalable && c.Environment == s.environment && c.Namespace == s.id.Namespace &&
		c.Kind == s.kind && c.Name == s.name && (s.group == "*" || s.group == c.Group())
}

// apply scales c by s: the estimate runs from minReplicas to maxReplicas.
func (s scaler) apply(c *costed) {
	label := "HorizontalPodAutoscaler " + s.id.Name
	switch {
	case s.problem != "":
		c.Notes = append(c.Notes, fmt.Sprintf("%s is ignored: %s", label, s.problem))
		return
	case c.scaledBy != "":
		c.Notes = append(c.Notes, fmt.Sprintf("%s is ignored: %s already scales this workload", label, c.scaledBy))
		return
	}
	c.scaledBy = label
	c.Notes = append(c.Notes, fmt.Sprintf("replicas set by %s: estimated at minReplicas %d, up to maxReplicas %d", label, s.min, s.max))
	c.Replicas, c.MinReplicas, c.MaxReplicas = int(s.min), int(s.min), int(s.max)
	c.Monthly = float64(s.min) * c.perReplica
	c.MonthlyMax = float64(s.max) * c.perReplica
}
