package cost

import (
	"fmt"
	"math"

	"github.com/gitvend/gitvend/internal/config"
)

// Budget scopes.
const (
	ScopeOwner     = "owner"
	ScopeNamespace = "namespace"
)

// BudgetStatus is one budget held against an estimate.
type BudgetStatus struct {
	// Scope is ScopeOwner or ScopeNamespace.
	Scope string `json:"scope"`
	// Name is the team or the namespace.
	Name string `json:"name"`
	// Environment, when set, limits the budget to that environment.
	Environment string `json:"environment,omitempty"`
	// Monthly is the estimate of what the budget covers, with HPA-scaled
	// workloads at minReplicas; MonthlyMax has them at maxReplicas.
	Monthly    float64 `json:"monthly"`
	MonthlyMax float64 `json:"monthly_max"`
	// Limit is the budget's monthly amount.
	Limit float64 `json:"limit"`
	// Used is the estimate of what the budget covers before the change
	// (on the base branch); HasBase tells whether there was one, and
	// without one everything is new.
	Used    float64 `json:"used"`
	HasBase bool    `json:"has_base"`
	// Exceeded is set when Monthly, rounded to cents, is more than Limit.
	Exceeded bool `json:"exceeded"`
}

// CheckBudgets holds every budget against est, in the order given. A
// budget counts the objects whose owner (gitvend.dev/owner label) or
// namespace it names, in its environment only when it sets one. A budget
// that names both an owner and a namespace counts the objects matching
// both and reports the owner scope; one that names neither (which
// config.Repo.Validate rejects) matches nothing.
func CheckBudgets(est Estimate, budgets []config.Budget) []BudgetStatus {
	out := make([]BudgetStatus, 0, len(budgets))
	for _, b := range budgets {
		st := BudgetStatus{Scope: ScopeOwner, Name: b.Owner, Environment: b.Environment, Limit: b.Monthly}
		if b.Owner == "" {
			st.Scope, st.Name = ScopeNamespace, b.Namespace
		}
		for _, o := range est.Objects {
			if b.Owner == "" && b.Namespace == "" {
				break
			}
			if (b.Owner != "" && o.Owner != b.Owner) ||
				(b.Namespace != "" && o.Namespace != b.Namespace) ||
				(b.Environment != "" && o.Environment != b.Environment) {
				continue
			}
			st.Monthly += o.Monthly
			st.MonthlyMax += o.MaxMonthly()
		}
		st.Exceeded = cents(st.Monthly) > cents(st.Limit)
		out = append(out, st)
	}
	return out
}

// CompareBudgets holds every budget against head, as CheckBudgets does,
// and notes what base used of it, so that each says what it used, what
// the change adds and what is left.
func CompareBudgets(base, head Estimate, budgets []config.Budget) []BudgetStatus {
	out := CheckBudgets(head, budgets)
	for i, b := range CheckBudgets(base, budgets) {
		out[i].Used, out[i].HasBase = b.Monthly, true
	}
	return out
}

// Share is what the change adds to the budget's estimate (all of it
// without a base); negative when it saves.
func (b BudgetStatus) Share() float64 { return b.Monthly - b.Used }

// Headroom is what the budget had left before the change; negative when
// it was over already.
func (b BudgetStatus) Headroom() float64 { return b.Limit - b.Used }

// Use says, in one line, what a budget used, its amount, and what it
// comes to after the change: "$100.00 used of $300.00, $412.30 after this
// change (+$312.30; headroom $200.00)". Without a base it gives the
// estimate against the amount.
func (b BudgetStatus) Use(currency string) string {
	if !b.HasBase {
		return fmt.Sprintf("%s of %s", FormatMoney(currency, b.Monthly), FormatMoney(currency, b.Limit))
	}
	return fmt.Sprintf("%s used of %s, %s after this change (%s; headroom %s)",
		FormatMoney(currency, b.Used), FormatMoney(currency, b.Limit), FormatMoney(currency, b.Monthly),
		FormatDelta(currency, b.Share()), FormatHeadroom(currency, b.Headroom()))
}

// FormatHeadroom formats what is left under a limit, or "none (over by
// $x already)" when nothing is.
func FormatHeadroom(currency string, v float64) string {
	if cents(v) < 0 {
		return "none (over by " + FormatMoney(currency, -v) + " already)"
	}
	return FormatMoney(currency, v)
}

// cents rounds an amount to whole cents.
func cents(v float64) float64 { return math.Round(v * 100) }

// FormatDelta formats a change of money with its sign: "+$3.00", "−$1.50",
// or "±$0.00" when it rounds to zero.
func FormatDelta(currency string, v float64) string {
	if math.Abs(v) < 0.005 {
		return "±" + FormatMoney(currency, 0)
	}
	if v > 0 {
		return "+" + FormatMoney(currency, v)
	}
	return "−" + FormatMoney(currency, -v)
}
