package gitvend.policies.image_latest_tag_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.image_latest_tag as policy

with_image(name, image) := object.union(fixtures.container, {"name": name, "image": image})

test_untagged_and_latest_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {
		"initContainers": [with_image("setup", "busybox")],
		"containers": [with_image("app", "ghcr.io/acme/app:latest")],
		"ephemeralContainers": [with_image("debug", "localhost:5000/tools")],
	}
	got := policy.violation with input as fixtures.input_for([fixtures.workload(kind, spec)])
	got == {
		{
			"subject": 0,
			"message": "init container setup uses image busybox without a tag, which means :latest; pin a version tag or a digest (@sha256:...)",
			"path": fixtures.path(kind, ["initContainers", 0, "image"]),
		},
		{
			"subject": 0,
			"message": "container app uses image ghcr.io/acme/app:latest; pin a version tag other than latest, or a digest (@sha256:...)",
			"path": fixtures.path(kind, ["containers", 0, "image"]),
		},
		{
			"subject": 0,
			"message": "ephemeral container debug uses image localhost:5000/tools without a tag, which means :latest; pin a version tag or a digest (@sha256:...)",
			"path": fixtures.path(kind, ["ephemeralContainers", 0, "image"]),
		},
	}
}

test_pinned_images_allowed[image] if {
	some image in [
		"ghcr.io/acme/app:1.4.2",
		"nginx:1.27",
		"localhost:5000/tools:2024.1",
		"ghcr.io/acme/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"ghcr.io/acme/app:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	]
	spec := {"containers": [with_image("app", image)]}
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload("Deployment", spec)])
}

test_compliant_pod_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, fixtures.pod_spec)])
}
