# A hostPath volume mounts a directory of the node into the pod.
package gitvend.policies.host_path

import data.gitvend.lib

metadata := {
	"id": "host-path",
	"severity": "deny",
	"title": "No hostPath volumes",
	"description": "Pods must not mount directories of the node through hostPath volumes: they can read or change the node's files and tie the pod to one node.",
	"fix": "Replace the hostPath volume with a persistentVolumeClaim, configMap, secret or emptyDir volume.",
	"params": {},
}

violation contains finding if {
	some pod in lib.pods
	volumes := object.get(pod.spec, "volumes", [])
	is_array(volumes)
	some k, volume in volumes
	"hostPath" in object.keys(volume)
	finding := {
		"subject": pod.subject,
		"message": sprintf(
			"volume %s mounts hostPath %s, a directory of the node; use a persistentVolumeClaim, configMap, secret or emptyDir volume instead",
			[object.get(volume, "name", sprintf("#%d", [k])), host_path_of(volume.hostPath)],
		),
		"path": array.concat(pod.path, ["volumes", k, "hostPath"]),
	}
}

host_path_of(hp) := hp.path if {
	is_string(hp.path)
} else := "(no path)"
