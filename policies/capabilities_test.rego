package gitvend.policies.capabilities_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.capabilities as policy

with_caps(name, caps) := object.union(fixtures.container, {"name": name, "securityContext": {"capabilities": caps}})

test_missing_drop_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	c := json.patch(fixtures.container, [{"op": "remove", "path": "/securityContext/capabilities"}])
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, {"containers": [c]})])
	got == {{
		"subject": 0,
		"message": "container app does not drop all capabilities; set securityContext.capabilities.drop: [\"ALL\"]",
		"path": fixtures.path(kind, ["containers", 0, "securityContext", "capabilities", "drop"]),
	}}
}

test_partial_drop_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {"containers": [with_caps("app", {"drop": ["NET_RAW"]})]}
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	count(got) == 1
}

test_added_capability_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {
		"initContainers": [with_caps("setup", {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SYS_ADMIN"]})],
		"containers": [fixtures.container],
		"ephemeralContainers": [with_caps("debug", {"drop": ["ALL"], "add": ["CAP_SYS_PTRACE"]})],
	}
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	got == {
		{
			"subject": 0,
			"message": "init container setup adds capability SYS_ADMIN; only NET_BIND_SERVICE may be added",
			"path": fixtures.path(kind, ["initContainers", 0, "securityContext", "capabilities", "add", 1]),
		},
		{
			"subject": 0,
			"message": "ephemeral container debug adds capability CAP_SYS_PTRACE; only NET_BIND_SERVICE may be added",
			"path": fixtures.path(kind, ["ephemeralContainers", 0, "securityContext", "capabilities", "add", 0]),
		},
	}
}

test_allowed_capability_accepted[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {"containers": [with_caps("app", {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "cap_net_bind_service"]})]}
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, spec)])
}

test_allowed_param_replaces_default if {
	spec := {"containers": [with_caps("app", {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "NET_ADMIN"]})]}
	inp := object.union(
		fixtures.input_for([fixtures.workload("Deployment", spec)]),
		{"params": {"capabilities": {"allowed": ["NET_ADMIN"]}}},
	)
	got := policy.violation with input as inp
	{f.message | some f in got} == {"container app adds capability NET_BIND_SERVICE; only NET_ADMIN may be added"}
}

test_empty_allowed_list if {
	spec := {"containers": [with_caps("app", {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})]}
	inp := object.union(
		fixtures.input_for([fixtures.workload("Deployment", spec)]),
		{"params": {"capabilities": {"allowed": []}}},
	)
	got := policy.violation with input as inp
	{f.message | some f in got} == {"container app adds capability NET_BIND_SERVICE; no capability may be added"}
}

test_compliant_pod_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, fixtures.pod_spec)])
}
