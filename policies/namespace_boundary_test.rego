package gitvend.policies.namespace_boundary_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.namespace_boundary as policy

config_map(ns) := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns}}

without_namespace := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}

namespace_object(name) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}

cluster_role := {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}}

request_ctx := fixtures.context

hand_written_ctx := {"environment": "dev", "request": "", "owner": "payments", "namespace": "", "allowedNamespaces": ["team-a", "payments-*"]}

unknown_ctx := {"environment": "dev", "request": "", "owner": "", "namespace": "", "allowedNamespaces": null}

subject(obj, scope, ctx) := fixtures.subject(obj, scope, ctx)

findings(subjects) := got if {
	got := policy.violation with input as {"subjects": subjects}
}

findings_with_kinds(subjects, kinds) := got if {
	got := policy.violation with input as {
		"subjects": subjects,
		"params": {"namespace-boundary": {"clusterScopedKinds": kinds}},
	}
}

test_request_namespace_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	count(findings([subject(fixtures.workload(kind, fixtures.pod_spec), "namespaced", request_ctx)])) == 0
}

test_other_namespace_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	obj := object.union(fixtures.workload(kind, fixtures.pod_spec), {"metadata": {"namespace": "team-b"}})
	findings([subject(obj, "namespaced", request_ctx)]) == {{
		"subject": 0,
		"message": sprintf("%s is in namespace team-b, but its request targets namespace team-a; move it to team-a", [kind]),
		"path": ["metadata", "namespace"],
	}}
}

test_missing_namespace_denied if {
	findings([subject(without_namespace, "namespaced", request_ctx)]) == {{
		"subject": 0,
		"message": "ConfigMap has no metadata.namespace; set it to team-a",
		"path": ["metadata", "namespace"],
	}}
}

test_missing_namespace_without_request if {
	got := findings([subject(without_namespace, "namespaced", hand_written_ctx), subject(without_namespace, "namespaced", unknown_ctx)])
	{f.message | some f in got} == {
		"ConfigMap has no metadata.namespace; set it to one of the namespaces team payments may use (team-a, payments-*)",
		"ConfigMap has no metadata.namespace; set it",
	}
}

test_hand_written_objects_in_owner_namespaces[ns] if {
	some ns in ["team-a", "payments-dev"]
	count(findings([subject(config_map(ns), "namespaced", hand_written_ctx)])) == 0
}

test_hand_written_object_outside_owner_namespaces if {
	findings([subject(config_map("kube-system"), "namespaced", hand_written_ctx)]) == {{
		"subject": 0,
		"message": "ConfigMap is in namespace kube-system, which team payments may not use; move it to one of team-a, payments-*",
		"path": ["metadata", "namespace"],
	}}
}

test_unknown_owner_namespaces_allow_any if {
	count(findings([subject(config_map("anything"), "namespaced", unknown_ctx)])) == 0
}

test_request_may_create_its_namespace if {
	count(findings([subject(namespace_object("team-a"), "cluster", request_ctx)])) == 0
}

test_request_may_not_create_other_namespace if {
	findings([subject(namespace_object("team-b"), "cluster", request_ctx)]) == {{
		"subject": 0,
		"message": "Namespace team-b is not a namespace team payments may create; a request may only create the namespace it targets, team-a",
		"path": ["metadata", "name"],
	}}
}

test_hand_written_namespace_of_owner if {
	got := findings([
		subject(namespace_object("payments-staging"), "cluster", hand_written_ctx),
		subject(namespace_object("kube-system"), "cluster", hand_written_ctx),
	])
	{[f.subject, f.message] | some f in got} == {[1, "Namespace kube-system is not a namespace team payments may create; allowed are team-a, payments-*"]}
}

test_cluster_scoped_kind_denied if {
	findings([subject(cluster_role, "cluster", request_ctx)]) == {{
		"subject": 0,
		"message": "ClusterRole.rbac.authorization.k8s.io is cluster-scoped and shared by every tenant; none are allowed (policy.clusterScopedKinds in gitvend.yaml)",
		"path": ["kind"],
	}}
}

test_cluster_scoped_kind_allow_list[kinds] if {
	some kinds in [["ClusterRole"], ["ClusterRole.rbac.authorization.k8s.io"]]
	count(findings_with_kinds([subject(cluster_role, "cluster", request_ctx)], kinds)) == 0
}

test_allow_list_message if {
	got := findings_with_kinds([subject(namespace_object("x"), "cluster", unknown_ctx), subject(cluster_role, "cluster", unknown_ctx)], ["PriorityClass"])
	{f.message | some f in got} == {
		"Namespace x is not a namespace its owner may create; add Namespace to policy.clusterScopedKinds in gitvend.yaml to allow it",
		"ClusterRole.rbac.authorization.k8s.io is cluster-scoped and shared by every tenant; allowed are PriorityClass (policy.clusterScopedKinds in gitvend.yaml)",
	}
}

test_namespace_kind_in_allow_list if {
	count(findings_with_kinds([subject(namespace_object("x"), "cluster", request_ctx)], ["Namespace"])) == 0
}

custom(ns) := {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": object.union({"name": "w"}, ns)}

test_unknown_kind_with_namespace_is_namespaced if {
	got := findings([subject(custom({"namespace": "team-a"}), "", request_ctx), subject(custom({"namespace": "team-b"}), "", request_ctx)])
	{f.subject | some f in got} == {1}
}

test_unknown_kind_without_namespace if {
	findings([subject(custom({}), "", request_ctx)]) == {{
		"subject": 0,
		"message": "Widget.example.com has no metadata.namespace; set it to team-a, or, if Widget is cluster-scoped, add it to policy.clusterScopedKinds in gitvend.yaml",
		"path": ["metadata", "namespace"],
	}}
	count(findings_with_kinds([subject(custom({}), "", request_ctx)], ["Widget.example.com"])) == 0
}
