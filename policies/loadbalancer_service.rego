# A Service of type LoadBalancer provisions a cloud load balancer, billed
# by the hour and reachable from outside the cluster.
package gitvend.policies.loadbalancer_service

metadata := {
	"id": "loadbalancer-service",
	"severity": "warn",
	"title": "LoadBalancer Services",
	"description": "Services of type LoadBalancer each provision a billed load balancer exposed outside the cluster; most services should be reached through an Ingress.",
	"fix": "Use type ClusterIP behind an Ingress, or keep the LoadBalancer with an exception in gitvend.yaml that says why.",
	"params": {},
}

violation contains finding if {
	some i, s in input.subjects
	s.groupKind == "Service"
	s.object.spec.type == "LoadBalancer"
	finding := {
		"subject": i,
		"message": "Service has type LoadBalancer, which provisions a billed load balancer reachable from outside the cluster; use type ClusterIP behind an Ingress, or add an exception that says why",
		"path": ["spec", "type"],
	}
}
