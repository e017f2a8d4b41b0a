# An image without a tag, or tagged latest, changes under the same name:
# what runs differs from what was reviewed.
package gitvend.policies.image_latest_tag

import data.gitvend.lib

metadata := {
	"id": "image-latest-tag",
	"severity": "deny",
	"title": "Pin image versions",
	"description": "Every container image must name a version tag other than latest, or a digest, so that what runs is what was reviewed.",
	"fix": "Use an image reference with a version tag (ghcr.io/acme/app:1.4.2) or a digest (ghcr.io/acme/app@sha256:...).",
	"params": {},
}

# tag returns the tag of an image reference without a digest, "" when it
# has none. A ':' before the last '/' belongs to a registry's port.
tag(image) := t if {
	parts := split(image, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	t := substring(last, indexof(last, ":") + 1, -1)
} else := ""

violation contains {
	"subject": c.subject,
	"message": message(lib.label(c), image, tag(image)),
	"path": lib.path(c, ["image"]),
} if {
	some c in lib.containers
	image := c.container.image
	is_string(image)
	not contains(image, "@")
	tag(image) in {"", "latest"}
}

message(label, image, "") := sprintf("%s uses image %s without a tag, which means :latest; pin a version tag or a digest (@sha256:...)", [label, image])

message(label, image, "latest") := sprintf("%s uses image %s; pin a version tag other than latest, or a digest (@sha256:...)", [label, image])
