# A process that may gain more privileges than its parent (through setuid
# binaries or file capabilities) undoes every other restriction.
package gitvend.policies.privilege_escalation

import data.gitvend.lib

metadata := {
	"id": "privilege-escalation",
	"severity": "deny",
	"title": "No privilege escalation",
	"description": "Every container must set securityContext.allowPrivilegeEscalation: false, so that no process can gain more privileges than the one that started it.",
	"fix": "Set securityContext.allowPrivilegeEscalation: false on every container, init and ephemeral containers included.",
	"params": {},
}

violation contains {
	"subject": c.subject,
	"message": message(lib.label(c), value),
	"path": lib.path(c, ["securityContext", "allowPrivilegeEscalation"]),
} if {
	some c in lib.containers
	value := object.get(c.container, ["securityContext", "allowPrivilegeEscalation"], null)
	value != false
}

message(label, null) := sprintf("%s does not set securityContext.allowPrivilegeEscalation: false; add it to the container's securityContext", [label])

message(label, value) := sprintf("%s sets securityContext.allowPrivilegeEscalation: %v; set it to false", [label, value]) if value != null
