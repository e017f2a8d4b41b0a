# Without probes, a long-running workload receives traffic before it is
# ready and is never restarted when it hangs.
package gitvend.policies.probes

import data.gitvend.lib

metadata := {
	"id": "probes",
	"severity": "warn",
	"title": "Readiness and liveness probes",
	"description": "Containers of long-running workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController) should have a readiness probe and a liveness probe. Jobs, CronJobs and bare Pods are not checked.",
	"fix": "Add readinessProbe and livenessProbe to every container, for example an httpGet on a health endpoint.",
	"params": {},
}

probes := {
	"readinessProbe": "so that it receives traffic only when it is ready",
	"livenessProbe": "so that it is restarted when it hangs",
}

violation contains {
	"subject": c.subject,
	"message": sprintf("%s has no %s; add one %s", [lib.label(c), probe, why]),
	"path": lib.path(c, [probe]),
} if {
	some c in lib.containers
	c.field == "containers"
	lib.long_running[c.gk]
	some probe, why in probes
	not is_object(object.get(c.container, probe, null))
}
