package gitvend.policies.privilege_escalation_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.privilege_escalation as policy

without_setting(name) := json.patch(fixtures.container, [
	{"op": "replace", "path": "/name", "value": name},
	{"op": "remove", "path": "/securityContext/allowPrivilegeEscalation"},
])

allowing(name) := object.union(fixtures.container, {"name": name, "securityContext": {"allowPrivilegeEscalation": true}})

test_missing_setting_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	obj := fixtures.workload(kind, {"containers": [without_setting("app")]})
	got := policy.violation with input as fixtures.input_for([obj])
	got == {{
		"subject": 0,
		"message": "container app does not set securityContext.allowPrivilegeEscalation: false; add it to the container's securityContext",
		"path": fixtures.path(kind, ["containers", 0, "securityContext", "allowPrivilegeEscalation"]),
	}}
}

test_escalation_allowed_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	obj := fixtures.workload(kind, {"containers": [allowing("app")]})
	got := policy.violation with input as fixtures.input_for([obj])
	got == {{
		"subject": 0,
		"message": "container app sets securityContext.allowPrivilegeEscalation: true; set it to false",
		"path": fixtures.path(kind, ["containers", 0, "securityContext", "allowPrivilegeEscalation"]),
	}}
}

test_init_and_ephemeral_containers_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	obj := fixtures.workload(kind, {
		"initContainers": [without_setting("setup")],
		"containers": [fixtures.container],
		"ephemeralContainers": [allowing("debug")],
	})
	got := policy.violation with input as fixtures.input_for([obj])
	{[f.path, f.message] | some f in got} == {
		[
			fixtures.path(kind, ["initContainers", 0, "securityContext", "allowPrivilegeEscalation"]),
			"init container setup does not set securityContext.allowPrivilegeEscalation: false; add it to the container's securityContext",
		],
		[
			fixtures.path(kind, ["ephemeralContainers", 0, "securityContext", "allowPrivilegeEscalation"]),
			"ephemeral container debug sets securityContext.allowPrivilegeEscalation: true; set it to false",
		],
	}
}

test_container_without_security_context_denied if {
	obj := fixtures.workload("Deployment", {"containers": [{"name": "app", "image": "ghcr.io/acme/app:1"}]})
	got := policy.violation with input as fixtures.input_for([obj])
	count(got) == 1
}

test_compliant_pod_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, fixtures.pod_spec)])
}
