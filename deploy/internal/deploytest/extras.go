package deploytest

import (
	"encoding/json"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/gitvend/gitvend/internal/manifest"
)

// verifyPDB checks that the budget selects gitvend's pods and lets a node
// drain go on: at most replicas-1 pods must stay, at least one may go.
func verifyPDB(t testing.TB, pdb *policyv1.PodDisruptionBudget, pods labels.Set, replicas int32) {
	t.Helper()
	if pdb.Spec.Selector == nil || !selects(pdb.Spec.Selector.MatchLabels, pods) {
		t.Errorf("PodDisruptionBudget does not select gitvend's pods")
	}
	switch {
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MaxUnavailable != nil:
		t.Errorf("PodDisruptionBudget sets both minAvailable and maxUnavailable")
	case pdb.Spec.MinAvailable != nil:
		n, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(replicas), true)
		if err != nil || n < 1 || n >= int(replicas) {
			t.Errorf("PodDisruptionBudget minAvailable %s of %d replicas: want at least 1 and fewer than replicas, or drains block", pdb.Spec.MinAvailable, replicas)
		}
	case pdb.Spec.MaxUnavailable != nil:
		n, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(replicas), true)
		if err != nil || n < 1 || n >= int(replicas) {
			t.Errorf("PodDisruptionBudget maxUnavailable %s of %d replicas: want at least 1 and fewer than replicas", pdb.Spec.MaxUnavailable, replicas)
		}
	default:
		t.Errorf("PodDisruptionBudget sets neither minAvailable nor maxUnavailable")
	}
	if replicas < 2 {
		t.Errorf("PodDisruptionBudget at %d replica blocks node drains or protects nothing", replicas)
	}
}

// verifyIngress checks that every path of the Ingress goes to the public
// Service's http port and none to the ops Service.
func verifyIngress(t testing.TB, o manifest.Object, public, ops *corev1.Service) {
	t.Helper()
	var ing networkingv1.Ingress
	convert(t, o, &ing)
	paths := 0
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			paths++
			svc := p.Backend.Service
			if svc == nil || svc.Name != public.Name || svc.Port.Name != "http" {
				t.Errorf("Ingress path %s%s goes to %+v, want the Service %s port http", r.Host, p.Path, svc, public.Name)
			}
			if svc != nil && ops.Name != "" && svc.Name == ops.Name {
				t.Errorf("Ingress path %s%s exposes the ops Service %s", r.Host, p.Path, ops.Name)
			}
		}
	}
	if paths == 0 {
		t.Error("Ingress routes no path")
	}
}

// verifyNetworkPolicy checks that the policy selects gitvend's pods, admits
// the webhook port, and admits the ops port only from named peers.
func verifyNetworkPolicy(t testing.TB, o manifest.Object, pods labels.Set) {
	t.Helper()
	var np networkingv1.NetworkPolicy
	convert(t, o, &np)
	if !selects(np.Spec.PodSelector.MatchLabels, pods) {
		t.Errorf("NetworkPolicy selector %v does not select gitvend's pods", np.Spec.PodSelector.MatchLabels)
	}
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		t.Errorf("NetworkPolicy policyTypes %v, want Ingress", np.Spec.PolicyTypes)
	}
	var http bool
	for _, r := range np.Spec.Ingress {
		if len(r.Ports) == 0 {
			t.Errorf("NetworkPolicy rule %+v admits every port", r)
		}
		for _, p := range r.Ports {
			if p.Port == nil {
				t.Errorf("NetworkPolicy rule %+v admits every port", r)
				continue
			}
			switch p.Port.String() {
			case "http":
				http = true
			case "ops":
				if len(r.From) == 0 {
					t.Error("NetworkPolicy admits the ops port from anywhere")
				}
			}
		}
	}
	if !http {
		t.Error("NetworkPolicy does not admit the webhook port http")
	}
}

// verifyDashboard checks that a dashboard ConfigMap holds Grafana JSON
// with panels.
func verifyDashboard(t testing.TB, cm *corev1.ConfigMap) {
	t.Helper()
	if len(cm.Data) == 0 {
		t.Errorf("dashboard ConfigMap %s is empty", cm.Name)
	}
	for name, data := range cm.Data {
		var d struct {
			Title  string           `json:"title"`
			Panels []map[string]any `json:"panels"`
		}
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			t.Errorf("dashboard %s in ConfigMap %s: %v", name, cm.Name, err)
			continue
		}
		if d.Title == "" || len(d.Panels) == 0 {
			t.Errorf("dashboard %s in ConfigMap %s has no title or no panels", name, cm.Name)
		}
	}
}
