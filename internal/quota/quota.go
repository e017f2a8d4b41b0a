// Package quota holds the ResourceQuotas of a desired state against the
// workloads of their namespaces: what the workloads request and limit,
// counted the way the apiserver's quota admission counts them, with exact
// quantities.
package quota

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"gopkg.in/inf.v0"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gitvend/gitvend/internal/cost"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Item is one object of a desired state and the environment it is for,
// as the cost estimate reads it, so that one list serves both.
type Item = cost.Item

// Place is a namespace of one environment.
type Place struct {
	Environment string
	Namespace   string
}

// Use is what the objects of one place add up to, by quota resource name
// (requests.cpu, limits.memory, pods, count/deployments.apps, ...), and
// the quantities that could not be read.
type Use struct {
	Amounts map[string]*inf.Dec
	// Hard holds the readable hard values of the place's ResourceQuotas,
	// by quota name and resource name.
	Hard map[string]map[string]*inf.Dec
	// Problems name each unreadable field, such as "Deployment web:
	// spec.template.spec.containers[0].resources.requests.cpu: "x" is not
	// a valid quantity ...".
	Problems []string
}

// Usage is the use of every place that has objects.
type Usage map[Place]*Use

func (u Usage) at(p Place) *Use {
	use, ok := u[p]
	if !ok {
		use = &Use{Amounts: map[string]*inf.Dec{}, Hard: map[string]map[string]*inf.Dec{}}
		u[p] = use
	}
	return use
}

// Amount returns the use of resource in p, zero when none.
func (u Usage) Amount(p Place, resource string) *inf.Dec {
	if use, ok := u[p]; ok {
		if d, ok := use.Amounts[resource]; ok {
			return new(inf.Dec).Set(d)
		}
	}
	return new(inf.Dec)
}

// add adds d to the amount of name; it keeps no reference to d.
func (use *Use) add(name string, d *inf.Dec) {
	cur, ok := use.Amounts[name]
	if !ok {
		cur = new(inf.Dec)
		use.Amounts[name] = cur
	}
	cur.Add(cur, d)
}

// recorder takes what measuring one object finds. It adds to the Use of
// the object's place directly, or, with kept set instead, keeps it as a
// contribution to add later.
type recorder struct {
	use  *Use
	kept *contribution
}

// add adds d to the resource name. It keeps a copy of d, never d.
func (r *recorder) add(name string, d *inf.Dec) {
	if r.use != nil {
		r.use.add(name, d)
		return
	}
	r.kept.adds = append(r.kept.adds, addition{name, new(inf.Dec).Set(d)})
}

// problem records an unreadable field of obj.
func (r *recorder) problem(obj *manifest.Object, format string, args ...any) {
	msg := fmt.Sprintf("%s %s: ", obj.Kind, obj.Name) + fmt.Sprintf(format, args...)
	if r.use != nil {
		r.use.Problems = append(r.use.Problems, msg)
		return
	}
	r.kept.problems = append(r.kept.problems, msg)
}

// quota records the readable hard values of the ResourceQuota name.
func (r *recorder) quota(name string, hard map[string]*inf.Dec) {
	if r.use != nil {
		r.use.Hard[name] = hard
		return
	}
	r.kept.quotaName, r.kept.hard = name, hard
}

// readHard reads the hard values of a ResourceQuota that parse.
func readHard(o *manifest.Object) map[string]*inf.Dec {
	spec, _ := o.Content["spec"].(map[string]any)
	hard, _ := spec["hard"].(map[string]any)
	out := map[string]*inf.Dec{}
	for name, v := range hard {
		if q, bad := cost.ParseQuantity(v); bad == "" {
			out[name] = q.AsDec()
		}
	}
	return out
}

// hard returns the hard value resource of the quota name in p.
func (u Usage) hard(p Place, name, resource string) (*inf.Dec, bool) {
	use, ok := u[p]
	if !ok {
		return nil, false
	}
	d, ok := use.Hard[name][resource]
	return d, ok
}

