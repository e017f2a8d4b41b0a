package gitvend.policies.read_only_root_filesystem_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.read_only_root_filesystem as policy

unset(name) := json.patch(fixtures.container, [
	{"op": "replace", "path": "/name", "value": name},
	{"op": "remove", "path": "/securityContext/readOnlyRootFilesystem"},
])

writable(name) := object.union(fixtures.container, {"name": name, "securityContext": {"readOnlyRootFilesystem": false}})

test_writable_root_reported[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {
		"initContainers": [unset("setup")],
		"containers": [writable("app")],
		"ephemeralContainers": [unset("debug")],
	}
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	got == {
		{
			"subject": 0,
			"message": "init container setup does not set securityContext.readOnlyRootFilesystem: true; set it and mount an emptyDir where the program must write",
			"path": fixtures.path(kind, ["initContainers", 0, "securityContext", "readOnlyRootFilesystem"]),
		},
		{
			"subject": 0,
			"message": "container app sets securityContext.readOnlyRootFilesystem: false; set it to true and mount an emptyDir where the program must write",
			"path": fixtures.path(kind, ["containers", 0, "securityContext", "readOnlyRootFilesystem"]),
		},
		{
			"subject": 0,
			"message": "ephemeral container debug does not set securityContext.readOnlyRootFilesystem: true; set it and mount an emptyDir where the program must write",
			"path": fixtures.path(kind, ["ephemeralContainers", 0, "securityContext", "readOnlyRootFilesystem"]),
		},
	}
}

test_compliant_pod_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, fixtures.pod_spec)])
}
