# Helpers shared by gitvend's policies.
#
# The input every policy reads is
#
#   {"subjects": [{"object": <Kubernetes object>,
#                  "groupKind": "Kind" (core group) or "Kind.group",
#                  "scope": "namespaced" | "cluster" | "",
#                  "context": {"environment", "request", "owner", "namespace",
#                              "allowedNamespaces"}}],
#    "params": {<policy id>: {<param>: <value>}},
#    "cost": {"currency", "budgets": [{"scope", "name", "environment",
#                                      "monthly", "limit"}]}}
#
# and every finding a policy reports is an object
#
#   {"subject": <index into input.subjects>, "message": <text>,
#    "path": <field path inside the object, keys as strings, list indexes as numbers>}
package gitvend.lib

# pod_spec_paths maps the "Kind.group" of every kind that carries a pod spec
# ("Kind" for the core group) to the path of that pod spec.
pod_spec_paths := {
	"Pod": ["spec"],
	"ReplicationController": ["spec", "template", "spec"],
	"Deployment.apps": ["spec", "template", "spec"],
	"StatefulSet.apps": ["spec", "template", "spec"],
	"DaemonSet.apps": ["spec", "template", "spec"],
	"ReplicaSet.apps": ["spec", "template", "spec"],
	"Job.batch": ["spec", "template", "spec"],
	"CronJob.batch": ["spec", "jobTemplate", "spec", "template", "spec"],
}

# long_running lists the pod-template kinds whose pods are meant to keep
# running, as opposed to Jobs, CronJobs and bare Pods.
long_running := {
	"ReplicationController",
	"Deployment.apps",
	"StatefulSet.apps",
	"DaemonSet.apps",
	"ReplicaSet.apps",
}

# container_fields are the pod spec fields that hold containers, with the
# words messages use for them.
container_fields := {
	"initContainers": "init container",
	"containers": "container",
	"ephemeralContainers": "ephemeral container",
}

# group_kind returns "Kind" for the core group and "Kind.group" otherwise.
group_kind(obj) := obj.kind if {
	not contains(obj.apiVersion, "/")
}

group_kind(obj) := concat(".", [obj.kind, split(obj.apiVersion, "/")[0]]) if {
	contains(obj.apiVersion, "/")
}

# pods lists every pod spec in the input: {"subject", "gk", "spec", "path"}.
pods := [pod |
	some i, s in input.subjects
	path := pod_spec_paths[s.groupKind]
	spec := object.get(s.object, path, null)
	is_object(spec)
	pod := {"subject": i, "gk": s.groupKind, "spec": spec, "path": path}
]

# containers lists every container of every pod spec as
#
#   {"subject", "gk", "field", "container", "path", "label", "sc",
#    "pod_path", "pod_sc"}
#
# where field is initContainers, containers or ephemeralContainers, path
# leads to the container, label names it for messages ("init container
# setup"), sc is its securityContext and pod_sc the pod's ({} when unset).
containers := [c |
	some pod in pods
	pod_sc := as_object(object.get(pod.spec, "securityContext", {}))
	some field, word in container_fields
	list := object.get(pod.spec, field, [])
	is_array(list)
	some j, container in list
	is_object(container)
	c := {
		"subject": pod.subject,
		"gk": pod.gk,
		"field": field,
		"container": container,
		"path": array.concat(pod.path, [field, j]),
		"label": sprintf("%s %s", [word, object.get(container, "name", sprintf("#%d", [j]))]),
		"sc": as_object(object.get(container, "securityContext", {})),
		"pod_path": pod.path,
		"pod_sc": pod_sc,
	}
]

# as_object returns x when it is an object and {} otherwise (such as an
# empty securityContext, which YAML reads as null).
as_object(x) := x if {
	is_object(x)
} else := {}

# params returns the parameters of the policy described by meta: the values
# set in input.params[meta.id] over the defaults the policy declares.
params(meta) := {name: value |
	some name, spec in meta.params
	value := object.get(input, ["params", meta.id, name], spec.default)
}

# has_prefix tells whether s starts with one of the strings in prefixes.
has_prefix(s, prefixes) if {
	some p in prefixes
	startswith(s, p)
}

# namespace_matches tells whether ns is one of patterns, where a pattern
# ending in "*" matches a prefix.
namespace_matches(ns, patterns) if {
	some p in patterns
	p == ns
}

namespace_matches(ns, patterns) if {
	some p in patterns
	endswith(p, "*")
	startswith(ns, trim_suffix(p, "*"))
}
