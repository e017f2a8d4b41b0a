package config

import (
	"errors"
	"fmt"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/field"
)

// RepoFile is the name of the repository configuration file.
const RepoFile = "gitvend.yaml"

// APIVersion is the apiVersion of gitvend's own records.
const APIVersion = "gitvend.dev/v1alpha1"

// Repo is a desired-state repository's gitvend.yaml.
type Repo struct {
	APIVersion   string        `yaml:"apiVersion"`
	Kind         string        `yaml:"kind"`
	Environments []Environment `yaml:"environments"`
	Teams        []Team        `yaml:"teams"`
	Budgets      []Budget      `yaml:"budgets"`
	Policy       Policy        `yaml:"policy"`
	Intake       Intake        `yaml:"intake"`
	// Forks says what pull requests from forks get: ForksCheck (the
	// default) checks them with this, the base branch's, configuration,
	// policies and prices, never the fork's; ForksNeutral posts neutral
	// check runs saying they were not checked.
	Forks string `yaml:"forks"`
	// Sleep are the sleep schedules of environments and namespaces: when
	// their workloads are scaled to zero. The first that applies to a
	// namespace of an environment governs it.
	Sleep []Sleep `yaml:"sleep"`
	// Fanout says how blueprint fan-out groups the re-renders of requests
	// into pull requests.
	Fanout Fanout `yaml:"fanout"`
}

// Fanout configures blueprint fan-out: when a blueprint changes, the
// requests that follow it are rendered again and proposed in pull
// requests, one group per environment, each at most MaxRequests requests.
type Fanout struct {
	// MaxRequests is the most requests one fan-out pull request holds
	// (default DefaultFanoutMaxRequests, at most MaxFanoutMaxRequests).
	MaxRequests int `yaml:"maxRequests"`
}

// Bounds of fanout.maxRequests.
const (
	DefaultFanoutMaxRequests = 20
	MaxFanoutMaxRequests     = 200
)

// What pull requests from forks get (Repo.Forks).
const (
	ForksCheck   = "check"
	ForksNeutral = "neutral"
)

var forkModes = []string{ForksCheck, ForksNeutral}

// Environment is a stage that requests target, such as dev or prod.
type Environment struct {
	// Name is a DNS-1123 label.
	Name string `yaml:"name"`
	// Root is the kustomize root that builds the environment, relative to
	// the repository; environments/<name> when empty.
	Root string `yaml:"root"`
	// Teams, when set, are the only teams that may request things here.
	Teams []string `yaml:"teams"`
	// Prices replace the default prices for this environment.
	Prices Prices `yaml:"prices"`
	// RollbackOnFailure, when true, has gitvend open a pull request that
	// reverts a merge whose objects do not become healthy on a target
	// serving this environment within the target's health timeout. The
	// revert is proposed, never merged nor pushed to the desired-state
	// branch by gitvend.
	RollbackOnFailure bool `yaml:"rollbackOnFailure"`

	// The rules for requests that expire: a request's ttl counts from the
	// merge of its pull request, and at its end gitvend opens the pull
	// request that removes it.
	// RequireTTL makes a ttl mandatory for requests in the environment.
	RequireTTL bool `yaml:"requireTTL"`
	// MaxTTL, when set, bounds a request's ttl and every extension, as a
	// duration such as 168h or 7d.
	MaxTTL string `yaml:"maxTTL"`
	// ExpiryWarning is how long before its expiry a request's issue is
	// told; DefaultExpiryWarning when empty.
	ExpiryWarning string `yaml:"expiryWarning"`
	// AutoMerge merges an expiry's removal pull request once its checks
	// pass; other pull requests are never merged by gitvend.
	AutoMerge bool `yaml:"autoMerge"`
	// Windows are the change windows of the environment: when merged
	// changes are applied and when they wait (see Window).
	Windows []Window `yaml:"windows"`
	// Approvals, when set, is the review a change to the environment
	// needs before it is applied (see Approvals).
	Approvals *Approvals `yaml:"approvals"`
}

// DefaultExpiryWarning is how long before expiry a request's issue is told
// when its environment sets no expiryWarning.
const DefaultExpiryWarning = 24 * time.Hour

// MaxTTLDuration is MaxTTL as a duration; 0 when unbounded.
func (x Environment) MaxTTLDuration() time.Duration {
	d, _ := ParseDuration(x.MaxTTL)
	return d
}

