package gitvend.policies.quota_test

import data.gitvend.policies.quota as policy

quota_object := {
	"apiVersion": "v1",
	"kind": "ResourceQuota",
	"metadata": {"name": "compute", "namespace": "team-a"},
	"spec": {"hard": {"requests.cpu": "5"}},
}

# cpu is one requests.cpu resource with the amounts given, in cores, whose
# hard value the change leaves as it was.
cpu(hard, used, after, share, headroom) := {
	"name": "requests.cpu",
	"hard": hard, "used": used, "after": after, "share": share, "tightened": false,
	"text": {
		"hard": sprintf("%v", [hard]), "used": sprintf("%v", [used]), "after": sprintf("%v", [after]),
		"share": sprintf("%v", [share]), "headroom": headroom,
	},
}

input_with(env, resources, problems) := {
	"subjects": [{"object": quota_object, "groupKind": "ResourceQuota", "scope": "namespaced", "context": {}}],
	"quotas": [{
		"subject": 0, "environment": env, "namespace": "team-a", "name": "compute",
		"resources": resources, "problems": problems,
	}],
}

test_overflow_denied if {
	got := policy.violation with input as input_with("dev", [cpu(5, 4, 6, 2, "1")], [])
	got == {{
		"subject": 0,
		"message": "ResourceQuota compute in team-a (dev): requests.cpu would reach 6 of its hard 5: 4 in use, this change adds 2, headroom 1; lower requests, limits or replicas (an HPA counts at maxReplicas), or raise spec.hard.requests.cpu",
		"path": ["spec", "hard", "requests.cpu"],
	}}
}

test_exact_fit_allowed if {
	count(policy.violation) == 0 with input as input_with("", [cpu(5, 4, 5, 1, "1")], [])
}

# Decimal amounts compare exactly: 0.3 cores after 0.1 + 0.2 fits a hard
# 0.3, which float arithmetic would get wrong.
test_decimals_compare_exactly if {
	count(policy.violation) == 0 with input as input_with("", [cpu(0.3, 0.1, 0.3, 0.2, "0.2")], [])
	count(policy.violation) == 1 with input as input_with("", [cpu(0.3, 0.1, 0.301, 0.201, "0.2")], [])
}

# A namespace over its quota already is not this change's doing when the
# change adds nothing to it.
test_over_already_without_share_allowed if {
	count(policy.violation) == 0 with input as input_with("", [cpu(5, 7, 7, 0, "none (over by 2 already)")], [])
	count(policy.violation) == 0 with input as input_with("", [cpu(5, 7, 6, -1, "none (over by 2 already)")], [])
}

test_lowered_hard_value_denied if {
	r := object.union(cpu(1, 2, 2, 0, "none (over by 1 already)"), {"tightened": true})
	got := policy.violation with input as input_with("dev", [r], [])
	got == {{
		"subject": 0,
		"message": "ResourceQuota compute in team-a (dev): spec.hard.requests.cpu is 1, which this change sets, but the namespace uses 2; raise it to at least 2, or lower requests, limits or replicas first",
		"path": ["spec", "hard", "requests.cpu"],
	}}
}

test_lowered_hard_value_that_fits_allowed if {
	r := object.union(cpu(2, 2, 2, 0, "0"), {"tightened": true})
	count(policy.violation) == 0 with input as input_with("", [r], [])
}

test_huge_amounts_compare if {
	count(policy.violation) == 1 with input as input_with("", [cpu(5, 0, 1000000000000000000000000000000000000000, 1000000000000000000000000000000000000000, "5")], [])
}

test_problem_reported if {
	got := policy.violation with input as input_with("", [], ["Deployment web: spec.template.spec.containers[0].resources.requests.cpu: \"lots\" is not a valid quantity"])
	got == {{
		"subject": 0,
		"message": "ResourceQuota compute in team-a cannot be judged: Deployment web: spec.template.spec.containers[0].resources.requests.cpu: \"lots\" is not a valid quantity",
		"path": ["spec", "hard"],
	}}
}

test_no_quotas_allowed if {
	count(policy.violation) == 0 with input as {"subjects": []}
}
