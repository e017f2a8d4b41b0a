package cost

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// usage is what a container or a pod reserves on a node: CPU cores, GiB of
// memory and GPUs.
type usage struct {
	cpu, ramGiB, gpu float64
}

func (a usage) plus(b usage) usage {
	return usage{cpu: a.cpu + b.cpu, ramGiB: a.ramGiB + b.ramGiB, gpu: a.gpu + b.gpu}
}

// atLeast returns the larger of a and b for each resource on its own.
func (a usage) atLeast(b usage) usage {
	return usage{cpu: max(a.cpu, b.cpu), ramGiB: max(a.ramGiB, b.ramGiB), gpu: max(a.gpu, b.gpu)}
}

// pod is the estimate of one pod of a workload.
type pod struct {
	usage
	// storageGB is the size of the claims made for this pod alone: generic
	// ephemeral volumes and, for StatefulSets, volumeClaimTemplates.
	storageGB float64
	// spot says why the pod runs on spot capacity; empty for regular capacity.
	spot string
}

// hourly is the price of running the pod for one hour.
func (p pod) hourly(pr Prices) float64 {
	cpu, ram := pr.CPU, pr.RAMGiB
	if p.spot != "" {
		cpu, ram = pr.SpotCPU, pr.SpotRAMGiB
	}
	return p.cpu*cpu + p.ramGiB*ram + p.gpu*pr.GPU + p.storageGB*pr.StorageGB
}

// estimatePod works out what a pod with spec (found at path, such as
// "spec.template.spec") reserves, the way the scheduler counts it: the sum of
// the app containers and sidecars, or the largest init container plus the
// sidecars started before it when that is more, each resource on its own;
// pod-level requests replace the containers' sum for the resources they
// set, and the runtime overhead comes on top.
func estimatePod(spec map[string]any, path string, n *notes) pod {
	if spec == nil {
		n.add("%s: missing; the pod is costed at 0", path)
		return pod{}
	}
	var p pod
	podRes := mapAt(spec, "resources", path, n)
	checkResources(podRes, path, n)
	podCPU, hasPodCPU := resourceValue(podRes, path, "the pod", "cpu", n)
	podMem, hasPodMem := resourceValue(podRes, path, "the pod", "memory", n)

	var app usage
	for i, c := range listAt(spec, "containers", path, n) {
		field := path + ".containers[" + strconv.Itoa(i) + "]"
		cm, ok := c.(map[string]any)
		if !ok {
			n.add("%s: must be a mapping, got a %s; costed at 0", field, typeName(c))
			continue
		}
		app = app.plus(containerUsage(cm, field, !hasPodCPU, !hasPodMem, n))
	}
	// Sidecars (init containers that restart always) run beside the app
	// containers; each regular init container runs alone with the
	// sidecars declared before it.
	var sidecars, initPeak usage
	for i, c := range listAt(spec, "initContainers", path, n) {
		field := path + ".initContainers[" + strconv.Itoa(i) + "]"
		cm, ok := c.(map[string]any)
		if !ok {
			n.add("%s: must be a mapping, got a %s; costed at 0", field, typeName(c))
			continue
		}
		if policy, _ := cm["restartPolicy"].(string); policy == "Always" {
			u := containerUsage(cm, field, !hasPodCPU, !hasPodMem, n)
			app = app.plus(u)
			sidecars = sidecars.plus(u)
			initPeak = initPeak.atLeast(sidecars)
			continue
		}
		initPeak = initPeak.atLeast(containerUsage(cm, field, false, false, n).plus(sidecars))
	}
	p.usage = app.atLeast(initPeak)
	if hasPodCPU {
		p.cpu = podCPU
	}
	if hasPodMem {
		p.ramGiB = podMem / bytesPerGiB
	}
	if overhead := mapAt(spec, "overhead", path, n); overhead != nil {
		for _, res := range []string{"cpu", "memory"} {
			v, ok := overhead[res]
			if !ok {
				continue
			}
			q, bad := quantity(v)
			if bad != "" {
				n.add("%s.overhead.%s: %s; costed at 0", path, res, bad)
				continue
			}
			if res == "cpu" {
				p.cpu += q
			} else {
				p.ramGiB += q / bytesPerGiB
			}
		}
	}
	p.storageGB = ephemeralStorageGB(spec, path, n)
	p.spot = spotReason(spec, path, n)
	return p
}

