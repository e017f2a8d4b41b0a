package cost

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/manifest"
)

func TestCheckBudgets(t *testing.T) {
	id := func(kind, ns, name string) manifest.ID {
		return manifest.ID{APIVersion: "v1", Kind: kind, Namespace: ns, Name: name}
	}
	est := Estimate{
		Currency: "USD",
		Objects: []ObjectCost{
			{ID: id("Deployment", "shop", "web"), Environment: "dev", Owner: "payments", Monthly: 30, MonthlyMax: 90, MinReplicas: 1, MaxReplicas: 3},
			{ID: id("Deployment", "shop", "web"), Environment: "prod", Owner: "payments", Monthly: 60},
			{ID: id("StatefulSet", "data", "db"), Environment: "prod", Owner: "payments", Monthly: 20},
			{ID: id("Service", "shop", "lb"), Environment: "prod", Owner: "search", Monthly: 10},
		},
	}
	budgets := []config.Budget{
		{Owner: "payments", Monthly: 100},
		{Owner: "payments", Environment: "prod", Monthly: 100},
		{Namespace: "shop", Monthly: 100},
		{Namespace: "shop", Environment: "dev", Monthly: 29.999},
		{Namespace: "data", Monthly: 19.99},
		{Owner: "nobody", Monthly: 5},
		{Owner: "payments", Namespace: "data", Monthly: 10},
		{Monthly: 1},
	}
	want := []BudgetStatus{
		// 30 + 60 + 20; at most 90 + 60 + 20
		{Scope: "owner", Name: "payments", Monthly: 110, MonthlyMax: 170, Limit: 100, Exceeded: true},
		// 60 + 20
		{Scope: "owner", Name: "payments", Environment: "prod", Monthly: 80, MonthlyMax: 80, Limit: 100},
		// 30 + 60 + 10 is exactly the limit; at most 90 + 60 + 10
		{Scope: "namespace", Name: "shop", Monthly: 100, MonthlyMax: 160, Limit: 100},
		// 30 against 29.999: both are $30.00
		{Scope: "namespace", Name: "shop", Environment: "dev", Monthly: 30, MonthlyMax: 90, Limit: 29.999},
		{Scope: "namespace", Name: "data", Monthly: 20, MonthlyMax: 20, Limit: 19.99, Exceeded: true},
		{Scope: "owner", Name: "nobody", Limit: 5},
		{Scope: "owner", Name: "payments", Monthly: 20, MonthlyMax: 20, Limit: 10, Exceeded: true},
		{Scope: "namespace", Limit: 1},
	}
	if diff := cmp.Diff(want, CheckBudgets(est, budgets), approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCheckBudgetsFromManifests(t *testing.T) {
	objs := decode(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {gitvend.dev/owner: payments}
spec:
  replicas: 4
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: "2", memory: 4Gi}}
`)
	// 4 × (2 × 0.031611 + 4 × 0.004237) × 730 = 4 × 0.080170 × 730 = 234.0964
	monthly := 4 * (2*cpuHour + 4*ramHour) * month
	got := CheckBudgets(Compute(Items("prod", objs), nil), []config.Budget{
		{Owner: "payments", Monthly: 200},
		{Owner: "payments", Monthly: 250},
		{Owner: "payments", Environment: "dev", Monthly: 1},
	})
	want := []BudgetStatus{
		{Scope: "owner", Name: "payments", Monthly: monthly, MonthlyMax: monthly, Limit: 200, Exceeded: true},
		{Scope: "owner", Name: "payments", Monthly: monthly, MonthlyMax: monthly, Limit: 250},
		{Scope: "owner", Name: "payments", Environment: "dev", Limit: 1},
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
