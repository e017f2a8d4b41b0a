package gitvend.policies.run_as_non_root_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.run_as_non_root as policy

# bare is the compliant container without runAsNonRoot.
bare(name) := json.patch(fixtures.container, [
	{"op": "replace", "path": "/name", "value": name},
	{"op": "remove", "path": "/securityContext/runAsNonRoot"},
])

test_unset_everywhere_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	obj := fixtures.workload(kind, {"containers": [bare("app")]})
	got := policy.violation with input as fixtures.input_for([obj])
	got == {{
		"subject": 0,
		"message": "container app may run as root: set securityContext.runAsNonRoot: true on the container or the pod",
		"path": fixtures.path(kind, ["containers", 0, "securityContext", "runAsNonRoot"]),
	}}
}

test_pod_level_setting_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {
		"securityContext": {"runAsNonRoot": true, "runAsUser": 1000},
		"initContainers": [bare("setup")],
		"containers": [bare("app")],
		"ephemeralContainers": [bare("debug")],
	}
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, spec)])
}

test_container_false_overrides_pod_true[kind] if {
	some kind, _ in fixtures.pod_kinds
	c := object.union(bare("app"), {"securityContext": {"runAsNonRoot": false}})
	spec := {"securityContext": {"runAsNonRoot": true}, "containers": [c]}
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	got == {{
		"subject": 0,
		"message": "container app sets securityContext.runAsNonRoot: false; set it to true",
		"path": fixtures.path(kind, ["containers", 0, "securityContext", "runAsNonRoot"]),
	}}
}

test_pod_false_inherited[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {"securityContext": {"runAsNonRoot": false}, "containers": [bare("app"), fixtures.container]}
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	got == {{
		"subject": 0,
		"message": "pod securityContext sets runAsNonRoot: false, which container app inherits; set it to true",
		"path": fixtures.path(kind, ["securityContext", "runAsNonRoot"]),
	}}
}

test_run_as_user_zero_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	root := object.union(fixtures.container, {"name": "setup", "securityContext": {"runAsUser": 0}})
	spec := {"securityContext": {"runAsUser": 0}, "initContainers": [root], "containers": [fixtures.container]}
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	got == {
		{
			"subject": 0,
			"message": "init container setup sets securityContext.runAsUser: 0 (root); use a non-zero user id",
			"path": fixtures.path(kind, ["initContainers", 0, "securityContext", "runAsUser"]),
		},
		{
			"subject": 0,
			"message": "pod securityContext sets runAsUser: 0 (root), which container app inherits; use a non-zero user id",
			"path": fixtures.path(kind, ["securityContext", "runAsUser"]),
		},
	}
}

test_container_user_overrides_pod_root[kind] if {
	some kind, _ in fixtures.pod_kinds
	c := object.union(fixtures.container, {"securityContext": {"runAsUser": 1000}})
	spec := {"securityContext": {"runAsUser": 0}, "containers": [c]}
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, spec)])
}

test_ephemeral_container_checked[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {"containers": [fixtures.container], "ephemeralContainers": [bare("debug")]}
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	{f.path | some f in got} == {fixtures.path(kind, ["ephemeralContainers", 0, "securityContext", "runAsNonRoot"])}
}
