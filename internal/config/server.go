package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/gitvend/gitvend/internal/cluster"
	"github.com/gitvend/gitvend/internal/field"
)

// ServerKind is the kind of the server configuration file.
const ServerKind = "ServerConfig"

// Bounds of the server configuration's sizes.
const (
	// MaxWorkers is the most queue workers a server may run.
	MaxWorkers = 256
	// MaxCapacity is the most jobs the queue may hold.
	MaxCapacity = 1_000_000
	// MinWebhookBytes is the smallest allowed webhook body limit.
	MinWebhookBytes = 1 << 10
	// MaxWebhookBytes is GitHub's own cap on a webhook payload (25 MiB),
	// the largest allowed webhook body limit.
	MaxWebhookBytes = 25 << 20
	// MaxWebhookBytesInFlight is the largest allowed bound on webhook body
	// bytes held at once.
	MaxWebhookBytesInFlight = 1 << 30
)

// Server is the configuration of `gitvend serve` (and of the commands that
// reach the target clusters). It is read by LoadServer; a zero Server is not
// usable.
type Server struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// Listen is the host:port of the public HTTP listener, the one GitHub
	// reaches: POST /webhook and the probes.
	Listen string `yaml:"listen"`
	// OpsListen is the host:port of the ops listener: /metrics, the status
	// page and the probes. They name repositories, targets and
	// installations, so it defaults to loopback; a deployment opens it to
	// the cluster, never to GitHub.
	OpsListen string `yaml:"opsListen"`
	// PublicURL is the server's address as GitHub users reach it, used for
	// links such as a check run's details; optional.
	PublicURL string `yaml:"publicURL"`
	// WorkDir holds the git clone cache and scratch space.
	WorkDir        string           `yaml:"workDir"`
	Log            Log              `yaml:"log"`
	GitHub         GitHub           `yaml:"github"`
	Repositories   []Repository     `yaml:"repositories"`
	Queue          Queue            `yaml:"queue"`
	Resync         Resync           `yaml:"resync"`
	LeaderElection LeaderElection   `yaml:"leaderElection"`
	Targets        []cluster.Target `yaml:"targets"`
}

// Log sets how the server logs.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// GitHub holds the GitHub App's identity and secrets.
type GitHub struct {
	// APIURL is the REST API root, ending in '/'
	// (https://ghe.example.com/api/v3/ for GitHub Enterprise Server).
	APIURL string `yaml:"apiURL"`
	// AppID is the GitHub App's numeric id.
	AppID int64 `yaml:"appID"`
	// PrivateKeyFile holds the App's PEM private key.
	PrivateKeyFile string `yaml:"privateKeyFile"`
	// WebhookSecretFile holds the webhook secret.
	WebhookSecretFile string `yaml:"webhookSecretFile"`
	// MaxWebhookBytes caps the size of a webhook body.
	MaxWebhookBytes int64 `yaml:"maxWebhookBytes"`
	// MaxWebhookBytesInFlight bounds the webhook body bytes held at once
	// across all deliveries; a delivery beyond it waits, then is answered
	// 503. At least MaxWebhookBytes.
	MaxWebhookBytesInFlight int64 `yaml:"maxWebhookBytesInFlight"`

	// PrivateKey is the PEM text read from PrivateKeyFile or
	// $GITVEND_GITHUB_PRIVATE_KEY.
	PrivateKey Secret `yaml:"-" json:"-"`
	// WebhookSecret is read from WebhookSecretFile or
	// $GITVEND_GITHUB_WEBHOOK_SECRET.
	WebhookSecret Secret `yaml:"-" json:"-"`
}

// Repository is a desired-state repository the App serves.
type Repository struct {
	// Name is owner/name.
	Name string `yaml:"name"`
	// Branch is the branch that holds the desired state; empty means the
	// repository's default branch.
	Branch string `yaml:"branch"`
}