// Quota is one ResourceQuota of a desired state held against its namespace.
type Quota struct {
	// Subject is the quota's index in the items it was read from.
	Subject int
	Place
	Name string
	// Resources are the hard values judged, ordered by name.
	Resources []Resource
	// Problems are unreadable quantities of the quota or of the
	// namespace's workloads: the quota cannot be judged on them.
	Problems []string
	// Skipped says why the quota, or some of its hard resources, are not
	// judged (scoped quotas, resources gitvend cannot count).
	Skipped []string
}

// Resource is one hard value of a quota: the limit, the use before the
// change (Used), after it (After), and Share, what the change adds.
type Resource struct {
	Name        string
	Hard        *inf.Dec
	Used, After *inf.Dec
	// Tightened is set when the change brings this hard value: the quota
	// or the value is new, or lower than on the base (always without a
	// base).
	Tightened bool
	// format is the hard value's, used to print amounts alike.
	format resource.Format
}

// Share is what the change adds to the use (negative when it frees some).
func (r Resource) Share() *inf.Dec { return new(inf.Dec).Sub(r.After, r.Used) }

// Headroom is what was left under the hard value before the change
// (negative when the namespace was over already).
func (r Resource) Headroom() *inf.Dec { return new(inf.Dec).Sub(r.Hard, r.Used) }

// Over tells whether the use after the change exceeds the hard value.
func (r Resource) Over() bool { return r.After.Cmp(r.Hard) > 0 }

// Text prints d as a Kubernetes quantity in the hard value's format, such
// as "1500m" or "3Gi", or as a plain decimal number when that form would
// not read back as d (amounts beyond the largest suffix); a negative
// amount gets a minus sign.
func (r Resource) Text(d *inf.Dec) string {
	if d.Sign() < 0 {
		return "-" + r.Text(new(inf.Dec).Neg(d))
	}
	s := resource.NewDecimalQuantity(*d, r.format).String()
	if q, err := resource.ParseQuantity(s); err == nil && q.AsDec().Cmp(d) == 0 {
		return s
	}
	s = d.String()
	if strings.Contains(s, ".") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Measure adds up the use of every place in items: every pod a workload
// may run (replicas, an HPA's maxReplicas, a Job's parallelism) with its
// requests and limits, and the objects that count quotas count.
func Measure(items []Item) Usage {
	u := Usage{}
	scaled := scalers(items)
	for _, it := range items {
		p, ok := placeOf(it)
		if !ok {
			continue
		}
		measureItem(&recorder{use: u.at(p)}, it.Object, hpaMax(scaled, p, it.Object))
	}
	return u
}

// placeOf is the place of it's object; false when there is no object or
// it has no namespace, and so no place.
func placeOf(it Item) (Place, bool) {
	if it.Object == nil || it.Object.Namespace == "" {
		return Place{}, false
	}
	return Place{it.Environment, it.Object.Namespace}, true
}

// hpaMax is the maxReplicas of the HPA scaling o, in p, 0 when none does.
func hpaMax(scaled map[target]scaler, p Place, o *manifest.Object) int64 {
	return target{p, o.Kind, o.Name}.maxReplicas(scaled, o)
}

// measureItem records all that o adds to its place: the counts of its
// kind, its hard values when it is a ResourceQuota, and what it runs or
// claims (hpaMax as for measureObject).
func measureItem(r *recorder, o *manifest.Object, hpaMax int64) {
	for _, name := range counted[o.GroupKind()] {
		r.add(name, one)
	}
	if o.Group() == "" && o.Kind == "ResourceQuota" {
		r.quota(o.Name, readHard(o))
	}
	measureObject(r, o, hpaMax)
}

var one = inf.NewDec(1, 0)

// target names a workload an HPA may scale.
type target struct {
	Place
	kind, name string
}

// scaler is what an HPA says of its target: its API group ("" when the
// HPA leaves it out) and maxReplicas.
type scaler struct {
	group string
	max   int64
}

// scalers maps every workload an HorizontalPodAutoscaler targets to the
// HPA's maxReplicas (the largest, when several target it).
func scalers(items []Item) map[target]scaler {
	out := map[target]scaler{}
	for _, it := range items {
		if t, s, ok := readHPA(it); ok {
			out[t] = stronger(out, t, s)
		}
	}
	return out
}

// readHPA reads the object of it as a HorizontalPodAutoscaler: the
// workload it scales and what it says of it; false for other objects and
// for HPAs without a target or a usable maxReplicas.
func readHPA(it Item) (target, scaler, bool) {
	o := it.Object
	if o == nil || o.Group() != "autoscaling" || o.Kind != "HorizontalPodAutoscaler" {
		return target{}, scaler{}, false
	}
	spec, _ := o.Content["spec"].(map[string]any)
	ref, _ := spec["scaleTargetRef"].(map[string]any)
	kind, _ := ref["kind"].(string)
	name, _ := ref["name"].(string)
	api, _ := ref["apiVersion"].(string)
	n, ok := whole(spec["maxReplicas"])
	if kind == "" || name == "" || !ok || n < 1 {
		return target{}, scaler{}, false
	}
	return target{Place{it.Environment, o.Namespace}, kind, name}, scaler{group: manifest.ID{APIVersion: api}.Group(), max: n}, true
}

// stronger is the scaler of t after s, read after those in out: the
// first with the largest maxReplicas.
func stronger(out map[target]scaler, t target, s scaler) scaler {
	if cur, ok := out[t]; ok && cur.max >= s.max {
		return cur
	}
	return s
}

// maxReplicas is the maxReplicas of the HPA scaling o, 0 when none does.
func (t target) maxReplicas(scaled map[target]scaler, o *manifest.Object) int64 {
	s, ok := scaled[t]
	if !ok || (s.group != "" && s.group != o.Group()) {
		return 0
	}
	return s.max
}

// maxCount bounds replica counts, as the apiserver does (int32).
const maxCount = 1<<31 - 1

// whole reads a whole number from 0 to maxCount.
func whole(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, x >= 0 && x <= maxCount
	case float64:
		return int64(x), x == float64(int64(x)) && x >= 0 && x <= maxCount
	}
	return 0, false
}

