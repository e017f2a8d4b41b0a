# A replica count far above what a team needs is usually a typo, and costs
# real money before anyone notices.
package gitvend.policies.replica_limits

import data.gitvend.lib

metadata := {
	"id": "replica-limits",
	"severity": "deny",
	"title": "Replica limits",
	"description": "spec.replicas of Deployments, StatefulSets, ReplicaSets and ReplicationControllers, and spec.maxReplicas of HorizontalPodAutoscalers, must not exceed the limit.",
	"fix": "Lower the replica count, or raise policy.policies.replica-limits.params.max in gitvend.yaml.",
	"params": {"max": {
		"type": "integer",
		"default": 20,
		"description": "The largest replica count allowed.",
	}},
}

params := lib.params(metadata)

fields := {
	"Deployment.apps": "replicas",
	"StatefulSet.apps": "replicas",
	"ReplicaSet.apps": "replicas",
	"ReplicationController": "replicas",
	"HorizontalPodAutoscaler.autoscaling": "maxReplicas",
}

violation contains finding if {
	some i, s in input.subjects
	field := fields[s.groupKind]
	value := s.object.spec[field]
	is_number(value)
	value > params.max
	finding := {
		"subject": i,
		"message": sprintf("spec.%s is %v, above the limit of %v; lower it or ask for a higher limit", [field, value, params.max]),
		"path": ["spec", field],
	}
}