// Queue sizes the work queue.
type Queue struct {
	// Workers is how many jobs run at once.
	Workers int `yaml:"workers"`
	// Capacity is how many jobs may wait; a webhook beyond it is answered 503.
	Capacity int `yaml:"capacity"`
	// JobTimeout bounds one attempt of a job; a job past it is cancelled
	// and not tried again.
	JobTimeout time.Duration `yaml:"jobTimeout"`
}

// Resync sets the level-triggered loop.
type Resync struct {
	// Interval is how often every repository is brought to its desired state
	// without a webhook.
	Interval time.Duration `yaml:"interval"`
}

// LeaderElection makes one replica of several do the work.
type LeaderElection struct {
	Enabled bool `yaml:"enabled"`
	// Kubeconfig reaches the cluster that holds the Lease; empty means the
	// in-cluster configuration (where gitvend itself runs).
	Kubeconfig string `yaml:"kubeconfig"`
	// Namespace and Name locate the Lease.
	Namespace     string        `yaml:"namespace"`
	Name          string        `yaml:"name"`
	LeaseDuration time.Duration `yaml:"leaseDuration"`
	RenewDeadline time.Duration `yaml:"renewDeadline"`
	RetryPeriod   time.Duration `yaml:"retryPeriod"`
	// ShardTargets spreads the targets over the replicas, a Lease per
	// target, and the repositories' resyncs, a Lease per repository,
	// instead of the leader doing all of it.
	ShardTargets bool `yaml:"shardTargets"`
}