// Warning is how long before expiry the request's issue is told.
func (x Environment) Warning() time.Duration {
	if d, err := ParseDuration(x.ExpiryWarning); err == nil && d > 0 {
		return d
	}
	return DefaultExpiryWarning
}

// ParseDuration reads a positive duration such as 90m, 168h or 7d.
func ParseDuration(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || strconv.Itoa(n) != days {
			return 0, fmt.Errorf("must be a duration such as 90m, 168h or 7d, got %q", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("must be a duration such as 90m, 168h or 7d, got %q", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be a positive duration such as 90m, 168h or 7d, got %q", s)
	}
	return d, nil
}

func (x Environment) validateExpiry(path string, bad func(path, format string, args ...any)) {
	var maxTTL, warning time.Duration
	var err error
	if x.MaxTTL != "" {
		if maxTTL, err = ParseDuration(x.MaxTTL); err != nil {
			bad(path+".maxTTL", "%v", err)
		}
	}
	if x.ExpiryWarning != "" {
		if warning, err = ParseDuration(x.ExpiryWarning); err != nil {
			bad(path+".expiryWarning", "%v", err)
		}
	}
	if maxTTL > 0 && warning >= maxTTL {
		bad(path+".expiryWarning", "must be shorter than maxTTL (%s), got %q", x.MaxTTL, x.ExpiryWarning)
	}
}

// Prices are hourly prices in Currency. A nil field keeps the default.
type Prices struct {
	Currency     string   `yaml:"currency"`
	CPU          *float64 `yaml:"cpu"`
	RAMGiB       *float64 `yaml:"ramGiB"`
	GPU          *float64 `yaml:"gpu"`
	StorageGB    *float64 `yaml:"storageGB"`
	LoadBalancer *float64 `yaml:"loadBalancer"`
	SpotCPU      *float64 `yaml:"spotCPU"`
	SpotRAMGiB   *float64 `yaml:"spotRAMGiB"`
}

// Team is a group of people that owns namespaces.
type Team struct {
	// Name is the team slug used as owner in requests (and the GitHub team slug).
	Name string `yaml:"name"`
	// Namespaces the team may use; a trailing "*" matches a prefix.
	Namespaces []string `yaml:"namespaces"`
}

// Budget caps the monthly cost of a team or a namespace.
type Budget struct {
	Owner       string  `yaml:"owner"`
	Namespace   string  `yaml:"namespace"`
	Environment string  `yaml:"environment"`
	Monthly     float64 `yaml:"monthly"`
}

// Policy holds policy settings.
type Policy struct {
	// Policies maps a policy id to its settings.
	Policies map[string]PolicySetting `yaml:"policies"`
	// Exceptions exempt single objects from single policies, with a reason.
	Exceptions []Exception `yaml:"exceptions"`
	// ClusterScopedKinds may be placed by requests (namespace-boundary);
	// Namespace is always allowed for the request's own namespace.
	ClusterScopedKinds []string `yaml:"clusterScopedKinds"`
}

// PolicySetting tunes one policy.
type PolicySetting struct {
	// Severity is deny, warn or off; empty keeps the policy's default.
	Severity string `yaml:"severity"`
	// Params are policy-specific settings, such as allowed registries.
	Params map[string]any `yaml:"params"`
}

// Exception exempts the objects it matches from one policy.
type Exception struct {
	Policy    string `yaml:"policy"`
	Kind      string `yaml:"kind"`
	Namespace string `yaml:"namespace"`
	Name      string `yaml:"name"`
	// Reason is required: it is shown on the pull request.
	Reason string `yaml:"reason"`
}

// Intake holds settings for requests made through issues and comments.
type Intake struct {
	// Permission is the least repository permission a requester needs:
	// read, triage, write, maintain or admin (default write).
	Permission string `yaml:"permission"`
	// Label marks request issues (default gitvend).
	Label string `yaml:"label"`
}

// Severities allowed in policy settings.
var severities = []string{"deny", "warn", "off"}

// Permissions in ascending order.
var permissions = []string{"read", "triage", "write", "maintain", "admin"}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// validNamespacePattern accepts a namespace name, or a prefix ending in '*'.
func validNamespacePattern(p string) bool { return cluster.IsNamespacePattern(p) }

// IsDNSLabel tells whether s is a DNS-1123 label (lower case alphanumerics
// and '-', at most 63 characters, starting and ending alphanumeric).
func IsDNSLabel(s string) bool { return len(s) <= 63 && dnsLabel.MatchString(s) }

// DefaultRepo is the configuration of a repository without gitvend.yaml:
// environments dev and prod, writers may request, policies at defaults.
func DefaultRepo() *Repo {
	r := &Repo{APIVersion: APIVersion, Kind: "Config",
		Environments: []Environment{{Name: "dev"}, {Name: "prod"}}}
	r.defaults()
	return r
}

// LoadRepo reads gitvend.yaml from the repository in dir; a repository
// without one gets DefaultRepo.
func LoadRepo(dir string) (*Repo, error) {
	p := path.Join(dir, RepoFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return DefaultRepo(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read repo config: %w", err)
	}
	r, err := ParseRepo(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return r, nil
}

// ParseRepo decodes gitvend.yaml strictly (unknown fields rejected) and
// validates it. Every problem is a *field.Error with its field path and
// line.
func ParseRepo(data []byte) (*Repo, error) {
	var r Repo
	lines, err := field.Unmarshal("", data, &r)
	if err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		lines.Locate(err)
		return nil, err
	}
	r.defaults()
	return &r, nil
}

func (r *Repo) defaults() {
	for i := range r.Environments {
		if r.Environments[i].Root == "" {
			r.Environments[i].Root = "environments/" + r.Environments[i].Name
		}
	}
	if r.Intake.Permission == "" {
		r.Intake.Permission = "write"
	}
	if r.Intake.Label == "" {
		r.Intake.Label = "gitvend"
	}
	if r.Forks == "" {
		r.Forks = ForksCheck
	}
	if r.Fanout.MaxRequests == 0 {
		r.Fanout.MaxRequests = DefaultFanoutMaxRequests
	}
}

// Validate checks every section and returns all problems, each naming its
// field path.
func (r *Repo) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &field.Error{Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	if r.APIVersion != APIVersion {
		bad("apiVersion", "must be %q, got %q", APIVersion, r.APIVersion)
	}
	if r.Kind != "Config" {
		bad("kind", "must be \"Config\", got %q", r.Kind)
	}
	if len(r.Environments) == 0 {
		bad("environments", "must name at least one environment")
	}
	teams := map[string]bool{}
	for i, t := range r.Teams {
		f := fmt.Sprintf("teams[%d]", i)
		if !IsDNSLabel(t.Name) {
			bad(f+".name", "must be a DNS-1123 label (lower case letters, digits and '-'), got %q", t.Name)
		}
		if teams[t.Name] {
			bad(f+".name", "team %q is defined twice", t.Name)
		}
		teams[t.Name] = true
		for j, ns := range t.Namespaces {
			if !validNamespacePattern(ns) {
				bad(fmt.Sprintf("%s.namespaces[%d]", f, j), "must be a namespace name or a prefix ending in '*', got %q", ns)
			}
		}
	}
	envs := map[string]bool{}
	for i, e := range r.Environments {
		f := fmt.Sprintf("environments[%d]", i)
		if !IsDNSLabel(e.Name) {
			bad(f+".name", "must be a DNS-1123 label, got %q", e.Name)
		}
		if envs[e.Name] {
			bad(f+".name", "environment %q is defined twice", e.Name)
		}
		envs[e.Name] = true
		if e.Root != "" {
			if err := CheckRoot(e.Root); err != nil {
				bad(f+".root", "%v", err)
			}
		}
		for j, t := range e.Teams {
			if !teams[t] {
				bad(fmt.Sprintf("%s.teams[%d]", f, j), "unknown team %q; teams are defined under teams", t)
			}
		}
		e.Prices.validate(f+".prices", bad)
		e.validateExpiry(f, bad)
		e.validateWindows(f, bad)
		for k, w := range e.Windows {
			for j, o := range w.Owners {
				if IsDNSLabel(o) && !teams[o] {
					bad(fmt.Sprintf("%s.windows[%d].owners[%d]", f, k, j), "unknown team %q; a window's owners are teams defined under teams (a misspelt owner would hold nothing)", o)
				}
			}
		}
		e.validateApprovals(f, teams, bad)
	}
	for i, b := range r.Budgets {
		f := fmt.Sprintf("budgets[%d]", i)
		if (b.Owner == "") == (b.Namespace == "") {
			bad(f, "must set exactly one of owner or namespace")
		}
		if b.Owner != "" && !teams[b.Owner] {
			bad(f+".owner", "unknown team %q", b.Owner)
		}
		if b.Environment != "" && !envs[b.Environment] {
			bad(f+".environment", "unknown environment %q", b.Environment)
		}
		if b.Monthly <= 0 {
			bad(f+".monthly", "must be a positive amount, got %v", b.Monthly)
		}
	}
	for id, s := range r.Policy.Policies {
		if s.Severity != "" && !contains(severities, s.Severity) {
			bad("policy.policies."+id+".severity", "must be one of %s, got %q", strings.Join(severities, ", "), s.Severity)
		}
	}
	for i, x := range r.Policy.Exceptions {
		f := fmt.Sprintf("policy.exceptions[%d]", i)
		if x.Policy == "" {
			bad(f+".policy", "is required")
		}
		if x.Kind == "" && x.Namespace == "" && x.Name == "" {
			bad(f, "must match objects by at least one of kind, namespace or name")
		}
		if len(strings.TrimSpace(x.Reason)) < 10 {
			bad(f+".reason", "must explain in at least 10 characters why the exception is safe")
		}
	}
	if r.Intake.Permission != "" && !contains(permissions, r.Intake.Permission) {
		bad("intake.permission", "must be one of %s, got %q", strings.Join(permissions, ", "), r.Intake.Permission)
	}
	for i, s := range r.Sleep {
		s.validate(fmt.Sprintf("sleep[%d]", i), envs, bad)
	}
	if n := r.Fanout.MaxRequests; n < 0 || n > MaxFanoutMaxRequests {
		bad("fanout.maxRequests", "must be from 1 to %d (requests per fan-out pull request; %d when not set), got %d", MaxFanoutMaxRequests, DefaultFanoutMaxRequests, n)
	}
	if r.Forks != "" && !contains(forkModes, r.Forks) {
		bad("forks", "must be one of %s (what pull requests from forks get), got %q", strings.Join(forkModes, ", "), r.Forks)
	}
	return errors.Join(errs...)
}

func (p Prices) validate(path string, bad func(path, format string, args ...any)) {
	for name, v := range map[string]*float64{"cpu": p.CPU, "ramGiB": p.RAMGiB, "gpu": p.GPU,
		"storageGB": p.StorageGB, "loadBalancer": p.LoadBalancer, "spotCPU": p.SpotCPU, "spotRAMGiB": p.SpotRAMGiB} {
		if v != nil && *v < 0 {
			bad(path+"."+name, "must not be negative, got %v", *v)
		}
	}
}

// CheckRoot tells whether root may be an environment root: a plain
// relative path inside the repository, such as environments/dev or
// clusters/prod/apps. It refuses absolute paths, empty, "." and ".."
// segments, backslashes, and folders whose name starts with '.', which
// the checks of a pull request do not read. A trailing '/' is accepted.
func CheckRoot(root string) error {
	const allowed = "a plain relative path inside the repository such as environments/dev " +
		"(no leading '/', no '..' or '.' segments, no folder whose name starts with '.')"
	if root == "" || path.IsAbs(root) || strings.ContainsAny(root, "\\\x00") {
		return fmt.Errorf("must be %s, got %q", allowed, root)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(root, "/"), "/") {
		if seg == "" || strings.HasPrefix(seg, ".") {
			return fmt.Errorf("must be %s, got %q", allowed, root)
		}
	}
	return nil
}

// Environment returns the environment called name.
func (r *Repo) Environment(name string) (Environment, bool) {
	for _, e := range r.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return Environment{}, false
}

// EnvironmentNames lists the environments in the order they are defined.
func (r *Repo) EnvironmentNames() []string {
	out := make([]string, len(r.Environments))
	for i, e := range r.Environments {
		out[i] = e.Name
	}
	return out
}

// Team returns the team called name.
func (r *Repo) Team(name string) (Team, bool) {
	for _, t := range r.Teams {
		if t.Name == name {
			return t, true
		}
	}
	return Team{}, false
}

// MayUse tells whether namespace is one of the team's namespaces.
func (t Team) MayUse(namespace string) bool {
	return cluster.NamespaceAllowed(t.Namespaces, namespace)
}

// AllowsTeam tells whether team may request things in the environment.
func (e Environment) AllowsTeam(team string) bool {
	return len(e.Teams) == 0 || contains(e.Teams, team)
}

// PermissionAtLeast tells whether have reaches want in GitHub's order
// read < triage < write < maintain < admin.
func PermissionAtLeast(have, want string) bool {
	h, w := indexOf(permissions, have), indexOf(permissions, want)
	return h >= 0 && w >= 0 && h >= w
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
