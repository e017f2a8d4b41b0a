package cost

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
)

func TestSavings(t *testing.T) {
	cfg, err := config.ParseRepo([]byte(`apiVersion: gitvend.dev/v1alpha1
kind: Config
environments: [{name: dev}, {name: prod}]
sleep:
- environments: [dev]
  namespaces: ["team-*"]
  sleep: "0 19 * * MON-FRI"
  wake: "0 8 * * MON-FRI"
  timezone: Europe/Berlin
`))
	if err != nil {
		t.Fatal(err)
	}
	obj := func(env, apiVersion, kind, ns, name string, monthly float64) ObjectCost {
		return ObjectCost{ID: manifest.ID{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name}, Environment: env, Monthly: monthly, Replicas: 1}
	}
	db := obj("dev", "apps/v1", "StatefulSet", "team-a", "db", 100)
	db.StorageGB, db.Replicas = 10, 2
	api := obj("dev", "apps/v1", "Deployment", "team-a", "api", 30)
	api.MinReplicas, api.MaxReplicas, api.MonthlyMax = 3, 6, 60
	est := Estimate{Currency: "USD", Objects: []ObjectCost{
		obj("dev", "apps/v1", "Deployment", "team-a", "web", 168),
		db,
		api,
		obj("dev", "batch/v1", "CronJob", "team-a", "nightly", 16.8),
		obj("dev", "v1", "Service", "team-a", "edge", 18.25), // a load balancer costs the same asleep
		obj("dev", "apps/v1", "Deployment", "team-b", "web", 1.68),
		obj("dev", "apps/v1", "Deployment", "ops", "agent", 50), // no schedule covers ops
		obj("prod", "apps/v1", "Deployment", "team-a", "web", 168),
	}}
	share := 113.0 / 168 // 4 nights of 13 hours and a weekend of 61
	storage := 10 * DefaultPrices().StorageGB * HoursPerMonth * 2
	want := []Saving{
		{Environment: "dev", Namespace: "team-a", HoursPerWeek: 113, Monthly: (168 + 100 - storage + 20 + 16.8) * share},
		{Environment: "dev", Namespace: "team-b", HoursPerWeek: 113, Monthly: 1.68 * share},
	}
	got := Savings(est, cfg)
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("savings (-want +got):\n%s", diff)
	}
	if s := got[1].String("USD"); s != "dev team-b: asleep 113 h/week, saves $1.13/month" {
		t.Errorf("String = %q", s)
	}
	if got := Savings(est, config.DefaultRepo()); got != nil {
		t.Errorf("savings without schedules: %v", got)
	}
}
