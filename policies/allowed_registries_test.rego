package gitvend.policies.allowed_registries_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.allowed_registries as policy

with_image(name, image) := object.union(fixtures.container, {"name": name, "image": image})

with_registries(objs, registries) := object.union(
	fixtures.input_for(objs),
	{"params": {"allowed-registries": {"registries": registries}}},
)

test_other_registry_denied[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {
		"initContainers": [with_image("setup", "quay.io/evil/setup:1")],
		"containers": [fixtures.container],
		"ephemeralContainers": [with_image("debug", "busybox:1.36")],
	}
	inp := with_registries([fixtures.workload(kind, spec)], ["ghcr.io/acme/"])
	got := policy.violation with input as inp
	got == {
		{
			"subject": 0,
			"message": "init container setup uses image quay.io/evil/setup:1 from a registry that is not allowed; use an image under one of: ghcr.io/acme/",
			"path": fixtures.path(kind, ["initContainers", 0, "image"]),
		},
		{
			"subject": 0,
			"message": "ephemeral container debug uses image busybox:1.36 from a registry that is not allowed; use an image under one of: ghcr.io/acme/",
			"path": fixtures.path(kind, ["ephemeralContainers", 0, "image"]),
		},
	}
}

test_prefix_is_not_a_substring_match if {
	spec := {"containers": [with_image("app", "ghcr.io/acme-evil/app:1")]}
	got := policy.violation with input as with_registries([fixtures.workload("Deployment", spec)], ["ghcr.io/acme/"])
	count(got) == 1
}

test_docker_hub_short_names_match_full_prefix[image] if {
	some image in ["nginx:1.27", "docker.io/library/nginx:1.27", "bitnami/redis:7.2"]
	spec := {"containers": [with_image("app", image)]}
	inp := with_registries([fixtures.workload("Deployment", spec)], ["docker.io/library/", "docker.io/bitnami/"])
	count(policy.violation) == 0 with input as inp
}

test_registry_with_port_not_docker_hub if {
	spec := {"containers": [with_image("app", "registry:5000/app:1")]}
	got := policy.violation with input as with_registries([fixtures.workload("Deployment", spec)], ["docker.io/"])
	count(got) == 1
}

test_empty_list_allows_every_registry[kind] if {
	some kind, _ in fixtures.pod_kinds
	spec := {"containers": [with_image("app", "quay.io/anyone/app:1")]}
	count(policy.violation) == 0 with input as fixtures.input_for([fixtures.workload(kind, spec)])
}

test_allowed_registry_accepted[kind] if {
	some kind, _ in fixtures.pod_kinds
	inp := with_registries([fixtures.workload(kind, fixtures.pod_spec)], ["quay.io/", "ghcr.io/acme/"])
	count(policy.violation) == 0 with input as inp
}