// containerUsage reads one container's requests. A missing CPU or memory
// request costs 0 and, when flag is set for it, adds a note.
func containerUsage(c map[string]any, field string, flagCPU, flagMem bool, n *notes) usage {
	who := "container"
	if name, ok := c["name"].(string); ok && name != "" {
		who = fmt.Sprintf("container %q", name)
	}
	res := mapAt(c, "resources", field, n)
	checkResources(res, field, n)
	var u usage
	cpu, ok := resourceValue(res, field, who, "cpu", n)
	if !ok && flagCPU {
		n.add("%s has no cpu request (%s.resources.requests.cpu); costed at 0", who, field)
	}
	u.cpu = cpu
	mem, ok := resourceValue(res, field, who, "memory", n)
	if !ok && flagMem {
		n.add("%s has no memory request (%s.resources.requests.memory); costed at 0", who, field)
	}
	u.ramGiB = mem / bytesPerGiB
	u.gpu = gpus(res, field, n)
	return u
}

// checkResources notes requests or limits of the resources block res at
// field that are not mappings; they are ignored.
func checkResources(res map[string]any, field string, n *notes) {
	for _, k := range [2]string{"requests", "limits"} {
		if v := res[k]; v != nil {
			if _, ok := v.(map[string]any); !ok {
				n.add("%s.resources.%s: must be a mapping, got a %s; ignored", field, k, typeName(v))
			}
		}
	}
}

// resourceValue reads resource name from the resources block res of a
// container or pod spec found at field (requests, with limits in their
// place when the request is missing, as Kubernetes defaults them). found is
// false when neither sets it; a value that is set but invalid counts as
// found, costs 0 and gets a note.
func resourceValue(res map[string]any, field, who, name string, n *notes) (v float64, found bool) {
	if res == nil {
		return 0, false
	}
	requests, _ := res["requests"].(map[string]any)
	if raw, ok := requests[name]; ok {
		q, bad := quantity(raw)
		if bad != "" {
			n.add("%s.resources.requests.%s: %s; costed at 0", field, name, bad)
		}
		return q, true
	}
	limits, _ := res["limits"].(map[string]any)
	if raw, ok := limits[name]; ok {
		q, bad := quantity(raw)
		if bad != "" {
			n.add("%s.resources.limits.%s: %s; costed at 0", field, name, bad)
			return 0, true
		}
		n.add("%s has no %s request; costed at its limit, which Kubernetes uses as the request", who, name)
		return q, true
	}
	return 0, false
}

// isGPU tells whether a resource name is a GPU of a well-known vendor.
func isGPU(name string) bool {
	return name == "nvidia.com/gpu" || name == "amd.com/gpu" || strings.HasPrefix(name, "gpu.intel.com/")
}