// replicas reads the whole number at key of m (def when absent); a value
// that is not one is a problem and counts as def.
func replicas(r *recorder, o *manifest.Object, m map[string]any, key, field string, def int64) int64 {
	v, ok := m[key]
	if !ok || v == nil {
		return def
	}
	n, ok := whole(v)
	if !ok {
		r.problem(o, "%s.%s: must be a whole number from 0 to %d, got %s", field, key, maxCount, short(v))
		return def
	}
	return n
}

// short prints a value for a message, cut to a few dozen characters.
func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "..."
	}
	return s
}

// measureObject records what o runs or claims in r; hpaMax is the
// maxReplicas of an HPA scaling o, 0 when none does.
func measureObject(r *recorder, o *manifest.Object, hpaMax int64) {
	spec, _ := o.Content["spec"].(map[string]any)
	group, kind := o.Group(), o.Kind
	var pods int64
	var podSpec map[string]any
	field := "spec.template.spec"
	switch {
	case group == "" && kind == "Pod":
		pods, podSpec, field = 1, spec, "spec"
	case (group == "apps" && (kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet")),
		group == "" && kind == "ReplicationController":
		pods, podSpec = replicas(r, o, spec, "replicas", "spec", 1), templateSpec(spec)
		if hpaMax > 0 {
			pods = hpaMax
		}
		if kind == "StatefulSet" {
			claims, _ := spec["volumeClaimTemplates"].([]any)
			for i, c := range claims {
				cm, _ := c.(map[string]any)
				measureClaim(r, o, cm, fmt.Sprintf("spec.volumeClaimTemplates[%d]", i), pods)
			}
		}
	case group == "apps" && kind == "DaemonSet":
		// One pod per node; the nodes are not in the desired state.
		pods, podSpec = 1, templateSpec(spec)
	case group == "batch" && kind == "Job":
		pods, podSpec = jobPods(r, o, spec, "spec"), templateSpec(spec)
	case group == "batch" && kind == "CronJob":
		tmpl, _ := spec["jobTemplate"].(map[string]any)
		job, _ := tmpl["spec"].(map[string]any)
		pods, podSpec, field = jobPods(r, o, job, "spec.jobTemplate.spec"), templateSpec(job), "spec.jobTemplate.spec.template.spec"
		if s, _ := spec["suspend"].(bool); s {
			pods = 0
		}
	case group == "" && kind == "PersistentVolumeClaim":
		measureClaim(r, o, o.Content, "", 1)
		return
	case group == "" && kind == "Service":
		// Every port of a NodePort Service takes a node port, and so does
		// every port of a LoadBalancer unless it asks for none.
		t, _ := spec["type"].(string)
		ports, _ := spec["ports"].([]any)
		if t == "LoadBalancer" {
			r.add("services.loadbalancers", one)
		}
		if t == "NodePort" || (t == "LoadBalancer" && spec["allocateLoadBalancerNodePorts"] != false) {
			r.add("services.nodeports", inf.NewDec(int64(len(ports)), 0))
		}
		return
	default:
		return
	}
	if pods == 0 || podSpec == nil {
		return
	}
	n := inf.NewDec(pods, 0)
	r.add("pods", n)
	r.add("count/pods", n)
	requests, limits := podResources(r, o, podSpec, field)
	for name, d := range requests {
		r.add("requests."+name, new(inf.Dec).Mul(d, n))
	}
	for name, d := range limits {
		r.add("limits."+name, new(inf.Dec).Mul(d, n))
	}
}

// jobPods is how many pods a Job (spec at field) runs at a time:
// parallelism, no more than completions, none while suspended.
func jobPods(r *recorder, o *manifest.Object, spec map[string]any, field string) int64 {
	if s, _ := spec["suspend"].(bool); s {
		return 0
	}
	n := replicas(r, o, spec, "parallelism", field, 1)
	if _, ok := spec["completions"]; ok {
		n = min(n, replicas(r, o, spec, "completions", field, n))
	}
	return n
}

func templateSpec(spec map[string]any) map[string]any {
	tmpl, _ := spec["template"].(map[string]any)
	s, _ := tmpl["spec"].(map[string]any)
	return s
}

// measureClaim adds a PersistentVolumeClaim (or a StatefulSet's claim
// template, at field) count times.
func measureClaim(r *recorder, o *manifest.Object, claim map[string]any, field string, count int64) {
	if claim == nil || count == 0 {
		return
	}
	n := inf.NewDec(count, 0)
	if field != "" {
		r.add("persistentvolumeclaims", n)
		r.add("count/persistentvolumeclaims", n)
		field += "."
	}
	spec, _ := claim["spec"].(map[string]any)
	res, _ := spec["resources"].(map[string]any)
	req, _ := res["requests"].(map[string]any)
	raw, ok := req["storage"]
	if !ok {
		return
	}
	q, bad := cost.ParseQuantity(raw)
	if bad != "" {
		r.problem(o, "%sspec.resources.requests.storage: %s", field, bad)
		return
	}
	r.add("requests.storage", new(inf.Dec).Mul(q.AsDec(), n))
}

// amounts is a set of resource quantities by resource name.
type amounts map[string]*inf.Dec

func (a amounts) plus(b amounts) amounts {
	out := amounts{}
	for k, v := range a {
		out[k] = new(inf.Dec).Set(v)
	}
	for k, v := range b {
		if cur, ok := out[k]; ok {
			cur.Add(cur, v)
		} else {
			out[k] = new(inf.Dec).Set(v)
		}
	}
	return out
}

func (a amounts) atLeast(b amounts) amounts {
	out := a.plus(nil)
	for k, v := range b {
		if cur, ok := out[k]; !ok || cur.Cmp(v) < 0 {
			out[k] = new(inf.Dec).Set(v)
		}
	}
	return out
}

// podResources works out a pod's requests and limits as Kubernetes does:
// each resource on its own, the sum of the app containers and sidecars or
// the largest init container with the sidecars started before it when
// that is more; pod-level resources replace the containers' for what they
// set, and the overhead comes on top.
func podResources(r *recorder, o *manifest.Object, spec map[string]any, field string) (requests, limits amounts) {
	var app, sidecars, initPeak [2]amounts
	for i := range 2 {
		app[i], sidecars[i], initPeak[i] = amounts{}, amounts{}, amounts{}
	}
	list := func(key string) []any { l, _ := spec[key].([]any); return l }
	container := func(c any, field string) (map[string]any, bool) {
		cm, ok := c.(map[string]any)
		if !ok {
			r.problem(o, "%s: must be a mapping, got %s", field, short(c))
		}
		return cm, ok
	}
	for i, c := range list("containers") {
		f := fmt.Sprintf("%s.containers[%d]", field, i)
		cm, ok := container(c, f)
		if !ok {
			continue
		}
		cr := containerResources(r, o, cm, f)
		for k := range 2 {
			app[k] = app[k].plus(cr[k])
		}
	}
	for i, c := range list("initContainers") {
		f := fmt.Sprintf("%s.initContainers[%d]", field, i)
		cm, ok := container(c, f)
		if !ok {
			continue
		}
		cr := containerResources(r, o, cm, f)
		sidecar := cm["restartPolicy"] == "Always"
		for k := range 2 {
			if sidecar {
				app[k] = app[k].plus(cr[k])
				sidecars[k] = sidecars[k].plus(cr[k])
				initPeak[k] = initPeak[k].atLeast(sidecars[k])
			} else {
				initPeak[k] = initPeak[k].atLeast(cr[k].plus(sidecars[k]))
			}
		}
	}
	var out [2]amounts
	pod := readResources(r, o, spec, field)
	overhead := readList(r, o, spec["overhead"], field+".overhead")
	for k := range 2 {
		out[k] = app[k].atLeast(initPeak[k])
		for name, v := range pod[k] {
			out[k][name] = v
		}
		for name, v := range overhead {
			// Overhead counts towards limits only for resources that have one.
			if _, limited := out[k][name]; k == 0 || limited {
				out[k] = out[k].plus(amounts{name: v})
			}
		}
	}
	return out[0], out[1]
}

// containerResources reads a container's requests and limits; a missing
// request takes the limit's value, as the apiserver defaults it.
func containerResources(r *recorder, o *manifest.Object, c map[string]any, field string) [2]amounts {
	cr := readResources(r, o, c, field)
	for name, v := range cr[1] {
		if _, ok := cr[0][name]; !ok {
			cr[0][name] = new(inf.Dec).Set(v)
		}
	}
	return cr
}

// readResources reads resources.requests and resources.limits of m.
func readResources(r *recorder, o *manifest.Object, m map[string]any, field string) [2]amounts {
	res, _ := m["resources"].(map[string]any)
	return [2]amounts{
		readList(r, o, res["requests"], field+".resources.requests"),
		readList(r, o, res["limits"], field+".resources.limits"),
	}
}

// readList reads a resource list at field; an unreadable quantity is a
// problem and counts as nothing.
func readList(r *recorder, o *manifest.Object, v any, field string) amounts {
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		r.problem(o, "%s: must be a mapping of resource names to quantities, got %s", field, short(v))
	}
	out := amounts{}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		q, bad := cost.ParseQuantity(m[name])
		if bad != "" {
			r.problem(o, "%s.%s: %s", field, name, bad)
			continue
		}
		out[name] = q.AsDec()
	}
	return out
}

