package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/validation"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/klog/v2"
)

// Defaults for the durations of Options, the same as Kubernetes' own
// controllers use.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// Options configure an Elector.
type Options struct {
	// Namespace holds the Lease. It must exist: the Elector creates the
	// Lease, never the namespace.
	Namespace string
	// Name is the name of the Lease, shared by every replica.
	Name string
	// Identity names this replica in the Lease and must differ between
	// replicas; empty means DefaultIdentity.
	Identity string
	// LeaseDuration is how long the other replicas wait, after the last
	// renewal they saw, before they take the Lease over
	// (DefaultLeaseDuration when zero).
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps retrying to renew before
	// it gives up leading; shorter than LeaseDuration
	// (DefaultRenewDeadline when zero).
	RenewDeadline time.Duration
	// RetryPeriod is the wait between tries to acquire or renew; shorter
	// than RenewDeadline by a margin for jitter (DefaultRetryPeriod when
	// zero).
	RetryPeriod time.Duration
	// Logger receives the Elector's logs and client-go's leader election
	// logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the gitvend_leader gauge; nil registers nothing.
	Registerer prometheus.Registerer
}

// Elector takes part in the election for one Lease. Its methods are safe
// for concurrent use; Run runs one election at a time.
type Elector struct {
	opts   Options
	leases coordinationv1client.LeasesGetter
	logger *slog.Logger
	gauge  prometheus.Gauge
	leader atomic.Bool
}

// New validates opts, fills in defaults and returns an Elector that talks
// to the API server of cfg. It makes no request yet.
func New(cfg *rest.Config, opts Options) (*Elector, error) {
	if cfg == nil {
		return nil, errors.New("leader election: no Kubernetes client configuration")
	}
	if err := opts.complete(); err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.Timeout == 0 {
		// Bound every request, so that a hung connection cannot hold up an
		// attempt to acquire the Lease.
		cfg.Timeout = opts.RenewDeadline
	}
	cfg = rest.AddUserAgent(cfg, "gitvend-leader-election")
	leases, err := coordinationv1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("leader election: create client: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("lease", opts.Namespace+"/"+opts.Name, "identity", opts.Identity)
	gauge, err := leaderGauge(opts.Registerer, opts.Identity)
	if err != nil {
		return nil, err
	}
	gauge.Set(0)
	return &Elector{opts: opts, leases: leases, logger: logger, gauge: gauge}, nil
}

// complete checks the options and fills in the defaults.
func (o *Options) complete() error {
	if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
		return fmt.Errorf("namespace %q: %s", o.Namespace, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(o.Name); len(errs) > 0 {
		return fmt.Errorf("name %q: %s", o.Name, strings.Join(errs, "; "))
	}
	if o.Identity == "" {
		id, err := DefaultIdentity()
		if err != nil {
			return err
		}
		o.Identity = id
	}
	for _, d := range []struct {
		name  string
		value *time.Duration
		def   time.Duration
	}{
		{"leaseDuration", &o.LeaseDuration, DefaultLeaseDuration},
		{"renewDeadline", &o.RenewDeadline, DefaultRenewDeadline},
		{"retryPeriod", &o.RetryPeriod, DefaultRetryPeriod},
	} {
		if *d.value < 0 {
			return fmt.Errorf("%s: must be positive, got %s", d.name, *d.value)
		}
		if *d.value == 0 {
			*d.value = d.def
		}
	}
	if o.LeaseDuration < time.Second {
		return fmt.Errorf("leaseDuration: must be at least 1s (the Lease counts whole seconds), got %s", o.LeaseDuration)
	}
	if o.RenewDeadline >= o.LeaseDuration {
		return fmt.Errorf("renewDeadline: must be shorter than leaseDuration %s, got %s", o.LeaseDuration, o.RenewDeadline)
	}
	if minDeadline := time.Duration(leaderelection.JitterFactor * float64(o.RetryPeriod)); o.RenewDeadline <= minDeadline {
		return fmt.Errorf("retryPeriod: must be shorter than renewDeadline %s divided by %.1f, got %s", o.RenewDeadline, leaderelection.JitterFactor, o.RetryPeriod)
	}
	return nil
}

// DefaultIdentity names this process among the replicas: the host name
// (the pod's name in Kubernetes) and the process id. Two processes running
// at once never share it; a container restarted in its pod usually gets it
// back (the same pod name and process id 1), and with it, at once, the
// Leases its crashed predecessor held instead of waiting for them to
// expire.
func DefaultIdentity() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("identity: empty, and the host name is unknown: %w", err)
	}
	return fmt.Sprintf("%s_%d", host, os.Getpid()), nil
}

