package gitvend.policies.host_path_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.host_path as policy

test_host_path_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := object.union(fixtures.pod_spec, {"volumes": [
		{"name": "cache", "emptyDir": {}},
		{"name": "docker", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
	]})
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	got == {{
		"subject": 0,
		"message": "volume docker mounts hostPath /var/run/docker.sock, a directory of the node; use a persistentVolumeClaim, configMap, secret or emptyDir volume instead",
		"path": fixtures.path(kind, ["volumes", 1, "hostPath"]),
	}}
}

test_other_volumes_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := object.union(fixtures.pod_spec, {"volumes": [
		{"name": "cache", "emptyDir": {}},
		{"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
		{"name": "config", "configMap": {"name": "app"}},
	]})
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, spec)])
}

test_no_volumes_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, fixtures.pod_spec)])
}