// gpus counts the GPUs the resources block res of a container at field asks
// for. Extended resources are usually set as limits only, which Kubernetes
// copies to the requests.
func gpus(res map[string]any, field string, n *notes) float64 {
	if res == nil {
		return 0
	}
	requests, _ := res["requests"].(map[string]any)
	limits, _ := res["limits"].(map[string]any)
	var names []string
	for k := range requests {
		if isGPU(k) {
			names = append(names, k)
		}
	}
	for k := range limits {
		if _, dup := requests[k]; !dup && isGPU(k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var total float64
	for _, name := range names {
		raw, where := requests[name], "requests"
		if _, ok := requests[name]; !ok {
			raw, where = limits[name], "limits"
		}
		q, bad := quantity(raw)
		if bad != "" {
			n.add("%s.resources.%s.%s: %s; costed at 0", field, where, name, bad)
			continue
		}
		total += q
	}
	return total
}

// ephemeralStorageGB sums the claims of generic ephemeral volumes, which
// Kubernetes creates once for every pod.
func ephemeralStorageGB(spec map[string]any, path string, n *notes) float64 {
	var total float64
	for i, v := range listAt(spec, "volumes", path, n) {
		vm, ok := v.(map[string]any)
		if !ok || vm["ephemeral"] == nil {
			continue
		}
		field := path + ".volumes[" + strconv.Itoa(i) + "]"
		eph := mapAt(vm, "ephemeral", field, n)
		if eph == nil {
			continue
		}
		field += ".ephemeral"
		tmpl := mapAt(eph, "volumeClaimTemplate", field, n)
		total += claimGB(tmpl, field+".volumeClaimTemplate", n)
	}
	return total
}

// claimGB reads spec.resources.requests.storage of a PersistentVolumeClaim
// or claim template, in GB; a missing or bad size costs 0 with a note.
// field is the claim's own path, "" for a PersistentVolumeClaim object.
func claimGB(claim map[string]any, field string, n *notes) float64 {
	base := "spec"
	if field != "" {
		base = field + ".spec"
	}
	spec := mapAt(claim, "spec", field, n)
	res := mapAt(spec, "resources", base, n)
	requests := mapAt(res, "requests", base+".resources", n)
	raw, ok := requests["storage"]
	if !ok {
		n.add("%s.resources.requests.storage: missing; the claim is costed at 0", base)
		return 0
	}
	q, bad := quantity(raw)
	if bad != "" {
		n.add("%s.resources.requests.storage: %s; costed at 0", base, bad)
		return 0
	}
	return q / bytesPerGB
}

// spotValue returns the value a well-known node label has on spot capacity.
func spotValue(label string) (string, bool) {
	switch label {
	case "karpenter.sh/capacity-type":
		return "spot", true
	case "cloud.google.com/gke-spot", "cloud.google.com/gke-preemptible":
		return "true", true
	case "eks.amazonaws.com/capacityType":
		return "SPOT", true
	case "kubernetes.azure.com/scalesetpriority":
		return "spot", true
	case "gitvend.dev/capacity":
		return "spot", true
	}
	return "", false
}

// spotReason tells why a pod can only run on spot capacity: a nodeSelector
// on a well-known spot label, or a required node affinity whose every term
// asks for one. It returns "" for pods that may run on regular capacity.
func spotReason(spec map[string]any, path string, n *notes) string {
	if sel := mapAt(spec, "nodeSelector", path, n); sel != nil {
		keys := make([]string, 0, len(sel))
		for k := range sel {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			want, known := spotValue(k)
			if v, _ := sel[k].(string); known && strings.EqualFold(v, want) {
				return fmt.Sprintf("nodeSelector %s=%s", k, v)
			}
		}
	}
	aff, _ := spec["affinity"].(map[string]any)
	node, _ := aff["nodeAffinity"].(map[string]any)
	req, _ := node["requiredDuringSchedulingIgnoredDuringExecution"].(map[string]any)
	terms, _ := req["nodeSelectorTerms"].([]any)
	if len(terms) == 0 {
		return ""
	}
	// Terms are alternatives: the pod is bound to spot capacity only when
	// every one of them is.
	var reason string
	for _, t := range terms {
		r := termSpot(t)
		if r == "" {
			return ""
		}
		if reason == "" {
			reason = r
		}
	}
	return "required node affinity " + reason
}

// termSpot returns the expression of a node selector term that requires a
// spot label, or "".
func termSpot(t any) string {
	tm, _ := t.(map[string]any)
	exprs, _ := tm["matchExpressions"].([]any)
	for _, e := range exprs {
		em, _ := e.(map[string]any)
		key, _ := em["key"].(string)
		op, _ := em["operator"].(string)
		values, _ := em["values"].([]any)
		want, known := spotValue(key)
		if !known || op != "In" || len(values) == 0 {
			continue
		}
		all := true
		strs := make([]string, 0, len(values))
		for _, v := range values {
			s, _ := v.(string)
			if !strings.EqualFold(s, want) {
				all = false
				break
			}
			strs = append(strs, s)
		}
		if all {
			return fmt.Sprintf("%s In [%s]", key, strings.Join(strs, ", "))
		}
	}
	return ""
}