// counted maps a kind, as manifest.ID.GroupKind prints it, to the quota
// resource names an object of it counts one towards: its count/ name,
// such as "count/deployments.apps", and its name without count/ for the
// kinds quotas may count that way.
var counted = countedNames()

func countedNames() map[string][]string {
	out := make(map[string][]string, len(plurals))
	for kind, plural := range plurals {
		names := []string{"count/" + plural}
		if legacy, ok := legacyCounts[plural]; ok {
			names = append(names, legacy)
		}
		out[kind] = names
	}
	return out
}

// plurals names the resources of the kinds count/ quotas usually count.
var plurals = map[string]string{
	"Service": "services", "ConfigMap": "configmaps", "Secret": "secrets",
	"PersistentVolumeClaim": "persistentvolumeclaims", "ReplicationController": "replicationcontrollers",
	"ResourceQuota": "resourcequotas", "ServiceAccount": "serviceaccounts",
	"Deployment.apps": "deployments.apps", "StatefulSet.apps": "statefulsets.apps",
	"DaemonSet.apps": "daemonsets.apps", "ReplicaSet.apps": "replicasets.apps",
	"Job.batch": "jobs.batch", "CronJob.batch": "cronjobs.batch",
	"HorizontalPodAutoscaler.autoscaling":   "horizontalpodautoscalers.autoscaling",
	"Ingress.networking.k8s.io":             "ingresses.networking.k8s.io",
	"NetworkPolicy.networking.k8s.io":       "networkpolicies.networking.k8s.io",
	"PodDisruptionBudget.policy":            "poddisruptionbudgets.policy",
	"Role.rbac.authorization.k8s.io":        "roles.rbac.authorization.k8s.io",
	"RoleBinding.rbac.authorization.k8s.io": "rolebindings.rbac.authorization.k8s.io",
}

