package reconcile

import (
	"fmt"
	"strings"

	"github.com/gitvend/gitvend/internal/cluster"
)

// inventoryName returns the name of target t's inventory ConfigMap.
func inventoryName(t cluster.Target) string {
	return "gitvend-inventory-" + t.Name
}

// refusal tells why target t does not accept an object, or "" when it
// does. namespaced says whether the object's kind is namespaced.
func refusal(t cluster.Target, k key, namespaced bool) string {
	allowed := func(list []string) string {
		if len(list) == 0 {
			return "none"
		}
		return strings.Join(list, ", ")
	}
	switch {
	case namespaced && k.Namespace == "":
		return fmt.Sprintf("%s is namespaced but has no metadata.namespace", k.Kind)
	case namespaced && !t.AllowsNamespace(k.Namespace):
		return fmt.Sprintf("namespace %q is not allowed on target %s (allowed: %s)", k.Namespace, t.Name, allowed(t.Namespaces))
	case namespaced:
		return ""
	case !t.AllowsClusterScopedKind(k.groupKind()):
		return fmt.Sprintf("cluster-scoped kind %s is not allowed on target %s (allowed: %s)", k.groupKind(), t.Name, allowed(t.ClusterScopedKinds))
	case k.Group == "" && k.Kind == "Namespace" && !t.AllowsNamespace(k.Name):
		return fmt.Sprintf("namespace %q is not allowed on target %s (allowed: %s)", k.Name, t.Name, allowed(t.Namespaces))
	}
	return ""
}
