package gitvend.policies.probes_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.probes as policy

without_probes(name) := json.patch(fixtures.container, [
	{"op": "replace", "path": "/name", "value": name},
	{"op": "remove", "path": "/readinessProbe"},
	{"op": "remove", "path": "/livenessProbe"},
])

test_missing_probes_reported[kind] if {
	some kind in fixtures.long_running_kinds
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, {"containers": [without_probes("app")]})])
	got == {
		{
			"subject": 0,
			"message": "container app has no readinessProbe; add one so that it receives traffic only when it is ready",
			"path": fixtures.path(kind, ["containers", 0, "readinessProbe"]),
		},
		{
			"subject": 0,
			"message": "container app has no livenessProbe; add one so that it is restarted when it hangs",
			"path": fixtures.path(kind, ["containers", 0, "livenessProbe"]),
		},
	}
}

test_one_missing_probe[kind] if {
	some kind in fixtures.long_running_kinds
	c := json.patch(fixtures.container, [{"op": "remove", "path": "/livenessProbe"}])
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, {"containers": [c]})])
	{f.message | some f in got} == {"container app has no livenessProbe; add one so that it is restarted when it hangs"}
}

test_jobs_and_bare_pods_not_checked[kind] if {
	some kind in {"Pod", "Job", "CronJob"}
	obj := fixtures.workload(kind, {"containers": [without_probes("app")]})
	count(policy.violation) == 0 with input as fixtures.input_for([obj])
}

test_init_and_ephemeral_containers_not_checked[kind] if {
	some kind in fixtures.long_running_kinds
	spec := {
		"initContainers": [without_probes("setup")],
		"containers": [fixtures.container],
		"ephemeralContainers": [without_probes("debug")],
	}
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, spec)])
}

test_compliant_pod_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, fixtures.pod_spec)])
}
