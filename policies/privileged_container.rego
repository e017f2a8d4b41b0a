# A privileged container has every capability of the node's root user and
# can take over the node.
package gitvend.policies.privileged_container

import data.gitvend.lib

metadata := {
	"id": "privileged-container",
	"severity": "deny",
	"title": "No privileged containers",
	"description": "Containers must not run privileged: a privileged container can do anything root on the node can, including escaping to the node.",
	"fix": "Remove securityContext.privileged or set it to false; grant single capabilities instead if the workload needs them.",
	"params": {},
}

violation contains {
	"subject": c.subject,
	"message": sprintf("%s sets securityContext.privileged: true; remove it or set it to false", [lib.label(c)]),
	"path": lib.path(c, ["securityContext", "privileged"]),
} if {
	some c in lib.containers
	object.get(c.container, ["securityContext", "privileged"], null) == true
}
