# Fixtures for the policies' unit tests: objects of every kind that carries
# a pod spec, and the input gitvend builds around them.
package gitvend.lib.fixtures

import data.gitvend.lib

# pod_kinds maps every kind that carries a pod spec to its apiVersion and
# the path of its pod spec.
pod_kinds := {
	"Pod": {"apiVersion": "v1", "path": ["spec"]},
	"ReplicationController": {"apiVersion": "v1", "path": ["spec", "template", "spec"]},
	"Deployment": {"apiVersion": "apps/v1", "path": ["spec", "template", "spec"]},
	"StatefulSet": {"apiVersion": "apps/v1", "path": ["spec", "template", "spec"]},
	"DaemonSet": {"apiVersion": "apps/v1", "path": ["spec", "template", "spec"]},
	"ReplicaSet": {"apiVersion": "apps/v1", "path": ["spec", "template", "spec"]},
	"Job": {"apiVersion": "batch/v1", "path": ["spec", "template", "spec"]},
	"CronJob": {"apiVersion": "batch/v1", "path": ["spec", "jobTemplate", "spec", "template", "spec"]},
}

# long_running_kinds are the kinds the probes policy applies to.
long_running_kinds := {"ReplicationController", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}

# labels are the labels every rendered object carries.
labels := {
	"app.kubernetes.io/managed-by": "gitvend",
	"app.kubernetes.io/name": "app",
	"gitvend.dev/owner": "payments",
	"gitvend.dev/request": "app",
	"gitvend.dev/environment": "dev",
}

# context is the context of an object rendered from a request in team-a.
context := {
	"environment": "dev",
	"request": "app",
	"owner": "payments",
	"namespace": "team-a",
	"allowedNamespaces": ["team-a"],
}

# nest places spec at path.
nest(["spec"], spec) := {"spec": spec}

nest(["spec", "template", "spec"], spec) := {"spec": {"template": {"spec": spec}}}

nest(["spec", "jobTemplate", "spec", "template", "spec"], spec) := {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}}

# workload returns an object of kind holding the pod spec spec.
workload(kind, spec) := object.union(
	{
		"apiVersion": pod_kinds[kind].apiVersion,
		"kind": kind,
		"metadata": {"name": "app", "namespace": "team-a", "labels": labels},
	},
	nest(pod_kinds[kind].path, spec),
)

# path returns the path of rel below the pod spec of kind.
path(kind, rel) := array.concat(pod_kinds[kind].path, rel)

# container is a container that passes every container policy.
container := {
	"name": "app",
	"image": "ghcr.io/acme/app:1.4.2",
	"securityContext": {
		"allowPrivilegeEscalation": false,
		"runAsNonRoot": true,
		"readOnlyRootFilesystem": true,
		"capabilities": {"drop": ["ALL"]},
	},
	"resources": {
		"requests": {"cpu": "100m", "memory": "128Mi"},
		"limits": {"memory": "256Mi"},
	},
	"readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
	"livenessProbe": {"httpGet": {"path": "/live", "port": 8080}},
}

# pod_spec is a pod spec that passes every policy.
pod_spec := {"containers": [container]}

# subject wraps obj as gitvend does, with the scope and context given.
subject(obj, scope, ctx) := {"object": obj, "groupKind": lib.group_kind(obj), "scope": scope, "context": ctx}

# input_for wraps objects as namespaced subjects of one request for team-a.
input_for(objects) := {"subjects": [subject(obj, "namespaced", context) | some obj in objects]}
