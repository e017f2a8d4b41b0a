package gitvend.policies.ingress_tls

metadata := {
	"id": "ingress-tls",
	"severity": "warn",
	"title": "Ingress TLS",
	"description": "Ingress TLS.",
	"fix": "Add spec.tls.",
	"params": {},
}

violation contains {"subject": i, "message": sprintf("Ingress %s serves no TLS", [s.object.metadata.name]), "path": ["spec"]} if {
	some i, s in input.subjects
	s.object.kind == "Ingress"
	not s.object.spec.tls
}
