package gitvend.policies.loadbalancer_service_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.loadbalancer_service as policy

service(type) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "web", "namespace": "team-a", "labels": fixtures.labels},
	"spec": {"type": type, "ports": [{"port": 80}]},
}

test_load_balancer_reported if {
	got := policy.violation with input as fixtures.input_for([service("ClusterIP"), service("LoadBalancer")])
	got == {{
		"subject": 1,
		"message": "Service has type LoadBalancer, which provisions a billed load balancer reachable from outside the cluster; use type ClusterIP behind an Ingress, or add an exception that says why",
		"path": ["spec", "type"],
	}}
}

test_other_types_allowed[type] if {
	some type in ["ClusterIP", "NodePort", "ExternalName"]
	count(policy.violation) == 0 with input as fixtures.input_for([service(type)])
}

test_service_without_type_allowed if {
	svc := json.patch(service("ClusterIP"), [{"op": "remove", "path": "/spec/type"}])
	count(policy.violation) == 0 with input as fixtures.input_for([svc])
}

test_other_groups_ignored if {
	svc := object.union(service("LoadBalancer"), {"apiVersion": "serving.knative.dev/v1"})
	count(policy.violation) == 0 with input as fixtures.input_for([svc])
}