// legacyCounts are the object counts a quota may name without count/.
var legacyCounts = map[string]string{
	"services": "services", "configmaps": "configmaps", "secrets": "secrets",
	"replicationcontrollers": "replicationcontrollers", "resourcequotas": "resourcequotas",
}

// judged tells whether gitvend counts the quota resource name, and its
// name in Usage: cpu, memory and ephemeral-storage are requests.
func judged(name string) (string, bool) {
	switch name {
	case "cpu", "memory", "ephemeral-storage":
		return "requests." + name, true
	case "pods", "count/pods", "services.loadbalancers", "services.nodeports", "persistentvolumeclaims", "requests.storage":
		return name, true
	}
	if _, ok := legacyCounts[name]; ok {
		return name, true
	}
	if c, ok := strings.CutPrefix(name, "count/"); ok {
		for _, p := range plurals {
			if p == c {
				return name, true
			}
		}
		return "", false
	}
	if strings.Contains(name, ".storageclass.storage.k8s.io/") {
		return "", false
	}
	if strings.HasPrefix(name, "requests.") || strings.HasPrefix(name, "limits.") {
		return name, true
	}
	return "", false
}

// IsQuota tells whether o is a ResourceQuota Judge judges: one with a
// namespace.
func IsQuota(o *manifest.Object) bool {
	return o != nil && o.Kind == "ResourceQuota" && o.Group() == "" && o.Namespace != ""
}

