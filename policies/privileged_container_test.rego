package gitvend.policies.privileged_container_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.privileged_container as policy

privileged(name) := object.union(fixtures.container, {"name": name, "securityContext": {"privileged": true}})

test_privileged_container_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	obj := fixtures.workload(kind, {"containers": [privileged("app")]})
	got := policy.violation with input as fixtures.input_for([obj])
	got == {{
		"subject": 0,
		"message": "container app sets securityContext.privileged: true; remove it or set it to false",
		"path": fixtures.path(kind, ["containers", 0, "securityContext", "privileged"]),
	}}
}

test_init_and_ephemeral_containers_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	obj := fixtures.workload(kind, {
		"initContainers": [privileged("setup")],
		"containers": [fixtures.container],
		"ephemeralContainers": [privileged("debug")],
	})
	got := policy.violation with input as fixtures.input_for([obj])
	got == {
		{
			"subject": 0,
			"message": "init container setup sets securityContext.privileged: true; remove it or set it to false",
			"path": fixtures.path(kind, ["initContainers", 0, "securityContext", "privileged"]),
		},
		{
			"subject": 0,
			"message": "ephemeral container debug sets securityContext.privileged: true; remove it or set it to false",
			"path": fixtures.path(kind, ["ephemeralContainers", 0, "securityContext", "privileged"]),
		},
	}
}

test_unprivileged_container_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	c := object.union(fixtures.container, {"securityContext": {"privileged": false}})
	objs := [fixtures.workload(kind, fixtures.pod_spec), fixtures.workload(kind, {"containers": [c]})]
	count(policy.violation) == 0 with input as fixtures.input_for(objs)
}

test_subject_index_points_at_the_object if {
	objs := [
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}},
		fixtures.workload("Deployment", {"containers": [privileged("app")]}),
	]
	got := policy.violation with input as fixtures.input_for(objs)
	{f.subject | some f in got} == {1}
}

test_pod_spec_of_unknown_group_ignored if {
	obj := object.union(fixtures.workload("Deployment", {"containers": [privileged("app")]}), {"apiVersion": "example.com/v1"})
	count(policy.violation) == 0 with input as fixtures.input_for([obj])
}
