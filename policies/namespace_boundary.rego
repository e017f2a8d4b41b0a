# Tenancy: what a request renders stays in the namespace it targets, what
# a team writes by hand stays in the team's namespaces, and cluster-scoped
# objects, which every tenant shares, need the platform's permission.
package gitvend.policies.namespace_boundary

import data.gitvend.lib

metadata := {
	"id": "namespace-boundary",
	"severity": "deny",
	"title": "Namespace boundary",
	"description": "A namespaced object must be in the namespace its request targets or, for objects not from a request, in one of its owner's namespaces. Cluster-scoped objects are allowed only for the kinds in policy.clusterScopedKinds, and a request may create the Namespace it targets.",
	"fix": "Set metadata.namespace to the request's namespace; to allow a cluster-scoped kind, add it to policy.clusterScopedKinds in gitvend.yaml.",
	"params": {"clusterScopedKinds": {
		"type": "string-array",
		"default": [],
		"description": "Cluster-scoped kinds objects may have, as Kind or Kind.group; policy.clusterScopedKinds of gitvend.yaml adds to it.",
	}},
}

params := lib.params(metadata)

# Subjects are checked in passes that each skip the usual case quickly: an
# object in its request's namespace, an object from a request, and any
# object of a namespaced kind.

violation contains finding if {
	some i, s in input.subjects
	ns := object.get(s.object, ["metadata", "namespace"], "")
	ns != s.context.namespace
	f := namespace_problem(s, ns)
	finding := {"subject": i, "message": f[0], "path": f[1]}
}

violation contains finding if {
	some i, s in input.subjects
	s.context.namespace == ""
	s.scope == "namespaced"
	object.get(s.object, ["metadata", "namespace"], "") == ""
	f := namespace_problem(s, "")
	finding := {"subject": i, "message": f[0], "path": f[1]}
}

violation contains finding if {
	some i, s in input.subjects
	s.scope != "namespaced"
	f := cluster_problem(s)
	finding := {"subject": i, "message": f[0], "path": f[1]}
}

# namespace_problem returns [message, path] when the namespace ns of a
# namespaced subject s is wrong.
namespace_problem(s, "") := [
	sprintf("%s has no metadata.namespace; %s", [s.object.kind, target(s.context)]),
	["metadata", "namespace"],
] if {
	s.scope == "namespaced"
}

namespace_problem(s, ns) := [
	sprintf("%s is in namespace %s, but its request targets namespace %s; move it to %s", [s.object.kind, ns, s.context.namespace, s.context.namespace]),
	["metadata", "namespace"],
] if {
	ns != ""
	s.context.namespace != ""
	namespaced(s)
}

namespace_problem(s, ns) := [
	sprintf("%s is in namespace %s, which %s may not use; move it to one of %s", [s.object.kind, ns, owner(s.context), concat(", ", s.context.allowedNamespaces)]),
	["metadata", "namespace"],
] if {
	ns != ""
	s.context.namespace == ""
	is_array(s.context.allowedNamespaces)
	namespaced(s)
	not lib.namespace_matches(ns, s.context.allowedNamespaces)
}

# cluster_problem returns [message, path] when s, which is not known to be
# namespaced, is a cluster-scoped object it may not create.
cluster_problem(s) := [
	sprintf("Namespace %s is not a namespace %s may create; %s", [name(s.object), owner(s.context), namespace_hint(s.context)]),
	["metadata", "name"],
] if {
	s.groupKind == "Namespace"
	not own_namespace(s)
	not allowed_kind(s)
}

cluster_problem(s) := [
	sprintf("%s is cluster-scoped and shared by every tenant; %s (policy.clusterScopedKinds in gitvend.yaml)", [s.groupKind, allowed_kinds_text]),
	["kind"],
] if {
	s.scope == "cluster"
	s.groupKind != "Namespace"
	not allowed_kind(s)
}

cluster_problem(s) := [
	sprintf("%s has no metadata.namespace; %s, or, if %s is cluster-scoped, add it to policy.clusterScopedKinds in gitvend.yaml", [s.groupKind, target(s.context), s.object.kind]),
	["metadata", "namespace"],
] if {
	s.scope == ""
	object.get(s.object, ["metadata", "namespace"], "") == ""
	not allowed_kind(s)
}

name(obj) := object.get(obj, ["metadata", "name"], "")

# namespaced tells whether s is namespaced: its kind is, or its kind is
# unknown and it names a namespace.
namespaced(s) if s.scope == "namespaced"

namespaced(s) if {
	s.scope == ""
	object.get(s.object, ["metadata", "namespace"], "") != ""
}

allowed_kinds := {k | some k in params.clusterScopedKinds}

# allowed_kind tells whether the subject's kind is in the allow-list, as
# Kind or as Kind.group.
allowed_kind(s) if allowed_kinds[s.groupKind]

allowed_kind(s) if allowed_kinds[s.object.kind]

# own_namespace tells whether the Namespace s is one its subject may create.
own_namespace(s) if {
	s.context.namespace != ""
	name(s.object) == s.context.namespace
}

own_namespace(s) if {
	s.context.namespace == ""
	is_array(s.context.allowedNamespaces)
	lib.namespace_matches(name(s.object), s.context.allowedNamespaces)
}

owner(ctx) := sprintf("team %s", [ctx.owner]) if {
	ctx.owner != ""
} else := "its owner"

target(ctx) := sprintf("set it to %s", [ctx.namespace]) if {
	ctx.namespace != ""
} else := sprintf("set it to one of the namespaces %s may use (%s)", [owner(ctx), concat(", ", ctx.allowedNamespaces)]) if {
	is_array(ctx.allowedNamespaces)
} else := "set it"

namespace_hint(ctx) := sprintf("a request may only create the namespace it targets, %s", [ctx.namespace]) if {
	ctx.namespace != ""
} else := sprintf("allowed are %s", [concat(", ", ctx.allowedNamespaces)]) if {
	is_array(ctx.allowedNamespaces)
} else := "add Namespace to policy.clusterScopedKinds in gitvend.yaml to allow it"

allowed_kinds_text := "none are allowed" if {
	count(params.clusterScopedKinds) == 0
} else := sprintf("allowed are %s", [concat(", ", params.clusterScopedKinds)])