var (
	githubOwner = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}$`)
	githubRepo  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"json", "text"}
)

// fieldErrors collects the problems of one section, each a *field.Error.
type fieldErrors []error

func (e *fieldErrors) add(path, format string, args ...any) {
	*e = append(*e, &field.Error{Field: path, Msg: fmt.Sprintf(format, args...)})
}

// nest adds the problems of a subsection, their paths under prefix.
func (e *fieldErrors) nest(prefix string, err error) {
	for _, fe := range field.All(err) {
		c := *fe
		c.Field = field.Join(prefix, fe.Field)
		*e = append(*e, &c)
	}
}

func (e fieldErrors) join() error { return errors.Join(e...) }

// Validate checks the whole file and returns every problem, each naming
// its field path.
func (s *Server) Validate() error {
	var errs fieldErrors
	if s.APIVersion != APIVersion {
		errs.add("apiVersion", "must be %q, got %q", APIVersion, s.APIVersion)
	}
	if s.Kind != ServerKind {
		errs.add("kind", "must be %q, got %q", ServerKind, s.Kind)
	}
	if err := checkListen(s.Listen); err != "" {
		errs.add("listen", "%s", err)
	}
	if err := checkListen(s.OpsListen); err != "" {
		errs.add("opsListen", "%s", err)
	} else if samePort(s.Listen, s.OpsListen) {
		errs.add("opsListen", "must use another port than listen (%s), got %q", s.Listen, s.OpsListen)
	}
	if s.PublicURL != "" {
		if err := checkURL(s.PublicURL); err != "" {
			errs.add("publicURL", "%s", err)
		}
	}
	if strings.TrimSpace(s.WorkDir) == "" {
		errs.add("workDir", "is required: a directory for the git clone cache")
	}
	errs.nest("log", s.Log.Validate())
	errs.nest("github", s.GitHub.Validate())
	errs.nest("queue", s.Queue.Validate())
	errs.nest("resync", s.Resync.Validate())
	errs.nest("leaderElection", s.LeaderElection.Validate())

	if len(s.Repositories) == 0 {
		errs.add("repositories", "must name at least one repository (owner/name) the App serves")
	}
	repos := map[string]string{} // by RepoKey: the spelling listed first
	for i, r := range s.Repositories {
		f := fmt.Sprintf("repositories[%d]", i)
		errs.nest(f, r.Validate())
		switch first, seen := repos[RepoKey(r.Name)]; {
		case seen && first == r.Name:
			errs.add(f+".name", "repository %q is listed twice", r.Name)
		case seen:
			errs.add(f+".name", "repository %q is listed twice (also as %q: GitHub compares names without regard to case)", r.Name, first)
		default:
			repos[RepoKey(r.Name)] = r.Name
		}
	}
	targets := map[string]bool{}
	for i, t := range s.Targets {
		f := fmt.Sprintf("targets[%d]", i)
		errs.nest(f, t.Validate())
		TargetWindows(t).validate(f, "target", errs.add)
		switch {
		case t.Repository == "":
			errs.add(f+".repository", "is required: one of repositories (owner/name)")
		case repos[RepoKey(t.Repository)] == "":
			errs.add(f+".repository", "must be one of repositories (%s), got %q", strings.Join(s.RepositoryNames(), ", "), t.Repository)
		}
		if targets[t.Name] {
			errs.add(f+".name", "target %q is defined twice", t.Name)
		}
		targets[t.Name] = true
	}
	return errs.join()
}

// checkListen explains what is wrong with a listen address, or returns "".
func checkListen(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("must be host:port or :port (for example \":8080\"), got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("port must be a number from 0 to 65535, got %q", port)
	}
	return ""
}

// samePort tells whether two listen addresses name the same non-zero port.
func samePort(a, b string) bool {
	_, pa, errA := net.SplitHostPort(a)
	_, pb, errB := net.SplitHostPort(b)
	return errA == nil && errB == nil && pa == pb && pa != "0"
}

// checkURL explains what is wrong with an http(s) URL, or returns "". The
// message never repeats credentials the URL may hold.
func checkURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "must be an absolute http or https URL"
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Sprintf("must be an absolute http or https URL, got %q", u.Redacted())
	}
	if u.User != nil {
		return fmt.Sprintf("must not hold credentials, got %q", u.Redacted())
	}
	return ""
}

// Validate checks the log settings.
func (l Log) Validate() error {
	var errs fieldErrors
	if !slices.Contains(logLevels, l.Level) {
		errs.add("level", "must be one of %s, got %q", strings.Join(logLevels, ", "), l.Level)
	}
	if !slices.Contains(logFormats, l.Format) {
		errs.add("format", "must be one of %s, got %q", strings.Join(logFormats, ", "), l.Format)
	}
	return errs.join()
}

// SlogLevel is Level as a slog.Level (info when Level is not valid).
func (l Log) SlogLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return slog.LevelInfo
	}
	return lv
}

// Validate checks the App settings and that both secrets are present.
func (g GitHub) Validate() error {
	var errs fieldErrors
	if !strings.HasSuffix(g.APIURL, "/") {
		errs.add("apiURL", "must end in '/'")
	}
	if err := checkURL(g.APIURL); err != "" {
		errs.add("apiURL", "%s", err)
	}
	if g.AppID <= 0 {
		errs.add("appID", "must be the GitHub App's id, a positive number, got %d", g.AppID)
	}
	if g.MaxWebhookBytes < MinWebhookBytes || g.MaxWebhookBytes > MaxWebhookBytes {
		errs.add("maxWebhookBytes", "must be from %d to %d (GitHub's 25 MiB cap), got %d", MinWebhookBytes, MaxWebhookBytes, g.MaxWebhookBytes)
	}
	if g.MaxWebhookBytesInFlight < g.MaxWebhookBytes || g.MaxWebhookBytesInFlight > MaxWebhookBytesInFlight {
		errs.add("maxWebhookBytesInFlight", "must be from maxWebhookBytes (%d) to %d, got %d", g.MaxWebhookBytes, MaxWebhookBytesInFlight, g.MaxWebhookBytesInFlight)
	}
	switch {
	case len(g.PrivateKey) == 0:
		errs.add("privateKeyFile", "the App's private key is required: name a PEM file or set %s", EnvPrivateKey)
	case !isPEMPrivateKey(g.PrivateKey):
		errs.add("privateKeyFile", "the App's private key must be a PEM block of type PRIVATE KEY or RSA PRIVATE KEY")
	}
	if len(g.WebhookSecret) == 0 {
		errs.add("webhookSecretFile", "the webhook secret is required: name a file or set %s", EnvWebhookSecret)
	}
	return errs.join()
}

// Validate checks one repository entry.
func (r Repository) Validate() error {
	var errs fieldErrors
	owner, name, ok := strings.Cut(r.Name, "/")
	if !ok || !githubOwner.MatchString(owner) || !githubRepo.MatchString(name) || name == "." || name == ".." {
		errs.add("name", "must be owner/name of a GitHub repository, got %q", r.Name)
	}
	if r.Branch != "" && plumbing.NewBranchReferenceName(r.Branch).Validate() != nil {
		errs.add("branch", "must be a valid git branch name or empty for the default branch, got %q", r.Branch)
	}
	return errs.join()
}

// Validate checks the queue's bounds and job timeout.
func (q Queue) Validate() error {
	var errs fieldErrors
	if q.Workers < 1 || q.Workers > MaxWorkers {
		errs.add("workers", "must be from 1 to %d, got %d", MaxWorkers, q.Workers)
	}
	if q.Capacity < 1 || q.Capacity > MaxCapacity {
		errs.add("capacity", "must be from 1 to %d, got %d", MaxCapacity, q.Capacity)
	}
	positive(&errs, "jobTimeout", q.JobTimeout)
	return errs.join()
}

// Validate checks the resync interval.
func (r Resync) Validate() error {
	var errs fieldErrors
	positive(&errs, "interval", r.Interval)
	return errs.join()
}

// Validate checks the Lease's name and that its durations are positive and
// ordered: retryPeriod < renewDeadline < leaseDuration.
func (l LeaderElection) Validate() error {
	var errs fieldErrors
	if !IsDNSLabel(l.Namespace) {
		errs.add("namespace", "must be a namespace name (DNS-1123 label), got %q", l.Namespace)
	}
	if !IsDNSLabel(l.Name) {
		errs.add("name", "must be a Lease name (DNS-1123 label), got %q", l.Name)
	}
	ok := positive(&errs, "leaseDuration", l.LeaseDuration)
	ok = positive(&errs, "renewDeadline", l.RenewDeadline) && ok
	ok = positive(&errs, "retryPeriod", l.RetryPeriod) && ok
	if ok && l.RenewDeadline >= l.LeaseDuration {
		errs.add("renewDeadline", "must be shorter than leaseDuration (%s), got %s", l.LeaseDuration, l.RenewDeadline)
	}
	if ok && l.RetryPeriod >= l.RenewDeadline {
		errs.add("retryPeriod", "must be shorter than renewDeadline (%s), got %s", l.RenewDeadline, l.RetryPeriod)
	}
	return errs.join()
}

// positive reports a duration that is not positive; it tells whether d is.
func positive(errs *fieldErrors, field string, d time.Duration) bool {
	if d <= 0 {
		errs.add(field, "must be a positive duration such as 30s, 5m or 1h, got %s", d)
		return false
	}
	return true
}

// RepositoryNames lists the served repositories in file order.
func (s *Server) RepositoryNames() []string {
	out := make([]string, len(s.Repositories))
	for i, r := range s.Repositories {
		out[i] = r.Name
	}
	return out
}

// Repository returns the served repository called name (owner/name,
// compared without regard to case, as GitHub does).
func (s *Server) Repository(name string) (Repository, bool) {
	for _, r := range s.Repositories {
		if SameRepo(r.Name, name) {
			return r, true
		}
	}
	return Repository{}, false
}

// Target returns the target called name.
func (s *Server) Target(name string) (cluster.Target, bool) {
	for _, t := range s.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return cluster.Target{}, false
}
