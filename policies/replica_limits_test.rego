package gitvend.policies.replica_limits_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.replica_limits as policy

scaled(kind, replicas) := object.union(fixtures.workload(kind, fixtures.pod_spec), {"spec": {"replicas": replicas}})

hpa(max) := {
	"apiVersion": "autoscaling/v2",
	"kind": "HorizontalPodAutoscaler",
	"metadata": {"name": "app", "namespace": "team-a"},
	"spec": {"minReplicas": 2, "maxReplicas": max},
}

test_too_many_replicas_denied[kind] if {
	some kind in ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"]
	got := policy.violation with input as fixtures.input_for([scaled(kind, 21)])
	got == {{
		"subject": 0,
		"message": "spec.replicas is 21, above the limit of 20; lower it or ask for a higher limit",
		"path": ["spec", "replicas"],
	}}
}

test_limit_itself_allowed[kind] if {
	some kind in ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"]
	count(policy.violation) == 0 with input as fixtures.input_for([scaled(kind, 20)])
}

test_hpa_max_replicas_denied if {
	got := policy.violation with input as fixtures.input_for([hpa(10), hpa(50)])
	got == {{
		"subject": 1,
		"message": "spec.maxReplicas is 50, above the limit of 20; lower it or ask for a higher limit",
		"path": ["spec", "maxReplicas"],
	}}
}

test_max_param if {
	inp := object.union(fixtures.input_for([scaled("Deployment", 6), hpa(5)]), {"params": {"replica-limits": {"max": 5}}})
	got := policy.violation with input as inp
	{f.message | some f in got} == {"spec.replicas is 6, above the limit of 5; lower it or ask for a higher limit"}
}

test_daemon_sets_and_jobs_ignored[kind] if {
	some kind in ["DaemonSet", "Job", "CronJob", "Pod"]
	count(policy.violation) == 0 with input as fixtures.input_for([scaled(kind, 100)])
}