// leaderGauge returns this identity's gitvend_leader gauge, registered on
// reg; electors in one process share the gauge vector.
func leaderGauge(reg prometheus.Registerer, identity string) (prometheus.Gauge, error) {
	vec, err := gaugeVec(reg, "leader election", prometheus.GaugeOpts{
		Name: "gitvend_leader",
		Help: "1 while this replica holds the leader Lease and runs the leader's work, else 0.",
	}, "identity")
	if err != nil {
		return nil, err
	}
	return vec.WithLabelValues(identity), nil
}

// Identity returns the name this replica has in the Lease.
func (e *Elector) Identity() string { return e.opts.Identity }

// IsLeader tells whether this replica holds the Lease and is running the
// leader's work right now.
func (e *Elector) IsLeader() bool { return e.leader.Load() }

func (e *Elector) setLeader(on bool) {
	e.leader.Store(on)
	if on {
		e.gauge.Set(1)
	} else {
		e.gauge.Set(0)
	}
}

// Run takes part in the election until ctx is done. Whenever this replica
// acquires the Lease, Run calls lead with a context that is cancelled when
// leadership is lost or ctx is done, and competes again once lead has
// returned. On ctx's end the Lease is given back, after lead has returned,
// so that another replica takes over within a retry period instead of
// waiting for the Lease to expire.
//
// lead must return soon after its context is cancelled: another replica
// may take over once LeaseDuration has passed since the last renewal. When
// lead returns while its context is still live, Run gives the Lease back
// and returns nil.
//
// Run returns an error when the Lease cannot be created because its
// namespace does not exist, and nil otherwise.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context)) error {
	// client-go's leader election logs through the logger in its context.
	ctx = klog.NewContext(ctx, logr.FromSlogHandler(e.logger.Handler()))
	for ctx.Err() == nil {
		finished, err := e.term(ctx, lead)
		if err != nil {
			return err
		}
		if finished {
			return nil
		}
	}
	return nil
}

// term waits for the Lease, runs lead while it is held and gives the Lease
// back once lead has returned. It reports whether lead returned on its own.
func (e *Elector) term(ctx context.Context, lead func(ctx context.Context)) (finished bool, err error) {
	// client-go's elector runs on a context of its own rather than ctx:
	// when ctx ends during leadership, the Lease must stay renewed until
	// lead has returned. client-go's ReleaseOnCancel would give it back
	// before that, so the Lease is released here instead.
	electionCtx, stopElection := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElection()
	lock := e.newLock(stopElection)

	acquired := make(chan context.Context, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:          lock,
		LeaseDuration: e.opts.LeaseDuration,
		RenewDeadline: e.opts.RenewDeadline,
		RetryPeriod:   e.opts.RetryPeriod,
		Name:          e.opts.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(termCtx context.Context) { acquired <- termCtx },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return false, fmt.Errorf("leader election: %w", err)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		le.Run(electionCtx)
	}()

	select {
	case <-ctx.Done():
	case termCtx := <-acquired:
		finished = e.lead(ctx, termCtx, lead)
	case <-ended:
	}
	stopElection()
	<-ended
	if err := lock.namespaceError(); err != nil {
		return false, err
	}
	e.release(ctx, lock)
	return finished, nil
}

// lead runs the leader's work while termCtx, client-go's context for this
// term of leadership, and ctx last. It reports whether lead returned on
// its own.
func (e *Elector) lead(ctx, termCtx context.Context, lead func(ctx context.Context)) bool {
	leadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(termCtx, cancel)
	defer stop()
	if ctx.Err() != nil || termCtx.Err() != nil {
		return false
	}
	e.logger.Info("acquired leadership")
	e.setLeader(true)
	lead(leadCtx)
	e.setLeader(false)
	switch {
	case ctx.Err() != nil:
		e.logger.Info("stopped leading: shutting down")
		return false
	case termCtx.Err() != nil:
		e.logger.Warn("lost leadership: the Lease could not be renewed in time")
		return false
	default:
		e.logger.Info("stopped leading: the leader's work returned")
		return true
	}
}
