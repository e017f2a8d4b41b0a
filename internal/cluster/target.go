package cluster

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Defaults the server configuration gives a target's fields it leaves out.
const (
	// DefaultDriftInterval is how often drift is checked besides watching
	// the managed objects.
	DefaultDriftInterval = 5 * time.Minute
	// DefaultHealthTimeout bounds the wait for applied objects to become
	// ready.
	DefaultHealthTimeout = 2 * time.Minute
	// DefaultInventoryNamespace holds the inventory of what gitvend applied.
	DefaultInventoryNamespace = "gitvend-system"
	// DefaultMaxPrune is how many objects one apply may prune without a
	// confirmation.
	DefaultMaxPrune = 20
	// DefaultMaxPrunePercent is the share of a target's objects, in
	// percent, one apply may prune without a confirmation.
	DefaultMaxPrunePercent = 50
)

// ConfirmPrune names the confirmation that lets one change prune past a
// target's threshold: the label a maintainer puts on the pull request, and
// the commit status gitvend sets on the pull request's head commit once
// the confirmation is accepted, which the rollout reads after the merge.
const ConfirmPrune = "gitvend/confirm-prune"

// ApplyNow names the commit status gitvend sets on a merge commit when
// someone allowed asks, with /provision apply-now, for it to be applied at
// once although a change window holds its environment; the rollout reads
// it (gitvend's own statuses only) before it holds the commit.
const ApplyNow = "gitvend/apply-now"

// ExpiryRemoval names the commit status gitvend sets on the merge commit
// of an expired request's removal that it merged itself (autoMerge), its
// description the request as <environment>/<namespace>/<name>: the
// rollout reads only gitvend's own, never a title or label, to let the
// removal's apply through a change window that allows expiry.
const ExpiryRemoval = "gitvend/expiry-removal"

// Target is a cluster gitvend applies the environments of one desired-state
// repository to. The server configuration decodes it from targets[]; Validate
// checks it on its own (the server configuration checks in addition that its
// name is unique and its repository served).
type Target struct {
	// Name is a DNS-1123 label, used in the inventory's name and in the
	// commit status context gitvend/apply/<name>.
	Name string `yaml:"name"`
	// Repository is the desired-state repository (owner/name) whose
	// environments the target serves.
	Repository string `yaml:"repository"`
	// Kubeconfig is the kubeconfig file; empty means the in-cluster
	// configuration.
	Kubeconfig string `yaml:"kubeconfig"`
	// Context is the kubeconfig context; empty means the current one.
	Context string `yaml:"context"`
	// Environments of the repository applied here.
	Environments []string `yaml:"environments"`
	// Namespaces objects may be placed in: names, or prefixes ending in '*'
	// such as "team-*" ("*" alone allows every namespace).
	Namespaces []string `yaml:"namespaces"`
	// ClusterScopedKinds may be applied, each as Kind.group (such as
	// ClusterRole.rbac.authorization.k8s.io or Widget.example.com) or, for a
	// kind of Kubernetes' built-in API, as Kind alone (Namespace,
	// ClusterRole), which names that built-in kind and no other group's kind
	// of the same name. Any other cluster-scoped object is refused. A
	// Namespace must in addition be allowed by Namespaces.
	ClusterScopedKinds []string `yaml:"clusterScopedKinds"`
	// Prune deletes objects that left Git that gitvend created, or adopted
	// (gitvend.dev/adopt: "true" on the object in Git); objects that
	// existed in the cluster before gitvend applied them are left in place.
	Prune bool `yaml:"prune"`
	// SelfHeal re-applies Git's state when the cluster drifts.
	SelfHeal bool `yaml:"selfHeal"`
	// ReportOnly never writes: apply becomes a server-side dry-run report
	// and drift is only reported.
	ReportOnly bool `yaml:"reportOnly"`
	// DriftInterval is how often drift is checked without a watch event,
	// the backstop to watching the managed objects; it must be positive.
	DriftInterval time.Duration `yaml:"driftInterval"`
	// HealthTimeout bounds the wait for applied objects to become ready;
	// 0 skips the wait.
	HealthTimeout time.Duration `yaml:"healthTimeout"`
	// InventoryNamespace holds the inventory of what gitvend applied.
	InventoryNamespace string `yaml:"inventoryNamespace"`
	// MaxPrune is how many objects one change may prune from the target
	// without an explicit confirmation (ConfirmPrune); 0 means
	// DefaultMaxPrune.
	MaxPrune int `yaml:"maxPrune"`
	// MaxPrunePercent is the share of the target's objects, in percent
	// (1 to 100), one change may prune without an explicit confirmation;
	// 0 means DefaultMaxPrunePercent.
	MaxPrunePercent int `yaml:"maxPrunePercent"`
	// Windows are change windows the platform team owns, in the format of
	// an environment's windows in gitvend.yaml (config.Window gives them
	// their meaning and validates them): they apply to every environment
	// the target serves, alongside the repository's own, and a window of
	// the repository cannot weaken them.
	Windows []Window `yaml:"windows"`
}

