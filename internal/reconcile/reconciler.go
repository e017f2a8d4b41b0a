package reconcile

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/gitvend/gitvend/internal/cluster"
)

// FieldManager is the server-side apply field manager of everything gitvend
// applies.
const FieldManager = "gitvend"

// RecreateAnnotation, set to "true" on an object in Git, lets gitvend delete
// and recreate the object when a change touches an immutable field.
const RecreateAnnotation = "gitvend.dev/recreate"

// AdoptAnnotation, set to "true" on an object in Git, lets gitvend prune
// the object when it leaves Git even though it existed in the cluster
// before gitvend first applied it. Without it such an object is taken over
// (server-side apply sets the fields Git has) but left in place when it
// leaves Git: gitvend prunes only what it created or was told to adopt.
const AdoptAnnotation = "gitvend.dev/adopt"

// Labels gitvend reads on live objects and sets on its inventory.
const (
	// LabelManagedBy set to ManagedBy marks an object as gitvend's.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of LabelManagedBy on gitvend's objects.
	ManagedBy = "gitvend"
	// LabelTarget names the target an inventory belongs to.
	LabelTarget = "gitvend.dev/target"
)

// Defaults of Options.
const (
	// DefaultConcurrency is wide because an API server under load
	// answers one client's requests faster the more it has in flight
	// (the latency of each, not its CPU, bounds a narrow client): 48
	// creates 1,000 objects in about two thirds of the time 16 take.
	// The API server's priority and fairness queues what it cannot take.
	DefaultConcurrency  = 48
	DefaultPollInterval = time.Second
	DefaultDebounce     = 200 * time.Millisecond
	// defaultQPS and defaultBurst replace client-go's low client-side rate
	// limit when the rest.Config sets none; the API server's priority and
	// fairness does the real limiting.
	defaultQPS   = 500
	defaultBurst = 1000
	// stageTimeout bounds the wait for CRDs and Namespaces to be
	// established when the target sets no HealthTimeout.
	stageTimeout = time.Minute
)

// Options tune a Reconciler. The zero value is usable.
type Options struct {
	// Logger receives operational logs; none when nil.
	Logger *slog.Logger
	// Registerer receives the reconcile metrics; none when nil. Reconcilers
	// of several targets may share one: the metrics carry a target label.
	Registerer prometheus.Registerer
	// Concurrency bounds the requests made at once while applying, diffing
	// and pruning (DefaultConcurrency when 0).
	Concurrency int
	// PollInterval is how often health is polled (DefaultPollInterval
	// when 0).
	PollInterval time.Duration
	// Debounce is how long Watch gathers changes before it notifies
	// (DefaultDebounce when 0).
	Debounce time.Duration
}

// Reconciler applies desired objects to one target and finds drift there.
// Its methods are safe for concurrent use; applies to the same target are
// serialised.
type Reconciler struct {
	target    cluster.Target
	log       *slog.Logger
	client    client.Client
	meta      metadata.Interface
	discovery discovery.DiscoveryInterface
	mapper    meta.RESTMapper
	rm        *ssa.ResourceManager
	poller    *polling.StatusPoller
	metrics   *metrics
	workers   int
	interval  time.Duration
	debounce  time.Duration
	// maskKey keys the fingerprints of hidden values in drift reports.
	maskKey []byte

	applyMu sync.Mutex // one apply at a time
	// changeMu is held through a change of the cluster and the desired
	// state made outside Apply (BeginChange); heals wait for it.
	changeMu sync.Mutex
	seen     *seenCache
	// inventories is the target's inventory as last read and decoded.
	inventories inventories

	// keyMu guards key, the key of the inventory's content prints once
	// read (recordKey), and seeded, set once the seen cache was seeded
	// from the stored inventory (seedOnce).
	keyMu  sync.Mutex
	key    []byte
	seeded bool
	// noRecords, set by tests, makes the Reconciler ignore the
	// inventory's records, as gitvend did before it kept them.
	noRecords bool

	mu       sync.Mutex
	last     []*unstructured.Unstructured // objects of the last apply
	lastRev  string
	applied  chan struct{} // closed and replaced after every apply
	hasApply bool
	// healGate, when set, tells whether self-heal may heal now
	// (SetHealGate).
	healGate func() bool
	// quiet are the fields drift leaves out, by object (SetQuiet).
	quiet map[quietKey][]string
	// compared, when set (by tests), sees the comparisons of every drift
	// check before the quiet fields are left out.
	compared func([]ObjectDrift)
}

