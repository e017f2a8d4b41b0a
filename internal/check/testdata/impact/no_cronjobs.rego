package gitvend.policies.no_cronjobs

metadata := {
	"id": "no-cronjobs",
	"severity": "deny",
	"title": "No CronJobs",
	"description": "No CronJobs.",
	"fix": "Run batch work elsewhere.",
	"params": {},
}

violation contains {"subject": i, "message": sprintf("CronJob %s is not allowed", [s.object.metadata.name]), "path": ["kind"]} if {
	some i, s in input.subjects
	s.object.kind == "CronJob"
}