// Window is a change window of a target, field for field a config.Window
// (which converts to and from it).
type Window struct {
	Name       string   `yaml:"name"`
	Kind       string   `yaml:"kind"`
	Schedule   string   `yaml:"schedule"`
	Duration   string   `yaml:"duration"`
	TimeZone   string   `yaml:"timezone"`
	Namespaces []string `yaml:"namespaces"`
	Owners     []string `yaml:"owners"`
	SelfHeal   bool     `yaml:"selfHeal"`
	Sleep      string   `yaml:"sleep"`
	Expiry     string   `yaml:"expiry"`
}

var (
	namespacePrefix = regexp.MustCompile(`^([a-z0-9][-a-z0-9]{0,61})?\*$`)
	kindName        = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,62}$`)
)

// Validate checks the target and returns every problem, each a *field.Error
// naming the field and what is allowed.
func (t Target) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &field.Error{Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	if !isDNSLabel(t.Name) {
		bad("name", "must be a DNS-1123 label (lower case letters, digits and '-', at most 63), got %q", t.Name)
	}
	if len(t.Environments) == 0 {
		bad("environments", "must name at least one environment of the repository")
	}
	for i, e := range t.Environments {
		f := fmt.Sprintf("environments[%d]", i)
		if !isDNSLabel(e) {
			bad(f, "must be an environment name (DNS-1123 label), got %q", e)
		}
		if slices.Index(t.Environments, e) != i {
			bad(f, "environment %q is listed twice", e)
		}
	}
	if len(t.Namespaces) == 0 {
		bad("namespaces", "must name at least one namespace or prefix (\"*\" allows all)")
	}
	for i, p := range t.Namespaces {
		if !IsNamespacePattern(p) {
			bad(fmt.Sprintf("namespaces[%d]", i), "must be a namespace name or a prefix ending in '*', got %q", p)
		}
	}
	for i, k := range t.ClusterScopedKinds {
		f := fmt.Sprintf("clusterScopedKinds[%d]", i)
		kind, group, qualified := strings.Cut(k, ".")
		switch _, builtin := manifest.BuiltinClusterScopedGroup(kind); {
		case !kindName.MatchString(kind):
			bad(f, "must be a Kubernetes kind such as Namespace, got %q", k)
		case qualified && len(validation.IsDNS1123Subdomain(group)) > 0:
			bad(f, "must be Kind.group with an API group such as rbac.authorization.k8s.io, got %q", k)
		case !qualified && !builtin:
			bad(f, "%s is no cluster-scoped kind of Kubernetes' built-in API; name it with its group, such as %s.example.com", k, k)
		}
	}
	if t.SelfHeal && t.ReportOnly {
		bad("selfHeal", "cannot be true when reportOnly is: a report-only target is never written to")
	}
	if t.DriftInterval <= 0 {
		bad("driftInterval", "must be a positive duration such as 30s, 5m or 1h, got %s", t.DriftInterval)
	}
	if t.HealthTimeout < 0 {
		bad("healthTimeout", "must be 0 (do not wait for objects to become ready) or a positive duration, got %s", t.HealthTimeout)
	}
	if !isDNSLabel(t.InventoryNamespace) {
		bad("inventoryNamespace", "must be a namespace name (DNS-1123 label), got %q", t.InventoryNamespace)
	}
	if t.MaxPrune < 0 {
		bad("maxPrune", "must be a positive number of objects (0 or absent means %d), got %d", DefaultMaxPrune, t.MaxPrune)
	}
	if t.MaxPrunePercent < 0 || t.MaxPrunePercent > 100 {
		bad("maxPrunePercent", "must be a percentage from 1 to 100 (0 or absent means %d), got %d", DefaultMaxPrunePercent, t.MaxPrunePercent)
	}
	return errors.Join(errs...)
}

// PruneLimit tells whether pruning n objects of the target's total (the
// objects its inventory records) goes past its threshold: more than
// MaxPrune objects, or more than MaxPrunePercent of total. When it does,
// the reason says so in a sentence; otherwise it is "".
func (t Target) PruneLimit(n, total int) (exceeded bool, reason string) {
	maxN, pct := t.MaxPrune, t.MaxPrunePercent
	if maxN <= 0 {
		maxN = DefaultMaxPrune
	}
	if pct <= 0 {
		pct = DefaultMaxPrunePercent
	}
	switch {
	case n > maxN:
		return true, fmt.Sprintf("it prunes %d objects, more than the %d target %s allows without confirmation", n, maxN, t.Name)
	case total > 0 && n*100 > pct*total:
		return true, fmt.Sprintf("it prunes %d of the %d objects of target %s, more than the %d%% it allows without confirmation", n, total, t.Name, pct)
	}
	return false, ""
}

// AllowsNamespace tells whether objects may be placed in namespace.
func (t Target) AllowsNamespace(namespace string) bool {
	return NamespaceAllowed(t.Namespaces, namespace)
}

// AllowsClusterScopedKind tells whether cluster-scoped objects of gk may be
// applied: ClusterScopedKinds lists gk as Kind.group or, when gk is a
// built-in kind, as Kind alone. Group and kind must both match: a
// Namespace of group evil.example.com is not the core Namespace.
func (t Target) AllowsClusterScopedKind(gk schema.GroupKind) bool {
	for _, entry := range t.ClusterScopedKinds {
		kind, group, qualified := strings.Cut(entry, ".")
		if !qualified {
			var builtin bool
			if group, builtin = manifest.BuiltinClusterScopedGroup(kind); !builtin {
				continue
			}
		}
		if kind == gk.Kind && group == gk.Group {
			return true
		}
	}
	return false
}

// ServesEnvironment tells whether the target applies environment.
func (t Target) ServesEnvironment(environment string) bool {
	return slices.Contains(t.Environments, environment)
}

// IsNamespacePattern tells whether p is a namespace name, or a prefix of
// one ending in '*' ("*" alone matches every namespace).
func IsNamespacePattern(p string) bool { return isDNSLabel(p) || namespacePrefix.MatchString(p) }

// NamespaceAllowed tells whether namespace matches one of patterns: a name
// equal to it, or a prefix ending in '*' that it starts with.
func NamespaceAllowed(patterns []string, namespace string) bool {
	for _, p := range patterns {
		if p == namespace || (strings.HasSuffix(p, "*") && strings.HasPrefix(namespace, strings.TrimSuffix(p, "*"))) {
			return true
		}
	}
	return false
}

// isDNSLabel tells whether s is a DNS-1123 label.
func isDNSLabel(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }
