package cost

import (
	"math"
	"slices"

	"github.com/gitvend/gitvend/internal/manifest"
)

// Change is how an estimate moves from the base branch to the head of a
// pull request.
type Change struct {
	Currency    string  `json:"currency"`
	BaseMonthly float64 `json:"base_monthly"`
	Monthly     float64 `json:"monthly"`
	// Delta is Monthly minus BaseMonthly.
	Delta float64 `json:"delta"`
	// BaseMonthlyMax and MonthlyMax are the totals with HPAs at maxReplicas.
	BaseMonthlyMax float64 `json:"base_monthly_max"`
	MonthlyMax     float64 `json:"monthly_max"`
	// Added, Removed and Changed list objects that appear only in head,
	// only in base, or in both at a different monthly cost (at minReplicas
	// or at maxReplicas), each ordered by environment and then by
	// manifest.ID.Less.
	Added   []ObjectDelta `json:"added,omitempty"`
	Removed []ObjectDelta `json:"removed,omitempty"`
	Changed []ObjectDelta `json:"changed,omitempty"`
}

// ObjectDelta is the change of one object's monthly cost.
type ObjectDelta struct {
	manifest.ID
	Environment string  `json:"environment,omitempty"`
	Base        float64 `json:"base"`
	Head        float64 `json:"head"`
	// Delta is Head minus Base.
	Delta float64 `json:"delta"`
	// BaseMax and HeadMax are the costs at maxReplicas, set only when an
	// HPA scales the object in base or in head.
	BaseMax float64 `json:"base_max,omitempty"`
	HeadMax float64 `json:"head_max,omitempty"`
}

// minDelta is the smallest change of an object's cost that Compare reports;
// smaller differences are rounding noise.
const minDelta = 1e-9

// Compare returns the change from base to head. Objects are matched by
// environment and ID; an object listed twice in one estimate counts with
// the sum of its entries. The currency is head's, or base's when head has
// none.
func Compare(base, head Estimate) Change {
	return compareObjects(base, head, base.Objects, head.Objects)
}

// compareObjects is Compare with the totals of base and head and the
// objects of each that may differ: any object left out of both is the
// same in both.
func compareObjects(base, head Estimate, baseObjs, headObjs []ObjectCost) Change {
	ch := Change{
		Currency:       head.Currency,
		BaseMonthly:    base.Monthly,
		Monthly:        head.Monthly,
		Delta:          head.Monthly - base.Monthly,
		BaseMonthlyMax: base.MonthlyMax,
		MonthlyMax:     head.MonthlyMax,
	}
	if ch.Currency == "" {
		ch.Currency = base.Currency
	}
	type key struct {
		env string
		id  manifest.ID
	}
	type sum struct {
		monthly, max float64
		scaled       bool
	}
	sums := func(objs []ObjectCost) map[key]sum {
		m := make(map[key]sum, len(objs))
		for _, o := range objs {
			k := key{o.Environment, o.ID}
			s := m[k]
			s.monthly += o.Monthly
			s.max += o.MaxMonthly()
			s.scaled = s.scaled || o.MaxReplicas > 0
			m[k] = s
		}
		return m
	}
	before, after := sums(baseObjs), sums(headObjs)
	for k, h := range after {
		b, ok := before[k]
		d := ObjectDelta{ID: k.id, Environment: k.env, Base: b.monthly, Head: h.monthly, Delta: h.monthly - b.monthly}
		if b.scaled || h.scaled {
			d.BaseMax, d.HeadMax = b.max, h.max
		}
		switch {
		case !ok:
			ch.Added = append(ch.Added, d)
		case math.Abs(d.Delta) > minDelta || math.Abs(h.max-b.max) > minDelta:
			ch.Changed = append(ch.Changed, d)
		}
	}
	for k, b := range before {
		if _, ok := after[k]; !ok {
			d := ObjectDelta{ID: k.id, Environment: k.env, Base: b.monthly, Delta: -b.monthly}
			if b.scaled {
				d.BaseMax = b.max
			}
			ch.Removed = append(ch.Removed, d)
		}
	}
	order := func(a, b ObjectDelta) int { return compareKey(a.Environment, a.ID, b.Environment, b.ID) }
	slices.SortFunc(ch.Added, order)
	slices.SortFunc(ch.Removed, order)
	slices.SortFunc(ch.Changed, order)
	return ch
}