// New returns a Reconciler for target t on the cluster cfg points at. It
// checks t but does not contact the cluster.
func New(cfg *rest.Config, t cluster.Target, opts Options) (*Reconciler, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("check target %q: %w", t.Name, err)
	}
	if cfg == nil {
		return nil, fmt.Errorf("create reconciler for target %s: no cluster configuration", t.Name)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	logger = logger.With("target", t.Name)
	cfg = ClientConfig(cfg)
	if cfg.WarningHandler == nil && cfg.WarningHandlerWithContext == nil {
		cfg.WarningHandler = warningLogger{logger}
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("create HTTP client for target %s: %w", t.Name, err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("create REST mapper for target %s: %w", t.Name, err)
	}
	c, err := client.New(cfg, client.Options{HTTPClient: httpClient, Mapper: mapper})
	if err != nil {
		return nil, fmt.Errorf("create client for target %s: %w", t.Name, err)
	}
	mc, err := metadata.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("create metadata client for target %s: %w", t.Name, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("create discovery client for target %s: %w", t.Name, err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	maskKey := make([]byte, 32)
	if _, err := rand.Read(maskKey); err != nil {
		return nil, fmt.Errorf("draw the drift fingerprint key: %w", err)
	}
	poller := polling.NewStatusPoller(c, mapper, polling.Options{})
	r := &Reconciler{
		target:    t,
		log:       logger.With("target", t.Name),
		client:    c,
		meta:      mc,
		discovery: dc,
		mapper:    mapper,
		rm:        ssa.NewResourceManager(c, poller, ssa.Owner{Field: FieldManager, Group: "gitvend.dev"}),
		poller:    poller,
		metrics:   m,
		workers:   orDefault(opts.Concurrency, DefaultConcurrency),
		interval:  orDefault(opts.PollInterval, DefaultPollInterval),
		debounce:  orDefault(opts.Debounce, DefaultDebounce),
		maskKey:   maskKey,
		seen:      newSeenCache(),
		applied:   make(chan struct{}),
	}
	r.rm.SetConcurrency(r.workers)
	return r, nil
}

// warningLogger logs the warnings the API server sends (deprecated APIs,
// unknown fields) instead of printing them to standard error.
type warningLogger struct{ log *slog.Logger }

// HandleWarningHeader implements rest.WarningHandler.
func (w warningLogger) HandleWarningHeader(_ int, _ string, text string) {
	w.log.Warn("API server warning", "warning", text)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Target returns the target the Reconciler applies to.
func (r *Reconciler) Target() cluster.Target { return r.target }

// recordApply remembers the objects of an apply for Heal and Monitor and
// wakes whoever waits for the next apply. The same content at the same
// revision (a periodic reconcile of a target already applied) wakes no
// one: the monitor goes on with the watches it has, rather than listing
// every managed object again and checking them all.
func (r *Reconciler) recordApply(objs []*unstructured.Unstructured, revision string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hasApply && revision == r.lastRev && SameObjects(r.last, objs) {
		r.last = objs // the content the monitor compares with, as Recorded tells
		return
	}
	r.last, r.lastRev, r.hasApply = objs, revision, true
	close(r.applied)
	r.applied = make(chan struct{})
}

// lastApply returns the objects and revision of the last apply, and a
// channel closed by the next one.
func (r *Reconciler) lastApply() ([]*unstructured.Unstructured, string, bool, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last, r.lastRev, r.hasApply, r.applied
}

// forEach runs fn for every index below n, at most r.workers at a time,
// and returns when all are done.
func (r *Reconciler) forEach(n int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.workers)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// BeginChange marks the start of a change the caller makes to the
// cluster together with the desired state, such as a sleep or a wake:
// writes to the objects, then the Apply or Observe of the desired state
// that holds them. Until end is called (once or more), Heal and
// HealObjects wait, so that they never write back the desired state the
// change is replacing, and then apply the new one. Applies do not wait.
func (r *Reconciler) BeginChange() (end func()) {
	r.changeMu.Lock()
	return sync.OnceFunc(r.changeMu.Unlock)
}

// Recorded tells whether objs, as passed to Apply or Observe, are the
// desired state the reconciler watches now: false after an apply that
// failed before it got to record them.
func (r *Reconciler) Recorded(objs []*unstructured.Unstructured) bool {
	last, _, ok, _ := r.lastApply()
	return ok && slices.Equal(last, objs)
}

// Observe makes objs at revision the state the reconciler watches for
// drift, as if it had just applied them, without writing anything: for a
// revision already applied (by an earlier process, say), so that drift is
// reported rather than quietly overwritten by a fresh apply.
func (r *Reconciler) Observe(objs []*unstructured.Unstructured, revision string) {
	r.recordApply(objs, revision)
}

// ClientConfig returns a copy of cfg with gitvend's client-side rate limit
// (defaultQPS, defaultBurst) where cfg sets none: client-go's own (5
// requests a second) would make a target's thousand objects a matter of
// minutes; the API server's priority and fairness does the real limiting.
func ClientConfig(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 && cfg.RateLimiter == nil {
		cfg.QPS, cfg.Burst = defaultQPS, defaultBurst
	}
	return cfg
}
