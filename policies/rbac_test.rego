package gitvend.policies.rbac_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.rbac as policy

rbac := "rbac.authorization.k8s.io/v1"

binding(kind, role_kind, role, subjects) := {
	"apiVersion": rbac,
	"kind": kind,
	"metadata": {"name": "b", "namespace": "team-a"},
	"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
	"subjects": subjects,
}

team_group := {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "payments-admins"}

group(name) := {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name}

role(kind, rules) := {"apiVersion": rbac, "kind": kind, "metadata": {"name": "r", "namespace": "team-a"}, "rules": rules}

findings(objects) := got if {
	got := policy.violation with input as fixtures.input_for(objects)
}

findings_with(objects, params) := got if {
	got := policy.violation with input as object.union(fixtures.input_for(objects), {"params": {"rbac": params}})
}

messages(got) := {f.message | some f in got}

test_team_roles_and_bindings_pass if {
	count(findings([
		role("Role", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]),
		binding("RoleBinding", "Role", "r", [team_group, {"kind": "ServiceAccount", "name": "app", "namespace": "team-a"}]),
		binding("RoleBinding", "ClusterRole", "edit", [team_group]),
		binding("RoleBinding", "ClusterRole", "view", [team_group]),
		binding("ClusterRoleBinding", "ClusterRole", "reader", [team_group]),
	])) == 0
}

test_cluster_wide_broad_roles_denied[name] if {
	some name in ["cluster-admin", "admin", "edit"]
	findings([binding("ClusterRoleBinding", "ClusterRole", name, [team_group])]) == {{
		"subject": 0,
		"message": sprintf("ClusterRoleBinding grants ClusterRole %s in every namespace of the cluster; bind a Role of the namespace that lists what is needed", [name]),
		"path": ["roleRef", "name"],
	}}
}

test_cluster_admin_in_a_namespace_denied if {
	findings([binding("RoleBinding", "ClusterRole", "cluster-admin", [team_group])]) == {{
		"subject": 0,
		"message": "RoleBinding grants ClusterRole cluster-admin in its namespace, including the right to change the namespace's RBAC; bind a Role of the namespace that lists what is needed",
		"path": ["roleRef", "name"],
	}}
}

# A Role that happens to be called cluster-admin is the namespace's own.
test_role_named_like_cluster_role_allowed if {
	count(findings([binding("RoleBinding", "Role", "cluster-admin", [team_group])])) == 0
}

# The attack: cluster-admin for every authenticated user, labelled as if
# the platform owned it.
test_cluster_admin_for_everyone if {
	obj := object.union(
		binding("RoleBinding", "ClusterRole", "cluster-admin", [group("system:authenticated")]),
		{"metadata": {"labels": {"gitvend.dev/owner": "platform"}}},
	)
	got := findings([obj])
	{f.path | some f in got} == {["roleRef", "name"], ["subjects", 0, "name"]}
}

test_system_subjects_denied if {
	subjects := [
		team_group,
		group("system:authenticated"),
		group("system:unauthenticated"),
		{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:anonymous"},
		group("system:serviceaccounts"),
		group("system:serviceaccounts:team-a"),
		group("system:masters"),
		{"kind": "ServiceAccount", "name": "system:x", "namespace": "team-a"},
	]
	got := findings([binding("RoleBinding", "Role", "r", subjects), binding("ClusterRoleBinding", "ClusterRole", "reader", [group("system:authenticated")])])
	{[f.subject, f.path[1], f.message] | some f in got} == {
		[0, 1, "RoleBinding grants its role to group system:authenticated, which is every authenticated user of the cluster; bind the team's own group instead"],
		[0, 2, "RoleBinding grants its role to group system:unauthenticated, which is every anonymous request; bind the team's own group instead"],
		[0, 3, "RoleBinding grants its role to user system:anonymous, which is every anonymous request; bind the team's own group instead"],
		[0, 4, "RoleBinding grants its role to group system:serviceaccounts, which is every ServiceAccount of the cluster; bind the team's own group instead"],
		[0, 5, "RoleBinding grants its role to group system:serviceaccounts:team-a, a group Kubernetes manages, not a team; bind the team's own group instead"],
		[0, 6, "RoleBinding grants its role to group system:masters, a group Kubernetes manages, not a team; bind the team's own group instead"],
		[1, 0, "ClusterRoleBinding grants its role to group system:authenticated, which is every authenticated user of the cluster; bind the team's own group instead"],
	}
}

test_wildcards_denied[kind] if {
	some kind in ["Role", "ClusterRole"]
	got := findings([role(kind, [
		{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
		{"apiGroups": ["apps"], "resources": ["*"], "verbs": ["*"]},
	])])
	got == {
		{
			"subject": 0,
			"message": sprintf("%s rules[1] uses \"*\" in verbs, which also matches every verb Kubernetes adds later; list the verbs it needs", [kind]),
			"path": ["rules", 1, "verbs"],
		},
		{
			"subject": 0,
			"message": sprintf("%s rules[1] uses \"*\" in resources, which also matches every resource Kubernetes adds later; list the resources it needs", [kind]),
			"path": ["rules", 1, "resources"],
		},
	}
}

test_forbidden_verbs_denied if {
	got := findings([role("Role", [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["get", "escalate", "bind"]}, {"apiGroups": [""], "resources": ["users", "groups", "serviceaccounts"], "verbs": ["impersonate"]}])])
	messages(got) == {
		"Role rules[0] grants the verb escalate, which lets a Role be given rights its author does not hold; remove it",
		"Role rules[0] grants the verb bind, which lets a role be bound without holding its rights; remove it",
		"Role rules[1] grants the verb impersonate, which lets requests be made as any other user, group or ServiceAccount; remove it",
	}
}

test_aggregation_denied if {
	obj := object.union(role("ClusterRole", []), {"metadata": {"labels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true", "app.kubernetes.io/name": "x"}}})
	findings([obj]) == {{
		"subject": 0,
		"message": "ClusterRole is labelled rbac.authorization.k8s.io/aggregate-to-admin, which adds its rules to other ClusterRoles, such as the built-in admin, edit and view, for everyone bound to them; remove the label",
		"path": ["metadata", "labels", "rbac.authorization.k8s.io/aggregate-to-admin"],
	}}
}

test_params if {
	objs := [
		binding("ClusterRoleBinding", "ClusterRole", "edit", [team_group]),
		binding("RoleBinding", "ClusterRole", "admin", [team_group]),
		role("Role", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["delete", "bind"]}]),
	]
	got := findings_with(objs, {"clusterBindingRoles": ["cluster-admin"], "namespaceBindingRoles": ["admin"], "forbiddenVerbs": ["delete"]})
	{[f.subject, f.path] | some f in got} == {[1, ["roleRef", "name"]], [2, ["rules", 0, "verbs"]]}
	messages(got) == {
		"RoleBinding grants ClusterRole admin in its namespace, including the right to change the namespace's RBAC; bind a Role of the namespace that lists what is needed",
		"Role rules[0] grants the verb delete, which the platform does not allow; remove it",
	}
}

test_other_kinds_ignored if {
	count(findings([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team-a"}, "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}, "rules": [{"verbs": ["*"]}]}])) == 0
}
