# Images from registries the platform does not trust bypass its scanning
# and signing.
package gitvend.policies.allowed_registries

import data.gitvend.lib

metadata := {
	"id": "allowed-registries",
	"severity": "deny",
	"title": "Allowed image registries",
	"description": "Container images must come from one of the allowed registry prefixes. With no prefixes configured, every registry is allowed.",
	"fix": "Use an image under one of the allowed prefixes, or add the registry to policy.policies.allowed-registries.params.registries in gitvend.yaml.",
	"params": {"registries": {
		"type": "string-array",
		"default": [],
		"description": "Allowed image prefixes, such as ghcr.io/acme/; Docker Hub images are matched in their full form docker.io/library/nginx.",
	}},
}

params := lib.params(metadata)

# full returns the image reference with Docker Hub's implicit registry and
# library/ namespace written out.
full(image) := concat("/", ["docker.io", "library", image]) if {
	not contains(image, "/")
} else := concat("/", ["docker.io", image]) if {
	first := split(image, "/")[0]
	not contains(first, ".")
	not contains(first, ":")
	first != "localhost"
} else := image

violation contains {
	"subject": c.subject,
	"message": sprintf("%s uses image %s from a registry that is not allowed; use an image under one of: %s", [lib.label(c), image, concat(", ", params.registries)]),
	"path": lib.path(c, ["image"]),
} if {
	count(params.registries) > 0
	some c in lib.containers
	image := c.container.image
	is_string(image)
	not lib.has_prefix(image, params.registries)
	not lib.has_prefix(full(image), params.registries)
}
