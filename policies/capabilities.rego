# Linux capabilities split root's power into pieces; containers should hold
# none of them unless one is needed and allowed.
package gitvend.policies.capabilities

import data.gitvend.lib

metadata := {
	"id": "capabilities",
	"severity": "deny",
	"title": "Drop all capabilities",
	"description": "Every container must drop ALL Linux capabilities and may add back only the allowed ones.",
	"fix": "Set securityContext.capabilities.drop: [\"ALL\"] on every container and add back only capabilities listed in the policy's allowed parameter.",
	"params": {"allowed": {
		"type": "string-array",
		"default": ["NET_BIND_SERVICE"],
		"description": "Capabilities a container may add, such as NET_BIND_SERVICE.",
	}},
}

params := lib.params(metadata)

allowed := {normalize(name) | some name in params.allowed}

# normalize compares capability names without the CAP_ prefix, in upper case.
normalize(name) := trim_prefix(upper(name), "CAP_")

violation contains {
	"subject": c.subject,
	"message": sprintf("%s does not drop all capabilities; set securityContext.capabilities.drop: [\"ALL\"]", [lib.label(c)]),
	"path": lib.path(c, ["securityContext", "capabilities", "drop"]),
} if {
	some c in lib.containers
	drop := object.get(c.container, ["securityContext", "capabilities", "drop"], [])
	not "ALL" in drop
}

violation contains {
	"subject": c.subject,
	"message": sprintf("%s adds capability %s; %s", [lib.label(c), name, allowed_text]),
	"path": lib.path(c, ["securityContext", "capabilities", "add", k]),
} if {
	some c in lib.containers
	add := object.get(c.container, ["securityContext", "capabilities", "add"], [])
	is_array(add)
	some k, name in add
	not normalize(name) in allowed
}

allowed_text := "no capability may be added" if {
	count(allowed) == 0
} else := sprintf("only %s may be added", [concat(", ", sort(allowed))])
