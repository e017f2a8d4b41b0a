package gitvend.policies.service_owner

metadata := {
	"id": "service-owner",
	"severity": "warn",
	"title": "Service owner",
	"description": "Service owner.",
	"fix": "Add the annotation owner.",
	"params": {},
}

violation contains {"subject": i, "message": sprintf("Service %s names no owner", [s.object.metadata.name]), "path": ["metadata"]} if {
	some i, s in input.subjects
	s.object.kind == "Service"
	not s.object.metadata.annotations.owner
}
