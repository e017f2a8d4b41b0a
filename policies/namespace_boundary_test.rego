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

# An object written by hand in a namespace no team claims has no owner,
# whatever its own label says.
test_hand_written_unknown_owner_denied if {
	obj := object.union(config_map("kube-system"), {"metadata": {"labels": {"gitvend.dev/owner": "platform"}}})
	findings([subject(obj, "namespaced", unknown_ctx)]) == {{
		"subject": 0,
		"message": "ConfigMap is in namespace kube-system, which no team of gitvend.yaml claims, so it has no owner; add the namespace to a team's namespaces in gitvend.yaml (a bare \"*\" claims none)",
		"path": ["metadata", "namespace"],
	}}
}

# A single tenant (a repository without teams) may use every namespace.
test_single_tenant_uses_any_namespace if {
	ctx := object.union(unknown_ctx, {"allowedNamespaces": ["*"]})
	count(findings([subject(config_map("anything"), "namespaced", ctx)])) == 0
}

# Unknown owners of hand-written cluster-scoped objects are left to the
# allow-list of cluster-scoped kinds.
test_hand_written_cluster_scoped_without_owner if {
	count(findings_with_kinds([subject(cluster_role, "cluster", unknown_ctx)], ["ClusterRole"])) == 0
}

record_ctx(owner, allowed) := object.union(request_ctx, {"owner": owner, "allowedNamespaces": allowed})

test_rendered_without_record_denied if {
	ctx := object.union(request_ctx, {"owner": "", "namespace": "kube-system", "request": "x", "allowedNamespaces": null})
	findings([subject(config_map("kube-system"), "namespaced", ctx)]) == {{
		"subject": 0,
		"message": "ConfigMap comes from request x, which has no valid record requests/dev/kube-system/x.yaml to name its owner; add the record, or move the object out of requests/",
		"path": ["metadata", "namespace"],
	}}
}

test_rendered_owner_not_a_team_denied if {
	findings([subject(config_map("team-a"), "namespaced", record_ctx("ghosts", null))]) == {{
		"subject": 0,
		"message": "ConfigMap comes from request app, whose owner ghosts is not a team of gitvend.yaml; set spec.owner in requests/dev/team-a/app.yaml to a team that may use namespace team-a",
		"path": ["metadata", "namespace"],
	}}
}

# A request whose namespace its owner may not use is denied on every
# object it renders, the Namespace included.
test_rendered_namespace_owner_may_not_use[kind] if {
	some kind in ["ConfigMap", "Namespace"]
	ctx := object.union(request_ctx, {"namespace": "kube-system", "request": "x", "allowedNamespaces": ["team-a", "payments-*"]})
	obj := {"ConfigMap": config_map("kube-system"), "Namespace": namespace_object("kube-system")}[kind]
	scope := {"ConfigMap": "namespaced", "Namespace": "cluster"}[kind]
	findings([subject(obj, scope, ctx)]) == {{
		"subject": 0,
		"message": sprintf("%s comes from request x for namespace kube-system, which team payments may not use; team payments may use team-a, payments-*", [kind]),
		"path": ["metadata", "namespace"],
	}}
}

test_rendered_namespace_owner_without_namespaces if {
	ctx := record_ctx("payments", [])
	got := findings([subject(config_map("team-a"), "namespaced", ctx)])
	{f.message | some f in got} == {"ConfigMap comes from request app for namespace team-a, which team payments may not use; team payments may use no namespace"}
}

# The owner label must name the owner the path gives; a label cannot make
# an object another team's.
test_owner_label_must_agree if {
	lying := object.union(config_map("team-a"), {"metadata": {"labels": {"gitvend.dev/owner": "platform"}}})
	honest := object.union(config_map("team-a"), {"metadata": {"labels": {"gitvend.dev/owner": "payments"}}})
	findings([
		subject(lying, "namespaced", request_ctx),
		subject(honest, "namespaced", request_ctx),
		subject(config_map("team-a"), "namespaced", request_ctx),
		subject(lying, "namespaced", object.union(hand_written_ctx, {"owner": ""})),
	]) == {{
		"subject": 0,
		"message": "ConfigMap is labelled gitvend.dev/owner: platform, but it belongs to team payments (the owner of request app); set the label to payments",
		"path": ["metadata", "labels", "gitvend.dev/owner"],
	}}
	got := findings([subject(lying, "namespaced", hand_written_ctx)])
	{f.message | some f in got} == {"ConfigMap is labelled gitvend.dev/owner: platform, but it belongs to team payments (the team that claims its namespace); set the label to payments"}
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

test_bare_kind_does_not_admit_another_group if {
	decoy := {"apiVersion": "evil.example.com/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}}
	got := findings_with_kinds([subject(decoy, "", request_ctx)], ["ClusterRole"])
	{f.message | some f in got} == {"ClusterRole.evil.example.com has no metadata.namespace; set it to team-a, or, if ClusterRole is cluster-scoped, add it to policy.clusterScopedKinds in gitvend.yaml"}
}

test_allow_list_message if {
	got := findings_with_kinds([subject(namespace_object("x"), "cluster", unknown_ctx), subject(cluster_role, "cluster", unknown_ctx)], ["PriorityClass"])
	{f.message | some f in got} == {
		"Namespace x is not a namespace its owner may create; no team of gitvend.yaml claims it; add it to a team's namespaces, or add Namespace to policy.clusterScopedKinds in gitvend.yaml to allow it",
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
