# Containers that run as root own every file of their image and are one
# escape away from root on the node.
package gitvend.policies.run_as_non_root

import data.gitvend.lib

metadata := {
	"id": "run-as-non-root",
	"severity": "deny",
	"title": "Run as non-root",
	"description": "Every container must run as a non-root user: runAsNonRoot must be true, on the container or the pod, and no runAsUser may be 0.",
	"fix": "Set securityContext.runAsNonRoot: true on the pod (or on every container) and build the image with a non-root USER; remove any runAsUser: 0.",
	"params": {},
}

# A container's own setting wins over the pod's. Each finding is computed
# from both settings at once, as [message, path].

violation contains {"subject": c.subject, "message": f[0], "path": f[1]} if {
	some c in lib.containers
	own := object.get(c.container, ["securityContext", "runAsNonRoot"], null)
	own != true
	pod := object.get(c.pod_spec, ["securityContext", "runAsNonRoot"], null)
	[own, pod] != [null, true]
	f := non_root(c, own, pod)
}

violation contains {"subject": c.subject, "message": f[0], "path": f[1]} if {
	some c in lib.containers
	object.get(c.container, ["securityContext", "runAsUser"], object.get(c.pod_spec, ["securityContext", "runAsUser"], null)) == 0
	f := root_user(c, object.get(c.container, ["securityContext", "runAsUser"], null))
}

non_root(c, null, null) := [
	sprintf("%s may run as root: set securityContext.runAsNonRoot: true on the container or the pod", [lib.label(c)]),
	lib.path(c, ["securityContext", "runAsNonRoot"]),
]

non_root(c, null, pod) := [
	sprintf("pod securityContext sets runAsNonRoot: %v, which %s inherits; set it to true", [pod, lib.label(c)]),
	array.concat(c.pod_path, ["securityContext", "runAsNonRoot"]),
] if {
	not pod in {null, true}
}

non_root(c, own, _) := [
	sprintf("%s sets securityContext.runAsNonRoot: %v; set it to true", [lib.label(c), own]),
	lib.path(c, ["securityContext", "runAsNonRoot"]),
] if {
	not own in {null, true}
}

root_user(c, 0) := [
	sprintf("%s sets securityContext.runAsUser: 0 (root); use a non-zero user id", [lib.label(c)]),
	lib.path(c, ["securityContext", "runAsUser"]),
]

root_user(c, null) := [
	sprintf("pod securityContext sets runAsUser: 0 (root), which %s inherits; use a non-zero user id", [lib.label(c)]),
	array.concat(c.pod_path, ["securityContext", "runAsUser"]),
]
