# Requests let the scheduler place pods and the cost estimate price them; a
# memory limit keeps one pod from starving its node.
package gitvend.policies.resource_limits

import data.gitvend.lib

metadata := {
	"id": "resource-limits",
	"severity": "deny",
	"title": "Resource requests and memory limit",
	"description": "Every container and init container must set resources.requests.cpu, resources.requests.memory and resources.limits.memory. (Ephemeral containers may not set resources and are not checked.)",
	"fix": "Set resources.requests.cpu (such as 100m), resources.requests.memory (such as 128Mi) and resources.limits.memory (at least the request) on every container.",
	"params": {},
}

required := {
	["requests", "cpu"]: "a CPU request such as 100m",
	["requests", "memory"]: "a memory request such as 128Mi",
	["limits", "memory"]: "a memory limit such as 256Mi, at least the memory request",
}

violation contains {
	"subject": c.subject,
	"message": sprintf("%s does not set resources.%s; set %s", [lib.label(c), concat(".", field), example]),
	"path": lib.path(c, array.concat(["resources"], field)),
} if {
	some c in lib.containers
	c.field != "ephemeralContainers"
	resources := object.get(c.container, "resources", {})
	not complete(resources)
	some field, example in required
	not quantity(object.get(resources, field, null))
}

# complete tells at once whether every required field is set.
complete(resources) if {
	quantity(resources.requests.cpu)
	quantity(resources.requests.memory)
	quantity(resources.limits.memory)
}

quantity(v) if is_string(v)

quantity(v) if is_number(v)
