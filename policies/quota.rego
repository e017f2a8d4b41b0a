# A namespace's ResourceQuota caps what its workloads may request and
# limit; a change that would take a namespace past it is refused by the
# apiserver pod by pod, after merge. gitvend counts the use of each
# namespace exactly (input.quotas, see lib/kubernetes.rego) and this policy
# refuses the change before merge.
package gitvend.policies.quota

metadata := {
	"id": "quota",
	"severity": "deny",
	"title": "Quota headroom",
	"description": "The requests, limits and object counts of a namespace's workloads (replicas counted, an HPA at maxReplicas, a Job at its parallelism) must fit the hard values of its ResourceQuota.",
	"fix": "Lower requests, limits or replicas (an HPA counts at maxReplicas), or raise the quota's hard value.",
	"params": {},
}

violation contains {
	"subject": q.subject,
	"message": sprintf(
		"ResourceQuota %s in %s%s: %s would reach %s of its hard %s: %s in use, this change adds %s, headroom %s; lower requests, limits or replicas (an HPA counts at maxReplicas), or raise spec.hard.%s",
		[q.name, q.namespace, where(q), r.name, r.text.after, r.text.hard, r.text.used, r.text.share, r.text.headroom, r.name],
	),
	"path": ["spec", "hard", r.name],
} if {
	some q in input.quotas
	some r in q.resources
	r.share > 0
	r.after > r.hard
}

# A change that brings a quota, or lowers a hard value, below what the
# namespace uses is held to it too, even when it adds nothing.
violation contains {
	"subject": q.subject,
	"message": sprintf(
		"ResourceQuota %s in %s%s: spec.hard.%s is %s, which this change sets, but the namespace uses %s; raise it to at least %s, or lower requests, limits or replicas first",
		[q.name, q.namespace, where(q), r.name, r.text.hard, r.text.after, r.text.after],
	),
	"path": ["spec", "hard", r.name],
} if {
	some q in input.quotas
	some r in q.resources
	r.tightened
	r.share <= 0
	r.after > r.hard
}

violation contains {
	"subject": q.subject,
	"message": sprintf("ResourceQuota %s in %s%s cannot be judged: %s", [q.name, q.namespace, where(q), p]),
	"path": ["spec", "hard"],
} if {
	some q in input.quotas
	some p in q.problems
}

where(q) := sprintf(" (%s)", [q.environment]) if {
	q.environment != ""
} else := ""
