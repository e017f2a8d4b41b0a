package gitvend.policies.resource_limits_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.resource_limits as policy

without_resources(name) := json.patch(fixtures.container, [
	{"op": "replace", "path": "/name", "value": name},
	{"op": "remove", "path": "/resources"},
])

message(label, field, example) := sprintf("%s does not set resources.%s; set %s", [label, field, example])

test_missing_resources_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {
		"initContainers": [without_resources("setup")],
		"containers": [fixtures.container],
	}
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	got == {
		{
			"subject": 0,
			"message": message("init container setup", "requests.cpu", "a CPU request such as 100m"),
			"path": fixtures.path(kind, ["initContainers", 0, "resources", "requests", "cpu"]),
		},
		{
			"subject": 0,
			"message": message("init container setup", "requests.memory", "a memory request such as 128Mi"),
			"path": fixtures.path(kind, ["initContainers", 0, "resources", "requests", "memory"]),
		},
		{
			"subject": 0,
			"message": message("init container setup", "limits.memory", "a memory limit such as 256Mi, at least the memory request"),
			"path": fixtures.path(kind, ["initContainers", 0, "resources", "limits", "memory"]),
		},
	}
}

test_single_missing_field[kind] if {
	some kind, _ in fixtures.pod_kinds
	c := json.patch(fixtures.container, [{"op": "remove", "path": "/resources/limits"}])
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, {"containers": [c]})])
	got == {{
		"subject": 0,
		"message": message("container app", "limits.memory", "a memory limit such as 256Mi, at least the memory request"),
		"path": fixtures.path(kind, ["containers", 0, "resources", "limits", "memory"]),
	}}
}

test_numeric_quantities_accepted if {
	c := object.union(fixtures.container, {"resources": {"requests": {"cpu": 1, "memory": 134217728}, "limits": {"memory": 268435456}}})
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload("Deployment", {"containers": [c]})])
}

test_ephemeral_containers_not_checked[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {"containers": [fixtures.container], "ephemeralContainers": [without_resources("debug")]}
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, spec)])
}

test_compliant_pod_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, fixtures.pod_spec)])
}
