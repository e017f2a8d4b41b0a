# A writable root filesystem lets an intruder change the container's
# programs and hides state that a restart should reset.
package gitvend.policies.read_only_root_filesystem

import data.gitvend.lib

metadata := {
	"id": "read-only-root-filesystem",
	"severity": "warn",
	"title": "Read-only root filesystem",
	"description": "Containers should set securityContext.readOnlyRootFilesystem: true and write only to mounted volumes.",
	"fix": "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir volume where the program must write (such as /tmp).",
	"params": {},
}

violation contains {
	"subject": c.subject,
	"message": message(lib.label(c), value),
	"path": lib.path(c, ["securityContext", "readOnlyRootFilesystem"]),
} if {
	some c in lib.containers
	value := object.get(c.container, ["securityContext", "readOnlyRootFilesystem"], null)
	value != true
}

message(label, null) := sprintf("%s does not set securityContext.readOnlyRootFilesystem: true; set it and mount an emptyDir where the program must write", [label])

message(label, value) := sprintf("%s sets securityContext.readOnlyRootFilesystem: %v; set it to true and mount an emptyDir where the program must write", [label, value]) if value != null
