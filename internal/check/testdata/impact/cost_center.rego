package gitvend.policies.cost_center

metadata := {
	"id": "cost-center",
	"severity": "deny",
	"title": "Cost center",
	"description": "Cost center.",
	"fix": "Add the label cost-center.",
	"params": {},
}

violation contains {"subject": i, "message": sprintf("%s %s has no cost-center label", [s.object.kind, s.object.metadata.name]), "path": ["metadata", "labels"]} if {
	some i, s in input.subjects
	s.object.kind in {"Deployment", "StatefulSet"}
	not s.object.metadata.labels["cost-center"]
}
