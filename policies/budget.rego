# Budgets cap what a team or a namespace may spend a month; the cost
# estimate of the change is part of the input.
package gitvend.policies.budget

metadata := {
	"id": "budget",
	"severity": "deny",
	"title": "Budgets",
	"description": "The estimated monthly cost of a team or a namespace must not exceed its budget in gitvend.yaml.",
	"fix": "Lower resource requests or replicas, remove unused objects, or raise the budget in gitvend.yaml.",
	"params": {},
}

who := {"owner": "team", "namespace": "namespace"}

violation contains finding if {
	some b in input.cost.budgets
	b.monthly > b.limit
	finding := object.union(
		{
			"message": sprintf(
				"%s %s is estimated at %s %s a month%s, over its budget of %s %s; lower resource requests or replicas, or raise the budget in gitvend.yaml",
				[who[b.scope], b.name, money(b.monthly), input.cost.currency, where(b), money(b.limit), input.cost.currency],
			),
			"path": [],
		},
		identity(b),
	)
}

where(b) := sprintf(" in %s", [b.environment]) if {
	b.environment != ""
} else := ""

identity(b) := {"namespace": b.name} if {
	b.scope == "namespace"
} else := {"name": b.name}

# money formats an amount with two decimals (sprintf's %f rejects integers).
money(x) := sprintf("%d.%02d", [floor(cents / 100), cents % 100]) if {
	cents := round(x * 100)
}
