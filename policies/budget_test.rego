package gitvend.policies.budget_test

import data.gitvend.policies.budget as policy

cost(budgets) := {"subjects": [], "cost": {"currency": "USD", "budgets": budgets}}

test_team_over_budget_denied if {
	got := policy.violation with input as cost([
		{"scope": "owner", "name": "payments", "environment": "dev", "monthly": 412.304, "limit": 300},
		{"scope": "owner", "name": "search", "environment": "", "monthly": 20, "limit": 300},
	])
	got == {{
		"message": "team payments is estimated at 412.30 USD a month in dev, over its budget of 300.00 USD; lower resource requests or replicas, or raise the budget in gitvend.yaml",
		"path": [],
		"name": "payments",
	}}
}

test_namespace_over_budget_denied if {
	got := policy.violation with input as cost([{"scope": "namespace", "name": "team-a", "environment": "", "monthly": 100.5, "limit": 100}])
	got == {{
		"message": "namespace team-a is estimated at 100.50 USD a month, over its budget of 100.00 USD; lower resource requests or replicas, or raise the budget in gitvend.yaml",
		"path": [],
		"namespace": "team-a",
	}}
}

test_exactly_on_budget_allowed if {
	count(policy.violation) == 0 with input as cost([{"scope": "owner", "name": "payments", "environment": "", "monthly": 300, "limit": 300}])
}

test_no_cost_input_allowed if {
	count(policy.violation) == 0 with input as {"subjects": []}
}
