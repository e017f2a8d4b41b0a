# RBAC is how a tenant's rights are written down; a single binding or rule
# can hand the whole cluster to everyone. Bindings of the broad built-in
# roles across the cluster, grants to the groups Kubernetes itself manages
# (every authenticated user, every anonymous request, every ServiceAccount),
# rules that match every verb or every resource, and the verbs that step
# around RBAC's own checks are denied.
package gitvend.policies.rbac

import data.gitvend.lib

metadata := {
	"id": "rbac",
	"severity": "deny",
	"title": "RBAC grants",
	"description": "ClusterRoleBindings may not grant the ClusterRoles in clusterBindingRoles, RoleBindings not those in namespaceBindingRoles; no binding may name a system: group or system:anonymous; Roles and ClusterRoles may not use \"*\" as a verb or resource, grant the verbs in forbiddenVerbs, or aggregate into other ClusterRoles.",
	"fix": "Bind a Role of the namespace to the team's own groups, listing the resources and verbs it needs; for a reviewed exception, add it to policy.exceptions in gitvend.yaml.",
	"params": {
		"clusterBindingRoles": {
			"type": "string-array",
			"default": ["cluster-admin", "admin", "edit"],
			"description": "ClusterRoles no ClusterRoleBinding may grant.",
		},
		"namespaceBindingRoles": {
			"type": "string-array",
			"default": ["cluster-admin"],
			"description": "ClusterRoles no RoleBinding may grant, even inside one namespace.",
		},
		"forbiddenVerbs": {
			"type": "string-array",
			"default": ["escalate", "bind", "impersonate"],
			"description": "Verbs no Role or ClusterRole may grant.",
		},
	},
}

params := lib.params(metadata)

bindings := {"RoleBinding.rbac.authorization.k8s.io", "ClusterRoleBinding.rbac.authorization.k8s.io"}

roles := {"Role.rbac.authorization.k8s.io", "ClusterRole.rbac.authorization.k8s.io"}

# binding_roles maps each binding kind to the ClusterRoles it may not grant.
binding_roles := {
	"ClusterRoleBinding.rbac.authorization.k8s.io": {r | some r in params.clusterBindingRoles},
	"RoleBinding.rbac.authorization.k8s.io": {r | some r in params.namespaceBindingRoles},
}

violation contains {
	"subject": i,
	"message": sprintf("%s grants ClusterRole %s %s; bind a Role of the namespace that lists what is needed", [s.object.kind, ref.name, reach(s.groupKind)]),
	"path": ["roleRef", "name"],
} if {
	some i, s in input.subjects
	binding_roles[s.groupKind]
	ref := s.object.roleRef
	object.get(ref, "kind", "") == "ClusterRole"
	binding_roles[s.groupKind][ref.name]
}

violation contains {
	"subject": i,
	"message": sprintf("%s grants its role to %s %s, %s; bind the team's own group instead", [s.object.kind, lower(subj.kind), subj.name, system_subject(subj)]),
	"path": ["subjects", j, "name"],
} if {
	some i, s in input.subjects
	bindings[s.groupKind]
	some j, subj in object.get(s.object, "subjects", [])
	system_subject(subj)
}

violation contains {
	"subject": i,
	"message": sprintf("%s rules[%d] uses \"*\" in %s, which also matches every %s Kubernetes adds later; list the %s it needs", [s.object.kind, j, field, singular[field], field]),
	"path": ["rules", j, field],
} if {
	some i, s in input.subjects
	roles[s.groupKind]
	some j, rule in object.get(s.object, "rules", [])
	some field in ["verbs", "resources"]
	some v in object.get(rule, field, [])
	v == "*"
}

violation contains {
	"subject": i,
	"message": sprintf("%s rules[%d] grants the verb %s, %s; remove it", [s.object.kind, j, verb, verb_reason(verb)]),
	"path": ["rules", j, "verbs"],
} if {
	some i, s in input.subjects
	roles[s.groupKind]
	some j, rule in object.get(s.object, "rules", [])
	some verb in object.get(rule, "verbs", [])
	verb in params.forbiddenVerbs
}

violation contains {
	"subject": i,
	"message": sprintf("ClusterRole is labelled %s, which adds its rules to other ClusterRoles, such as the built-in admin, edit and view, for everyone bound to them; remove the label", [label]),
	"path": ["metadata", "labels", label],
} if {
	some i, s in input.subjects
	s.groupKind == "ClusterRole.rbac.authorization.k8s.io"
	some label, _ in object.get(s.object, ["metadata", "labels"], {})
	startswith(label, "rbac.authorization.k8s.io/aggregate-to-")
}

singular := {"verbs": "verb", "resources": "resource"}

reach("ClusterRoleBinding.rbac.authorization.k8s.io") := "in every namespace of the cluster"

reach("RoleBinding.rbac.authorization.k8s.io") := "in its namespace, including the right to change the namespace's RBAC"

# system_subject describes a subject Kubernetes manages; undefined for others.
system_subject(subj) := "which is every authenticated user of the cluster" if {
	subj.kind == "Group"
	subj.name == "system:authenticated"
} else := "which is every anonymous request" if {
	subj.kind == "Group"
	subj.name == "system:unauthenticated"
} else := "which is every anonymous request" if {
	subj.kind == "User"
	subj.name == "system:anonymous"
} else := "which is every ServiceAccount of the cluster" if {
	subj.kind == "Group"
	subj.name == "system:serviceaccounts"
} else := "a group Kubernetes manages, not a team" if {
	subj.kind == "Group"
	startswith(subj.name, "system:")
}

verb_reason("escalate") := "which lets a Role be given rights its author does not hold"

verb_reason("bind") := "which lets a role be bound without holding its rights"

verb_reason("impersonate") := "which lets requests be made as any other user, group or ServiceAccount"

verb_reason(verb) := "which the platform does not allow" if not verb in {"escalate", "bind", "impersonate"}
