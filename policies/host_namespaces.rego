# Sharing the node's network, process or IPC namespace lets a pod see and
# reach what other pods on the node do.
package gitvend.policies.host_namespaces

import data.gitvend.lib

metadata := {
	"id": "host-namespaces",
	"severity": "deny",
	"title": "No host namespaces",
	"description": "Pods must not share the node's network, process or IPC namespace (hostNetwork, hostPID, hostIPC): doing so exposes the node and every other pod on it.",
	"fix": "Remove hostNetwork, hostPID and hostIPC from the pod spec or set them to false; expose ports through a Service instead of the host network.",
	"params": {},
}

shares := {
	"hostNetwork": "the node's network namespace",
	"hostPID": "the node's process namespace",
	"hostIPC": "the node's IPC namespace",
}

violation contains finding if {
	some pod in lib.pods
	some name, what in shares
	pod.spec[name] == true
	finding := {
		"subject": pod.subject,
		"message": sprintf("pod spec sets %s: true, which shares %s with the pod; remove it or set it to false", [name, what]),
		"path": array.concat(pod.path, [name]),
	}
}
