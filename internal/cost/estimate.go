package cost

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gitvend/gitvend/internal/manifest"
)

// OwnerLabel is the label that names the team an object belongs to; costs
// are allocated to owners by it.
const OwnerLabel = "gitvend.dev/owner"

// Item is one object to estimate and the environment it is deployed to,
// whose prices apply.
type Item struct {
	Object      *manifest.Object
	Environment string
}

// Items pairs every object of objs with environment.
func Items(environment string, objs []manifest.Object) []Item {
	out := make([]Item, len(objs))
	for i := range objs {
		out[i] = Item{Object: &objs[i], Environment: environment}
	}
	return out
}

// Estimate is the monthly cost of a set of objects. Amounts are in Currency
// and kept unrounded; FormatMoney rounds them to cents for display.
type Estimate struct {
	Currency string `json:"currency"`
	// Monthly is the total, with every HPA-scaled workload at minReplicas.
	Monthly float64 `json:"monthly"`
	// MonthlyMax is the total with every HPA-scaled workload at
	// maxReplicas; it equals Monthly when no HPA scales anything.
	MonthlyMax float64 `json:"monthly_max"`
	// Objects lists every object that has a price, ordered by environment
	// and then by manifest.ID.Less.
	Objects []ObjectCost `json:"objects"`
	// ByNamespace, ByOwner and ByEnvironment split Monthly; objects without
	// a namespace or owner count under "".
	ByNamespace   map[string]float64 `json:"by_namespace"`
	ByOwner       map[string]float64 `json:"by_owner"`
	ByEnvironment map[string]float64 `json:"by_environment"`
	// Notes are remarks on the estimate as a whole, such as environments
	// priced in different currencies.
	Notes []string `json:"notes,omitempty"`
}

// ObjectCost is the monthly cost of one object.
type ObjectCost struct {
	manifest.ID
	Environment string `json:"environment,omitempty"`
	// Owner is the object's gitvend.dev/owner label.
	Owner string `json:"owner,omitempty"`
	// Monthly is the estimate; for an HPA-scaled workload, at minReplicas.
	Monthly float64 `json:"monthly"`
	// MonthlyMax is the estimate at maxReplicas for an HPA-scaled
	// workload, zero for other objects.
	MonthlyMax float64 `json:"monthly_max,omitempty"`
	// Replicas is the number of pods Monthly counts: replicas of a
	// workload, pods at a time of a Job or CronJob run.
	Replicas int `json:"replicas,omitempty"`
	// MinReplicas and MaxReplicas are the range of an HPA-scaled workload.
	MinReplicas int `json:"min_replicas,omitempty"`
	MaxReplicas int `json:"max_replicas,omitempty"`
	// CPU (cores), RAMGiB, GPU and StorageGB (10^9 bytes) are what one
	// replica requests; for a PersistentVolumeClaim, StorageGB is its size.
	CPU       float64 `json:"cpu,omitempty"`
	RAMGiB    float64 `json:"ram_gib,omitempty"`
	GPU       float64 `json:"gpu,omitempty"`
	StorageGB float64 `json:"storage_gb,omitempty"`
	// Notes are the assumptions made and the problems found, such as a
	// missing request costed at 0.
	Notes []string `json:"notes,omitempty"`
}

// MaxMonthly returns MonthlyMax for an HPA-scaled workload and Monthly for
// any other object.
func (o ObjectCost) MaxMonthly() float64 {
	if o.MaxReplicas > 0 {
		return o.MonthlyMax
	}
	return o.Monthly
}

// Compute estimates the monthly cost of items, each priced at the prices of
// its environment (DefaultPrices when prices is nil). Kinds that cost
// nothing by themselves are left out; a HorizontalPodAutoscaler is not
// listed but gives the workload it targets in the same environment and
// namespace a range from minReplicas to maxReplicas. Bad values never stop
// the estimate: they cost 0 and are named in the object's notes.
func Compute(items []Item, prices func(environment string) Prices) Estimate {
	return (*Memo)(nil).Compute(items, prices)
}

// Compute is the package's Compute, with the estimate of each object
// taken from m when an object of the same content was estimated at the
// same prices before. A nil Memo remembers nothing.
func (m *Memo) Compute(items []Item, prices func(environment string) Prices) Estimate {
	est, _, _ := m.compute(items, priceCache(prices))
	return est
}

