package cost

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/gitvend/gitvend/internal/config"
)

// HoursPerWeek is the length of a week in hours.
const HoursPerWeek = 7 * 24

// Saving is what a sleep schedule of gitvend.yaml saves on the workloads
// of one namespace of an environment.
type Saving struct {
	Environment string `json:"environment"`
	Namespace   string `json:"namespace"`
	// HoursPerWeek is how long the namespace's workloads sleep in a week.
	HoursPerWeek float64 `json:"hours_per_week"`
	// Monthly is the estimate of what sleeping saves in a month.
	Monthly float64 `json:"monthly"`
}

// String reads as "dev team-search: asleep 113 h/week, saves $12.34/month".
func (s Saving) String(currency string) string {
	return fmt.Sprintf("%s %s: asleep %s h/week, saves %s/month", s.Environment, s.Namespace,
		formatFloat(s.HoursPerWeek), FormatMoney(currency, s.Monthly))
}

// Savings estimates what the sleep schedules of cfg save on the objects of
// est, by environment and namespace, sorted by both; namespaces no
// schedule covers are left out. While asleep:
//
//   - a Deployment or StatefulSet runs no pods: its cost is saved for the
//     share of the week it sleeps, except a StatefulSet's volumes, which
//     are kept;
//   - an HPA-scaled workload is held at one replica: the replicas above one
//     of its minReplicas are saved;
//   - a CronJob is suspended: its runs are taken as spread over the week,
//     and those in the sleeping share saved.
//
// Other objects (Pods, Jobs, DaemonSets, volumes, load balancers) cost the
// same asleep.
func Savings(est Estimate, cfg *config.Repo) []Saving {
	if cfg == nil || len(cfg.Sleep) == 0 {
		return nil
	}
	prices := RepoPrices(cfg)
	type place struct{ env, ns string }
	byPlace := map[place]*Saving{}
	// A schedule's hours asleep walk a whole week: once per schedule, not
	// per object.
	hours := map[[3]string]float64{}
	weekly := func(s config.Sleep) float64 {
		k := [3]string{s.Sleep, s.Wake, s.TimeZone}
		h, ok := hours[k]
		if !ok {
			h = s.HoursAsleepPerWeek()
			hours[k] = h
		}
		return h
	}
	for _, o := range est.Objects {
		s, ok := cfg.SleepFor(o.Environment, o.Namespace)
		if !ok {
			continue
		}
		share := weekly(s) / HoursPerWeek
		saved := 0.0
		switch group := o.Group(); {
		case group == "apps" && (o.Kind == "Deployment" || o.Kind == "StatefulSet"):
			running := o.Monthly
			if o.Kind == "StatefulSet" {
				running -= o.StorageGB * prices(o.Environment).StorageGB * HoursPerMonth * float64(o.Replicas)
			}
			if o.MinReplicas > 0 {
				running *= float64(o.MinReplicas-1) / float64(o.MinReplicas)
			}
			saved = max(running, 0) * share
		case group == "batch" && o.Kind == "CronJob":
			saved = o.Monthly * share
		default:
			continue
		}
		k := place{o.Environment, o.Namespace}
		if byPlace[k] == nil {
			byPlace[k] = &Saving{Environment: o.Environment, Namespace: o.Namespace, HoursPerWeek: weekly(s)}
		}
		byPlace[k].Monthly += saved
	}
	out := make([]Saving, 0, len(byPlace))
	for _, s := range byPlace {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Saving) int {
		return cmp.Or(cmp.Compare(a.Environment, b.Environment), cmp.Compare(a.Namespace, b.Namespace))
	})
	return out
}
