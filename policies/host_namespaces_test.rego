package gitvend.policies.host_namespaces_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.host_namespaces as policy

test_each_host_namespace_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := object.union(fixtures.pod_spec, {"hostNetwork": true, "hostPID": true, "hostIPC": true})
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	got == {
		{
			"subject": 0,
			"message": "pod spec sets hostNetwork: true, which shares the node's network namespace with the pod; remove it or set it to false",
			"path": fixtures.path(kind, ["hostNetwork"]),
		},
		{
			"subject": 0,
			"message": "pod spec sets hostPID: true, which shares the node's process namespace with the pod; remove it or set it to false",
			"path": fixtures.path(kind, ["hostPID"]),
		},
		{
			"subject": 0,
			"message": "pod spec sets hostIPC: true, which shares the node's IPC namespace with the pod; remove it or set it to false",
			"path": fixtures.path(kind, ["hostIPC"]),
		},
	}
}

test_false_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := object.union(fixtures.pod_spec, {"hostNetwork": false, "hostPID": false, "hostIPC": false})
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, spec)])
}

test_unset_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, fixtures.pod_spec)])
}

test_other_kinds_ignored if {
	obj := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "spec": {"hostNetwork": true}}
	count(policy.violation) == 0 with input as fixtures.input_for([obj])
}