// compute is Compute at the prices priceOf gives. It also returns the
// records of the estimate's objects, in its order, and the HPAs read,
// each knowing the index of its item.
func (m *Memo) compute(items []Item, priceOf func(string) Prices) (Estimate, []costed, []scaler) {
	objs := make([]costed, 0, len(items))
	var scalers []scaler
	envs := map[string]bool{}
	for i, it := range items {
		if it.Object == nil {
			continue
		}
		envs[it.Environment] = true
		if s, ok := readScaler(it.Object, it.Environment); ok {
			s.item = i
			scalers = append(scalers, s)
			continue
		}
		c, ok := m.price(it, priceOf)
		if !ok {
			continue
		}
		c.item = i
		objs = append(objs, c)
	}
	applyScalers(objs, scalers)
	// Sort positions rather than the large records; equal keys keep their
	// input order.
	order := make([]int, len(objs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		if c := compareKey(objs[i].Environment, objs[i].ID, objs[j].Environment, objs[j].ID); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	sorted := make([]costed, len(objs))
	for i, at := range order {
		sorted[i] = objs[at]
	}
	est := total(len(sorted), func(i int) *ObjectCost { return &sorted[i].ObjectCost })
	est.Currency, est.Notes = currency(envs, priceOf)
	return est, sorted, scalers
}

// price estimates the object of it at its environment's prices, as an
// object of that environment with the owner its label names; false for
// kinds that cost nothing by themselves.
func (m *Memo) price(it Item, priceOf func(string) Prices) (costed, bool) {
	c, ok := m.estimate(it.Object, priceOf(it.Environment))
	if !ok {
		return c, false
	}
	c.Environment = it.Environment
	if owner, ok := manifest.Lookup(it.Object.Content, "metadata", "labels", OwnerLabel); ok {
		s, _ := owner.(string)
		c.Owner = manifest.Intern(s) // estimates add up by owner
	}
	return c, true
}

// total adds up the n objects at(0) … at(n-1), in that order, into an
// estimate without currency.
func total(n int, at func(int) *ObjectCost) Estimate {
	est := Estimate{
		ByNamespace:   map[string]float64{},
		ByOwner:       map[string]float64{},
		ByEnvironment: map[string]float64{},
		Objects:       make([]ObjectCost, n),
	}
	byNamespace, byOwner, byEnv := runSums{m: est.ByNamespace}, runSums{m: est.ByOwner}, runSums{m: est.ByEnvironment}
	for i := range n {
		c := at(i)
		est.Objects[i] = *c
		est.Monthly += c.Monthly
		est.MonthlyMax += c.MaxMonthly()
		byNamespace.add(c.Namespace, c.Monthly)
		byOwner.add(c.Owner, c.Monthly)
		byEnv.add(c.Environment, c.Monthly)
	}
	byNamespace.flush()
	byOwner.flush()
	byEnv.flush()
	return est
}

// runSums adds amounts into m by key as m[key] += amount would, in the
// same order and so to the same float64, but holds the sum of a run of
// one key aside: objects in estimate order come in long runs of one
// environment, namespace and owner, and a check adds up tens of
// thousands of them.
type runSums struct {
	m    map[string]float64
	key  string
	sum  float64
	open bool
}

func (r *runSums) add(key string, amount float64) {
	if !r.open || key != r.key {
		r.flush()
		r.key, r.sum, r.open = key, r.m[key], true
	}
	r.sum += amount
}

// flush writes the run's sum into m.
func (r *runSums) flush() {
	if r.open {
		r.m[r.key] = r.sum
	}
}

// priceCache asks prices once per environment.
func priceCache(prices func(string) Prices) func(string) Prices {
	if prices == nil {
		prices = func(string) Prices { return DefaultPrices() }
	}
	seen := map[string]Prices{}
	return func(env string) Prices {
		p, ok := seen[env]
		if !ok {
			p = prices(env)
			seen[env] = p
		}
		return p
	}
}

// currency returns the currency of the environments envs and a note
// when they differ.
func currency(envs map[string]bool, priceOf func(string) Prices) (string, []string) {
	if len(envs) == 0 {
		return priceOf("").Currency, nil
	}
	byEnv := make(map[string]string, len(envs))
	for env := range envs {
		byEnv[env] = priceOf(env).Currency
	}
	names := slices.Sorted(maps.Keys(envs))
	cur := byEnv[names[0]]
	mixed := false
	parts := make([]string, len(names))
	for i, e := range names {
		parts[i] = fmt.Sprintf("%s: %s", e, byEnv[e])
		mixed = mixed || byEnv[e] != cur
	}
	if !mixed {
		return cur, nil
	}
	return cur, []string{fmt.Sprintf("environments are priced in different currencies (%s); totals add the amounts unconverted", strings.Join(parts, ", "))}
}

// applyScalers applies each HPA, in ID order, to the workloads it targets.
func applyScalers(objs []costed, scalers []scaler) {
	if len(scalers) == 0 {
		return
	}
	slices.SortStableFunc(scalers, func(a, b scaler) int { return compareKey(a.environment, a.id, b.environment, b.id) })
	type target struct{ env, ns, kind, name string }
	index := make(map[target][]int, len(objs))
	for i := range objs {
		if objs[i].scalable {
			k := target{objs[i].Environment, objs[i].Namespace, objs[i].Kind, objs[i].Name}
			index[k] = append(index[k], i)
		}
	}
	for _, s := range scalers {
		for _, i := range index[target{s.environment, s.id.Namespace, s.kind, s.name}] {
			if s.targets(&objs[i]) {
				s.apply(&objs[i])
			}
		}
	}
}

// compareKey orders objects by environment and then by manifest.ID.Less.
func compareKey(envA string, a manifest.ID, envB string, b manifest.ID) int {
	if c := cmp.Compare(envA, envB); c != 0 {
		return c
	}
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}
