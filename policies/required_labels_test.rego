package gitvend.policies.required_labels_test

import data.gitvend.lib.fixtures
import data.gitvend.policies.required_labels as policy

config_map(labels) := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "team-a", "labels": labels}}

test_missing_labels_denied if {
	objs := [config_map({"app.kubernetes.io/name": "cfg"}), {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}]
	got := policy.violation with input as fixtures.input_for(objs)
	got == {
		{
			"subject": 0,
			"message": "missing label gitvend.dev/owner; add it under metadata.labels with a non-empty value",
			"path": ["metadata", "labels", "gitvend.dev/owner"],
		},
		{
			"subject": 1,
			"message": "missing label app.kubernetes.io/name; add it under metadata.labels with a non-empty value",
			"path": ["metadata", "labels", "app.kubernetes.io/name"],
		},
		{
			"subject": 1,
			"message": "missing label gitvend.dev/owner; add it under metadata.labels with a non-empty value",
			"path": ["metadata", "labels", "gitvend.dev/owner"],
		},
	}
}

test_empty_value_denied if {
	got := policy.violation with input as fixtures.input_for([config_map({"app.kubernetes.io/name": "cfg", "gitvend.dev/owner": ""})])
	{f.path | some f in got} == {["metadata", "labels", "gitvend.dev/owner"]}
}

test_labelled_objects_allowed[kind] if {
	some kind, _ in fixtures.pod_kinds
	objs := [fixtures.workload(kind, fixtures.pod_spec), config_map(fixtures.labels)]
	count(policy.violation) == 0 with input as fixtures.input_for(objs)
}

test_labels_param_replaces_default if {
	inp := object.union(
		fixtures.input_for([config_map(fixtures.labels)]),
		{"params": {"required-labels": {"labels": ["cost-center"]}}},
	)
	got := policy.violation with input as inp
	{f.message | some f in got} == {"missing label cost-center; add it under metadata.labels with a non-empty value"}
}
