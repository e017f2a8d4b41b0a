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
#                                      "monthly", "limit"}]},
#    "quotas": [{"subject", "environment", "namespace", "name",
#                "resources": [{"name", "hard", "used", "after", "share",
#                               "text": {"hard", "used", "after", "share",
#                                        "headroom"}}],
#                "problems": [<unreadable quantity>]}]}
#
# (input.quotas only when the objects hold a ResourceQuota). A quota's
# subject is the index of the ResourceQuota in input.subjects; hard, used
# (before the change), after and share (what the change adds) are exact
# numbers in base units (cores, bytes, objects) and text prints them as
# quantities.
#
# where groupKind and scope (whether the kind is namespaced, "" when
# unknown) are computed by gitvend, and context says where the object comes
# from: the request that rendered it and the namespace that request
# targets ("" for objects written by hand), its owner (the owner named by
# that request's record or, for objects written by hand, the team of
# gitvend.yaml that claims the object's namespace; never the object's own
# label; "" when there is none) and the namespaces that owner may use (null
# when the owner is not a team of gitvend.yaml; a trailing "*" matches a
# prefix).
#
# Every finding a policy reports is an object
#
#   {"subject": <index into input.subjects>,
#    "message": <what is wrong and how to fix it>,
#    "path": <the offending field inside the object: keys as strings, list
#             indexes as numbers; gitvend turns it into a line>}
#
# A finding about no single object (budget) leaves out subject and path
# and may carry "namespace" or "name" instead, which exceptions match.
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
#   {"subject", "gk", "field", "index", "container", "pod_spec", "pod_path"}
#
# where field is initContainers, containers or ephemeralContainers and
# index the container's place in that list. The records stay small and
# cheap to build; label and path below describe a container for findings.
containers := array.concat(
	array.concat(containers_in("initContainers"), containers_in("containers")),
	containers_in("ephemeralContainers"),
)

# containers_in lists the containers in the pod spec field field.
containers_in(field) := [c |
	some pod in pods
	list := pod.spec[field]
	is_array(list)
	some j, container in list
	is_object(container)
	c := {
		"subject": pod.subject,
		"gk": pod.gk,
		"field": field,
		"index": j,
		"container": container,
		"pod_spec": pod.spec,
		"pod_path": pod.path,
	}
]

# label names the container c for messages, such as "init container setup".
label(c) := sprintf("%s %s", [container_fields[c.field], object.get(c.container, "name", sprintf("#%d", [c.index]))])

# path returns the path of the field rel below the container c.
path(c, rel) := array.concat(c.pod_path, array.concat([c.field, c.index], rel))

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
