package gitvend.policies.broken

metadata := {"id": "broken", "severity": "deny", "title": "t", "description": "d.", "fix": "f", "params": {}}

violation contains {"message": "x"} if {
	some i, s in input.subjects
	s.object.kind ==
}
