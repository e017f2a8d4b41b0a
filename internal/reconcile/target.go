package reconcile

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
)

// DefaultInventoryNamespace is where a target's inventory lives when
// Target.InventoryNamespace is empty.
const DefaultInventoryNamespace = "gitvend-system"

// Target is one cluster gitvend applies to.
type Target struct {
	// Name is a DNS-1123 label, used in the inventory's name and in the
	// commit status context gitvend/apply/<name>.
	Name string
	// Environments of the desired-state repository this target serves.
	Environments []string
	// Namespaces objects may be placed in: names, or prefixes ending in '*'
	// such as "team-*" ("*" alone allows every namespace). Empty allows none.
	Namespaces []string
	// ClusterScopedKinds may be applied, such as Namespace; any other
	// cluster-scoped object is refused. A Namespace must in addition be
	// allowed by Namespaces.
	ClusterScopedKinds []string
	// Prune deletes objects gitvend applied that left Git.
	Prune bool
	// SelfHeal re-applies Git's state when the cluster drifts.
	SelfHeal bool
	// ReportOnly never writes: apply becomes a server-side dry-run report
	// and drift is only reported.
	ReportOnly bool
	// DriftInterval is how often drift is checked without a watch event;
	// 0 relies on watch events alone.
	DriftInterval time.Duration
	// HealthTimeout bounds the wait for applied objects to become ready;
	// 0 skips the wait.
	HealthTimeout time.Duration
	// InventoryNamespace is where the inventory lives, gitvend-system when
	// empty.
	InventoryNamespace string
}

var (
	namespacePrefix = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61})?\*$`)
	kindPattern     = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,62}$`)
)

// Validate checks the target and returns every problem, each a
// *field.Error naming the field and what is allowed.
func (t Target) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &field.Error{Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	if !config.IsDNSLabel(t.Name) {
		bad("name", "must be a DNS-1123 label (lower case letters, digits and '-', at most 63), got %q", t.Name)
	}
	if len(t.Environments) == 0 {
		bad("environments", "must name at least one environment of the repository")
	}
	for i, e := range t.Environments {
		if !config.IsDNSLabel(e) {
			bad(fmt.Sprintf("environments[%d]", i), "must be an environment name (DNS-1123 label), got %q", e)
		} else if slices.Index(t.Environments, e) != i {
			bad(fmt.Sprintf("environments[%d]", i), "environment %q is listed twice", e)
		}
	}
	for i, p := range t.Namespaces {
		if p != "*" && !config.IsDNSLabel(p) && !namespacePrefix.MatchString(p) {
			bad(fmt.Sprintf("namespaces[%d]", i), "must be a namespace name or a prefix ending in '*' such as team-*, got %q", p)
		}
	}
	for i, k := range t.ClusterScopedKinds {
		if !kindPattern.MatchString(k) {
			bad(fmt.Sprintf("clusterScopedKinds[%d]", i), "must be a Kubernetes kind such as Namespace or ClusterRole, got %q", k)
		}
	}
	if t.SelfHeal && t.ReportOnly {
		bad("selfHeal", "cannot be true when reportOnly is: a report-only target is never written to")
	}
	if t.DriftInterval < 0 {
		bad("driftInterval", "must not be negative (0 relies on watch events alone), got %s", t.DriftInterval)
	}
	if t.HealthTimeout < 0 {
		bad("healthTimeout", "must not be negative (0 skips the health wait), got %s", t.HealthTimeout)
	}
	if t.InventoryNamespace != "" && !config.IsDNSLabel(t.InventoryNamespace) {
		bad("inventoryNamespace", "must be a namespace name (DNS-1123 label), got %q", t.InventoryNamespace)
	}
	return errors.Join(errs...)
}

// inventoryNamespace returns where the inventory lives.
func (t Target) inventoryNamespace() string {
	if t.InventoryNamespace == "" {
		return DefaultInventoryNamespace
	}
	return t.InventoryNamespace
}

// inventoryName returns the name of the inventory ConfigMap.
func (t Target) inventoryName() string {
	return "gitvend-inventory-" + t.Name
}

// refusal tells why the target does not accept an object, or "" when it
// does. namespaced says whether the object's kind is namespaced.
func (t Target) refusal(k key, namespaced bool) string {
	allowed := func(list []string) string {
		if len(list) == 0 {
			return "none"
		}
		return strings.Join(list, ", ")
	}
	switch {
	case namespaced && k.Namespace == "":
		return fmt.Sprintf("%s is namespaced but has no metadata.namespace", k.Kind)
	case namespaced && !t.allowsNamespace(k.Namespace):
		return fmt.Sprintf("namespace %q is not allowed on target %s (allowed: %s)", k.Namespace, t.Name, allowed(t.Namespaces))
	case namespaced:
		return ""
	case !slices.Contains(t.ClusterScopedKinds, k.Kind):
		return fmt.Sprintf("cluster-scoped kind %s is not allowed on target %s (allowed: %s)", k.Kind, t.Name, allowed(t.ClusterScopedKinds))
	case k.Group == "" && k.Kind == "Namespace" && !t.allowsNamespace(k.Name):
		return fmt.Sprintf("namespace %q is not allowed on target %s (allowed: %s)", k.Name, t.Name, allowed(t.Namespaces))
	}
	return ""
}

// allowsNamespace tells whether objects may be placed in namespace.
func (t Target) allowsNamespace(namespace string) bool {
	return config.Team{Namespaces: t.Namespaces}.MayUse(namespace)
}
