# Tenancy: what a request renders stays in the namespace it targets, which
# its owner must be allowed to use, what is written by hand stays in
# namespaces a team of gitvend.yaml claims, and cluster-scoped objects,
# which every tenant shares, need the platform's permission. The owner in
# each subject's context comes from where the object lies (the request
# record that rendered it, or the team that claims its namespace), never
# from the object's own gitvend.dev/owner label, which must agree with it.
package gitvend.policies.namespace_boundary

import data.gitvend.lib

metadata := {
	"id": "namespace-boundary",
	"severity": "deny",
	"title": "Namespace boundary",
	"description": "A namespaced object must be in the namespace its request targets, which the request's owner must be allowed to use, or, for objects not from a request, in a namespace a team of gitvend.yaml claims. The owner comes from the object's path and the team map, and its gitvend.dev/owner label must name it. Cluster-scoped objects are allowed only for the kinds in policy.clusterScopedKinds, and a request may create the Namespace it targets.",
	"fix": "Set metadata.namespace to the request's namespace; give every request record an owner from the teams of gitvend.yaml that may use its namespace; to allow a cluster-scoped kind, add it to policy.clusterScopedKinds in gitvend.yaml.",
	"params": {"clusterScopedKinds": {
		"type": "string-array",
		"default": [],
		"description": "Cluster-scoped kinds objects may have, as Kind or Kind.group; policy.clusterScopedKinds of gitvend.yaml adds to it.",
	}},
}

params := lib.params(metadata)

# Subjects are checked in passes that each skip the usual case quickly: an
# object in its request's namespace, an object from a request, any object
# of a namespaced kind, an owner that is known and may use the request's
# namespace, and a label that agrees with the owner.

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

violation contains finding if {
	some i, s in input.subjects
	not is_array(s.context.allowedNamespaces)
	f := owner_problem(s)
	finding := {"subject": i, "message": f, "path": ["metadata", "namespace"]}
}

violation contains finding if {
	some i, s in input.subjects
	s.context.namespace != ""
	is_array(s.context.allowedNamespaces)
	not lib.namespace_matches(s.context.namespace, s.context.allowedNamespaces)
	finding := {
		"subject": i,
		"message": sprintf("%s comes from request %s for namespace %s, which team %s may not use; team %s may use %s", [s.object.kind, s.context.request, s.context.namespace, s.context.owner, s.context.owner, namespaces_text(s.context.allowedNamespaces)]),
		"path": ["metadata", "namespace"],
	}
}

violation contains finding if {
	some i, s in input.subjects
	s.context.owner != ""
	label := object.get(s.object, ["metadata", "labels", owner_label], s.context.owner)
	label != s.context.owner
	finding := {
		"subject": i,
		"message": sprintf("%s is labelled %s: %v, but it belongs to team %s (%s); set the label to %s", [s.object.kind, owner_label, label, s.context.owner, owner_source(s.context), s.context.owner]),
		"path": ["metadata", "labels", owner_label],
	}
}

namespaces_text(list) := concat(", ", list) if {
	count(list) > 0
} else := "no namespace"

# owner_label names an object's owner for cost reports; gitvend sets it on
# what it renders.
owner_label := "gitvend.dev/owner"

# owner_problem returns the message for a subject s whose owner is not a
# team of gitvend.yaml.
owner_problem(s) := sprintf("%s comes from request %s, which has no valid record %s to name its owner; add the record, or move the object out of requests/", [s.object.kind, s.context.request, record(s.context)]) if {
	s.context.request != ""
	s.context.owner == ""
} else := sprintf("%s comes from request %s, whose owner %s is not a team of gitvend.yaml; set spec.owner in %s to a team that may use namespace %s", [s.object.kind, s.context.request, s.context.owner, record(s.context), s.context.namespace]) if {
	s.context.request != ""
} else := sprintf("%s is in namespace %s, which no team of gitvend.yaml claims, so it has no owner; add the namespace to a team's namespaces in gitvend.yaml (a bare \"*\" claims none)", [s.object.kind, ns]) if {
	namespaced(s)
	ns := object.get(s.object, ["metadata", "namespace"], "")
	ns != ""
}

# record is the path of the request record of ctx.
record(ctx) := sprintf("requests/%s/%s/%s.yaml", [ctx.environment, ctx.namespace, ctx.request])

# owner_source says where the owner of ctx comes from.
owner_source(ctx) := sprintf("the owner of request %s", [ctx.request]) if {
	ctx.request != ""
} else := "the team that claims its namespace"

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
# Kind.group, or as a bare Kind that names a built-in Kubernetes kind: a bare
# entry never admits a custom kind of the same name from another group
# (scope "cluster" is set only for built-in kinds).
allowed_kind(s) if allowed_kinds[s.groupKind]

allowed_kind(s) if {
	allowed_kinds[s.object.kind]
	s.scope == "cluster"
}

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
} else := "no team of gitvend.yaml claims it; add it to a team's namespaces, or add Namespace to policy.clusterScopedKinds in gitvend.yaml to allow it"

allowed_kinds_text := "none are allowed" if {
	count(params.clusterScopedKinds) == 0
} else := sprintf("allowed are %s", [concat(", ", params.clusterScopedKinds)])