// Judge holds every ResourceQuota in head against the use of its place in
// head (After) and in base (Used; nil when there is no base, so that
// everything counts as added).
func Judge(head []Item, headUse, baseUse Usage) []Quota {
	var out []Quota
	for i, it := range head {
		o := it.Object
		if !IsQuota(o) {
			continue
		}
		q := Quota{Subject: i, Place: Place{it.Environment, o.Namespace}, Name: o.Name}
		spec, _ := o.Content["spec"].(map[string]any)
		if scopes, _ := spec["scopes"].([]any); len(scopes) > 0 || spec["scopeSelector"] != nil {
			q.Skipped = append(q.Skipped, "it is scoped (spec.scopes or spec.scopeSelector), and gitvend does not judge scoped quotas")
			out = append(out, q)
			continue
		}
		hard, _ := spec["hard"].(map[string]any)
		names := make([]string, 0, len(hard))
		for name := range hard {
			names = append(names, name)
		}
		sort.Strings(names)
		var skipped []string
		for _, name := range names {
			key, ok := judged(name)
			if !ok {
				skipped = append(skipped, name)
				continue
			}
			h, bad := cost.ParseQuantity(hard[name])
			if bad != "" {
				q.Problems = append(q.Problems, fmt.Sprintf("spec.hard.%s: %s", name, bad))
				continue
			}
			r := Resource{Name: name, Hard: h.AsDec(), After: headUse.Amount(q.Place, key), Used: new(inf.Dec), format: h.Format}
			r.Tightened = true
			if baseUse != nil {
				r.Used = baseUse.Amount(q.Place, key)
				if before, ok := baseUse.hard(q.Place, o.Name, name); ok {
					r.Tightened = r.Hard.Cmp(before) < 0
				}
			}
			q.Resources = append(q.Resources, r)
		}
		if len(skipped) > 0 {
			q.Skipped = append(q.Skipped, fmt.Sprintf("gitvend does not count %s", strings.Join(skipped, ", ")))
		}
		if use, ok := headUse[q.Place]; ok {
			q.Problems = append(q.Problems, use.Problems...)
		}
		q.Problems = slices.Compact(q.Problems)
		out = append(out, q)
	}
	return out
}
