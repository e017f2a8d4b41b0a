package blueprint

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/internal/manifest"
)

// podSpecPath is where each workload kind keeps its pod spec.
var podSpecPath = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

// guardrails returns what the built-in policies (with their default
// settings) would find in objs rendered for in: the restricted security
// context, resources, probes, tags, labels, namespaces and replica limits.
func guardrails(objs []manifest.Object, in Input) []string {
	var found []string
	bad := func(o manifest.Object, format string, args ...any) {
		found = append(found, o.ID.String()+": "+fmt.Sprintf(format, args...))
	}
	get := func(m any, path ...string) any {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		v, _ := manifest.Lookup(mm, path...)
		return v
	}
	for _, o := range objs {
		labels := o.Labels()
		for _, l := range []string{LabelName, LabelOwner, LabelManagedBy, LabelRequest, LabelEnvironment} {
			if labels[l] == "" {
				bad(o, "label %s missing", l)
			}
		}
		namespaced, known := manifest.Scope(o.ID)
		switch {
		case !known:
			bad(o, "kind of unknown scope")
		case namespaced && o.Namespace != in.Namespace:
			bad(o, "namespace %q, want %q", o.Namespace, in.Namespace)
		case !namespaced && (o.Kind != "Namespace" || o.Name != in.Namespace):
			bad(o, "cluster-scoped object other than the request's Namespace")
		}
		if o.Kind == "Service" && get(o.Content, "spec", "type") == "LoadBalancer" {
			bad(o, "LoadBalancer Service")
		}
		for _, f := range [][]string{{"spec", "replicas"}, {"spec", "maxReplicas"}} {
			if n, ok := get(o.Content, f...).(int64); ok && n > 20 {
				bad(o, "%s = %d above 20", strings.Join(f, "."), n)
			}
		}
		path, ok := podSpecPath[o.Kind]
		if !ok {
			continue
		}
		pod := get(o.Content, path...)
		for _, f := range []string{"hostNetwork", "hostPID", "hostIPC"} {
			if get(pod, f) == true {
				bad(o, "%s", f)
			}
		}
		volumes, _ := get(pod, "volumes").([]any)
		for _, v := range volumes {
			if get(v, "hostPath") != nil {
				bad(o, "hostPath volume")
			}
		}
		podSC := get(pod, "securityContext")
		var containers []any
		for _, f := range []string{"initContainers", "containers", "ephemeralContainers"} {
			list, _ := get(pod, f).([]any)
			containers = append(containers, list...)
		}
		longRunning := o.Kind != "Job" && o.Kind != "CronJob" && o.Kind != "Pod"
		for _, c := range containers {
			name := get(c, "name")
			sc := get(c, "securityContext")
			if get(sc, "privileged") == true {
				bad(o, "container %v privileged", name)
			}
			if get(sc, "allowPrivilegeEscalation") != false {
				bad(o, "container %v may escalate privileges", name)
			}
			if get(sc, "runAsNonRoot") != true && get(podSC, "runAsNonRoot") != true {
				bad(o, "container %v may run as root", name)
			}
			if get(sc, "runAsUser") == int64(0) || get(podSC, "runAsUser") == int64(0) {
				bad(o, "container %v runs as user 0", name)
			}
			drop, _ := get(sc, "capabilities", "drop").([]any)
			if len(drop) != 1 || drop[0] != "ALL" {
				bad(o, "container %v does not drop ALL capabilities", name)
			}
			add, _ := get(sc, "capabilities", "add").([]any)
			for _, a := range add {
				if a != "NET_BIND_SERVICE" {
					bad(o, "container %v adds capability %v", name, a)
				}
			}
			image, _ := get(c, "image").(string)
			last := image[strings.LastIndex(image, "/")+1:]
			if !strings.Contains(image, "@sha256:") && (!strings.Contains(last, ":") || strings.HasSuffix(last, ":latest")) {
				bad(o, "container %v image %q has no explicit tag", name, image)
			}
			for _, r := range [][]string{{"requests", "cpu"}, {"requests", "memory"}, {"limits", "memory"}} {
				if get(c, append([]string{"resources"}, r...)...) == nil {
					bad(o, "container %v sets no resources.%s", name, strings.Join(r, "."))
				}
			}
			if get(sc, "readOnlyRootFilesystem") != true {
				bad(o, "container %v has a writable root filesystem", name)
			}
			if get(sc, "seccompProfile", "type") != "RuntimeDefault" && get(podSC, "seccompProfile", "type") != "RuntimeDefault" {
				bad(o, "container %v has no RuntimeDefault seccomp profile", name)
			}
			if longRunning && (get(c, "readinessProbe") == nil || get(c, "livenessProbe") == nil) {
				bad(o, "container %v lacks readiness or liveness probes", name)
			}
		}
	}
	return found
}

func TestBuiltinsPassGuardrails(t *testing.T) {
	for _, bp := range builtin(t).List() {
		t.Run(bp.Name, func(t *testing.T) {
			// With defaults: only required parameters given.
			in := examples[bp.Name]
			in.Parameters = map[string]any{}
			for _, p := range bp.Parameters {
				if p.Required {
					in.Parameters[p.Name] = examples[bp.Name].Parameters[p.Name]
				}
			}
			for _, input := range []Input{in, examples[bp.Name]} {
				out, err := bp.Render(context.Background(), input)
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				for _, f := range guardrails(out.Objects, input) {
					t.Errorf("%v: %s", input.Parameters, f)
				}
			}
		})
	}
}

func TestGuardrailsCatchProblems(t *testing.T) {
	// The check above must be able to fail: a pod spec stripped of its
	// security settings is reported.
	in := demoInput
	objs := []manifest.Object{{
		ID: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "elsewhere", Name: "x"},
		Content: map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"hostNetwork": true,
			"containers":  []any{map[string]any{"name": "c", "image": "nginx"}},
		}}}},
	}}
	got := guardrails(objs, in)
	for _, want := range []string{"label app.kubernetes.io/name missing", `namespace "elsewhere"`, "hostNetwork",
		"may escalate privileges", "may run as root", "does not drop ALL", "has no explicit tag",
		"sets no resources.requests.cpu", "writable root filesystem", "seccomp", "probes"} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("guardrails missed %q; found:\n%s", want, strings.Join(got, "\n"))
		}
	}
}
