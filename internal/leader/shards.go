package leader

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// Label and annotation of shard Leases.
const (
	// LabelShardKind names the kind of keys a shard Lease belongs to
	// ("target", "resync"), so that one list finds every Lease of a kind.
	LabelShardKind = "gitvend.dev/shard"
	// AnnotationShardKey holds the key (a target's name, a repository)
	// that a shard Lease stands for.
	AnnotationShardKey = "gitvend.dev/key"
	leaseKindShard     = "shard"
	leaseKindMember    = "member"
)

// ErrShardLost is the cause of a key's work context when its Lease could
// not be renewed in time or was found taken.
var ErrShardLost = errors.New("shard Lease lost")

// ShardOptions configure Shards. The durations mean what they mean in
// Options and default the same way.
type ShardOptions struct {
	// Namespace holds the Leases; it must exist.
	Namespace string
	// Prefix starts the name of every Lease:
	// <prefix>-<kind>-<key>-<hash> for a key, and
	// <prefix>-<kind>-member-<identity>-<hash> for a replica's presence.
	Prefix string
	// Kind names what the keys are ("target", "resync"); replicas share
	// out the keys of one kind. A DNS-1123 label.
	Kind string
	// Identity names this replica; it must differ between replicas;
	// empty means DefaultIdentity.
	Identity      string
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	Logger        *slog.Logger
	// Registerer receives the gitvend_shards_held gauge; nil registers
	// nothing.
	Registerer prometheus.Registerer
}

// Shards spreads a set of keys (targets, repositories) over the replicas
// that run it, one coordination.k8s.io/v1 Lease per key, so that each key
// is worked on by one replica at a time and a dead replica's keys move to
// the others within a Lease duration.
//
// Every replica keeps a presence Lease of its own, renewed like the key
// Leases; the live presences (changed within their duration, by this
// replica's clock) count the replicas, and each replica holds at most its
// fair share, ceil(keys/replicas), of the keys. A replica holding more
// (one that was alone when another starts) gives the excess back; the
// newcomer takes it. Which keys a replica prefers is decided by a hash of
// its identity and the key, so that replicas mostly reach for different
// keys and a key tends to return to the same replica after a restart.
//
// A key's work runs under a context that is cancelled when the key is
// lost or given back; a key given back is released only after its work
// has returned, and a key whose Lease cannot be renewed within
// RenewDeadline has its work cancelled before another replica may take it
// (after LeaseDuration).
type Shards struct {
	opts   ShardOptions
	leases coordinationv1client.LeasesGetter
	log    *slog.Logger
	now    func() time.Time
	member string // name of this replica's presence Lease
	gauge  prometheus.Gauge

	// noGiveBack makes Run end without giving the Leases back, as a
	// crashed replica would (tests).
	noGiveBack bool

	mu      sync.Mutex
	held    map[string]*shardHold    // key → this replica's hold
	lost    map[string]chan struct{} // key → done of work still returning after a loss
	seen    observations             // of other replicas' Leases
	members int                      // live replicas at the last look
}

// shardHold is this replica's hold on one key's Lease.
type shardHold struct {
	lease     *coordinationv1.Lease // as last written by this replica
	renewed   time.Time             // last successful renewal
	ctx       context.Context
	cancel    context.CancelCauseFunc
	done      chan struct{} // closed when the key's work has returned
	releasing bool
}

// NewShards validates opts and returns Shards that talk to the API server
// of cfg. It makes no request yet.
func NewShards(cfg *rest.Config, opts ShardOptions) (*Shards, error) {
	if cfg == nil {
		return nil, errors.New("shard Leases: no Kubernetes client configuration")
	}
	le := Options{Namespace: opts.Namespace, Name: opts.Prefix, Identity: opts.Identity,
		LeaseDuration: opts.LeaseDuration, RenewDeadline: opts.RenewDeadline, RetryPeriod: opts.RetryPeriod}
	if err := le.complete(); err != nil {
		return nil, fmt.Errorf("shard Leases: %w", err)
	}
	if err := validLabel(opts.Kind); err != nil {
		return nil, fmt.Errorf("shard Leases: kind: %w", err)
	}
	opts.Identity = le.Identity
	opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod = le.LeaseDuration, le.RenewDeadline, le.RetryPeriod
	cfg = rest.CopyConfig(cfg)
	if cfg.Timeout == 0 {
		cfg.Timeout = opts.RenewDeadline
	}
	// One list and one update per held key every RetryPeriod.
	cfg.QPS, cfg.Burst = 50, 100
	cfg = rest.AddUserAgent(cfg, "gitvend-shard-leases")
	leases, err := coordinationv1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("shard Leases: create client: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gauge, err := heldGauge(opts.Registerer, opts.Kind)
	if err != nil {
		return nil, err
	}
	return &Shards{opts: opts, leases: leases, now: time.Now, gauge: gauge,
		log:    log.With("identity", opts.Identity, "shard", opts.Kind),
		member: LeaseName(opts.Prefix, opts.Kind+"-"+leaseKindMember, opts.Identity),
		held:   map[string]*shardHold{}, lost: map[string]chan struct{}{}}, nil
}

func validLabel(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%q: only lower-case letters, digits and '-'", s)
		}
	}
	return nil
}

// heldGauge returns the gitvend_shards_held gauge of kind, registered on
// reg; Shards in one process share the gauge vector.
func heldGauge(reg prometheus.Registerer, kind string) (prometheus.Gauge, error) {
	vec, err := gaugeVec(reg, "shard Leases", prometheus.GaugeOpts{
		Name: "gitvend_shards_held",
		Help: "Keys (targets, repositories' resyncs) whose Leases this replica holds, by kind.",
	}, "kind")
	if err != nil {
		return nil, err
	}
	return vec.WithLabelValues(kind), nil
}

// Identity returns the name this replica has in the Leases.
func (s *Shards) Identity() string { return s.opts.Identity }

// Held returns the keys this replica holds now, sorted.
func (s *Shards) Held() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.held))
	for k := range s.held {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Members returns the number of live replicas seen at the last look.
func (s *Shards) Members() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.members
}

// Run shares out keys with the other replicas until ctx is done. For
// every key this replica takes, Run starts work(ctx, key) in a goroutine
// of its own; its context is cancelled (with cause ErrShardLost when the
// Lease was lost) when the key goes to another replica or ctx ends. work
// must return soon after. On ctx's end Run waits for all work to return
// and gives the Leases back, so that the other replicas take the keys at
// once.
func (s *Shards) Run(ctx context.Context, keys []string, work func(ctx context.Context, key string)) error {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	tick := time.NewTicker(s.opts.RetryPeriod)
	defer tick.Stop()
	for {
		s.step(ctx, keys, work)
		select {
		case <-ctx.Done():
			s.stop()
			return nil
		case <-tick.C:
		}
	}
}

// step makes one round: presence, renewals, give-backs and takes.
func (s *Shards) step(ctx context.Context, keys []string, work func(context.Context, string)) {
	rctx, cancel := context.WithTimeout(ctx, s.opts.RenewDeadline)
	defer cancel()
	client := s.leases.Leases(s.opts.Namespace)
	if err := s.present(rctx); err != nil {
		s.log.Warn("could not renew this replica's presence Lease", "err", err)
	}
	list, err := client.List(rctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(labels.Set{
		LabelManagedBy: managedByGitvend, LabelShardKind: s.opts.Kind}).String()})
	if err != nil {
		s.log.Warn("could not list the shard Leases", "err", err)
		s.expireUnrenewed()
		return
	}
	byKey := map[string]*coordinationv1.Lease{}
	expired := map[string]bool{}
	members := 1
	for i := range list.Items {
		l := &list.Items[i]
		switch l.Labels[LabelLeaseKind] {
		case leaseKindMember:
			if l.Name != s.member && ptr.Deref(l.Spec.HolderIdentity, "") != "" && !s.expired(l.Name, l) {
				members++
			}
		case leaseKindShard:
			key := l.Annotations[AnnotationShardKey]
			byKey[key] = l
			// Every other replica's Lease is looked at on every round, not
			// only when this replica wants more keys, so that the wait for
			// a dead replica's Leases runs alongside the wait for its
			// presence to expire.
			if h := ptr.Deref(l.Spec.HolderIdentity, ""); h != "" && h != s.opts.Identity && s.expired(l.Name, l) {
				expired[key] = true
			}
		}
	}
	s.mu.Lock()
	s.members = members
	s.mu.Unlock()

	s.renewAll(rctx, byKey)
	fair := (len(keys) + members - 1) / members
	s.giveBackExcess(keys, fair)
	s.take(rctx, ctx, keys, byKey, expired, fair, work)
	s.gauge.Set(float64(len(s.Held())))
}

// present creates or renews this replica's presence Lease.
func (s *Shards) present(ctx context.Context) error {
	client := s.leases.Leases(s.opts.Namespace)
	now := metav1.NewMicroTime(s.now())
	l, err := client.Get(ctx, s.member, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = client.Create(ctx, s.newLease(s.member, leaseKindMember, "", now), metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec = s.spec(now, now, ptr.Deref(l.Spec.LeaseTransitions, 0))
	_, err = client.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

func (s *Shards) newLease(name, kind, key string, now metav1.MicroTime) *coordinationv1.Lease {
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.opts.Namespace,
			Labels: map[string]string{LabelManagedBy: managedByGitvend, LabelLeaseKind: kind, LabelShardKind: s.opts.Kind}},
		Spec: s.spec(now, now, 0),
	}
	if key != "" {
		l.Annotations = map[string]string{AnnotationShardKey: key}
	}
	return l
}

func (s *Shards) spec(acquired, renewed metav1.MicroTime, transitions int32) coordinationv1.LeaseSpec {
	return heldSpec(s.opts.Identity, s.opts.LeaseDuration, acquired, renewed, transitions)
}

// expired tells whether lease has gone unchanged for its whole duration
// since this replica first saw it so (by this replica's clock, so that
// clock skew between replicas does not matter).
func (s *Shards) expired(name string, lease *coordinationv1.Lease) bool {
	return s.seen.expired(name, lease, s.now())
}

// renewAll renews every held key's Lease from the list just read. A key
// whose Lease is gone or held by another is lost; one not renewed within
// RenewDeadline is lost too.
func (s *Shards) renewAll(ctx context.Context, byKey map[string]*coordinationv1.Lease) {
	client := s.leases.Leases(s.opts.Namespace)
	s.mu.Lock()
	held := make(map[string]*shardHold, len(s.held))
	for k, h := range s.held {
		held[k] = h
	}
	s.mu.Unlock()
	for key, h := range held {
		l := byKey[key]
		if l == nil || ptr.Deref(l.Spec.HolderIdentity, "") != s.opts.Identity {
			s.lose(key, h, "taken by another replica")
			continue
		}
		l = l.DeepCopy()
		l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(s.now()))
		updated, err := client.Update(ctx, l, metav1.UpdateOptions{})
		if err == nil {
			s.mu.Lock()
			h.lease, h.renewed = updated, s.now()
			s.mu.Unlock()
			continue
		}
		if s.now().Sub(h.renewed) >= s.opts.RenewDeadline {
			s.lose(key, h, "not renewed in time")
			continue
		}
		s.log.Warn("could not renew the shard Lease; trying again", "key", key, "err", err)
	}
	s.finishReleases()
}

// expireUnrenewed drops the keys whose Leases went unrenewed for
// RenewDeadline, when the Leases cannot even be listed.
func (s *Shards) expireUnrenewed() {
	s.mu.Lock()
	var late []string
	for k, h := range s.held {
		if s.now().Sub(h.renewed) >= s.opts.RenewDeadline {
			late = append(late, k)
		}
	}
	s.mu.Unlock()
	for _, k := range late {
		s.mu.Lock()
		h := s.held[k]
		s.mu.Unlock()
		if h != nil {
			s.lose(k, h, "not renewed in time")
		}
	}
}

// lose forgets a key whose Lease this replica no longer holds, cancelling
// its work.
func (s *Shards) lose(key string, h *shardHold, why string) {
	s.log.Error("shard Lease lost; stopping its work", "key", key, "why", why)
	h.cancel(ErrShardLost)
	s.mu.Lock()
	if s.held[key] == h {
		delete(s.held, key)
		s.lost[key] = h.done
	}
	s.mu.Unlock()
}

// giveBackExcess starts giving back the keys this replica holds beyond
// its fair share, the ones it prefers least first: their work is
// cancelled, and the Lease given back once it has returned.
func (s *Shards) giveBackExcess(keys []string, fair int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keep []string
	for k, h := range s.held {
		if !h.releasing {
			keep = append(keep, k)
		}
	}
	wanted := map[string]bool{}
	for _, k := range keys {
		wanted[k] = true
	}
	s.byPreference(keep)
	for i, k := range keep {
		if i < fair && wanted[k] {
			continue
		}
		h := s.held[k]
		h.releasing = true
		h.cancel(context.Canceled)
		s.log.Info("giving a shard back to another replica", "key", k, "fair", fair)
	}
}

// finishReleases gives back the Leases of released keys whose work has
// returned.
func (s *Shards) finishReleases() {
	s.mu.Lock()
	var done []string
	for k, h := range s.held {
		if h.releasing && closed(h.done) {
			done = append(done, k)
		}
	}
	s.mu.Unlock()
	for _, k := range done {
		s.giveBack(k)
	}
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// giveBack clears the holder of a key's Lease, so that another replica
// takes it at once, and forgets the key. A Lease it cannot give back
// expires.
func (s *Shards) giveBack(key string) {
	s.mu.Lock()
	h := s.held[key]
	delete(s.held, key)
	s.mu.Unlock()
	if h == nil || h.lease == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.RenewDeadline)
	defer cancel()
	client := s.leases.Leases(s.opts.Namespace)
	// The Lease as last renewed first; read again when that is stale (a
	// renewal the server applied while its answer was lost).
	l := h.lease.DeepCopy()
	for try := 0; ; try++ {
		now := metav1.NewMicroTime(s.now())
		l.Spec.HolderIdentity = nil
		l.Spec.LeaseDurationSeconds = ptr.To[int32](1)
		l.Spec.RenewTime = &now
		_, err := client.Update(ctx, l, metav1.UpdateOptions{})
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) || try == 2 {
			s.log.Warn("could not give the shard Lease back; it expires", "key", key, "err", err)
			return
		}
		if l, err = client.Get(ctx, h.lease.Name, metav1.GetOptions{}); err != nil {
			s.log.Warn("could not give the shard Lease back; it expires", "key", key, "err", err)
			return
		}
		if ptr.Deref(l.Spec.HolderIdentity, "") != s.opts.Identity {
			return
		}
	}
}

// take takes free or expired keys, the preferred ones first, until this
// replica holds its fair share.
func (s *Shards) take(rctx, ctx context.Context, keys []string, byKey map[string]*coordinationv1.Lease, expired map[string]bool, fair int, work func(context.Context, string)) {
	s.mu.Lock()
	n := len(s.held)
	var free []string
	for _, k := range keys {
		if done, ok := s.lost[k]; ok {
			if !closed(done) {
				continue // its work has not returned yet: not twice at once
			}
			delete(s.lost, k)
		}
		if s.held[k] == nil {
			free = append(free, k)
		}
	}
	s.mu.Unlock()
	s.byPreference(free)
	client := s.leases.Leases(s.opts.Namespace)
	for _, key := range free {
		if n >= fair || ctx.Err() != nil {
			return
		}
		name := LeaseName(s.opts.Prefix, s.opts.Kind, key)
		now := metav1.NewMicroTime(s.now())
		var got *coordinationv1.Lease
		var err error
		l := byKey[key]
		switch {
		case l == nil:
			got, err = client.Create(rctx, s.newLease(name, leaseKindShard, key, now), metav1.CreateOptions{})
		default:
			holder := ptr.Deref(l.Spec.HolderIdentity, "")
			if holder != "" && holder != s.opts.Identity && !expired[key] {
				continue
			}
			l = l.DeepCopy()
			transitions := ptr.Deref(l.Spec.LeaseTransitions, 0)
			if holder != s.opts.Identity {
				transitions++
			}
			l.Spec = s.spec(now, now, transitions)
			got, err = client.Update(rctx, l, metav1.UpdateOptions{})
			if err == nil && holder != "" && holder != s.opts.Identity {
				s.log.Info("took over an expired shard Lease", "key", key, "from", holder)
			}
		}
		if apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) {
			continue // another replica was faster
		}
		if err != nil {
			s.log.Warn("could not take the shard Lease", "key", key, "err", err)
			continue
		}
		n++
		s.start(ctx, key, got, work)
	}
}

// start records a taken key and runs its work.
func (s *Shards) start(ctx context.Context, key string, l *coordinationv1.Lease, work func(context.Context, string)) {
	wctx, cancel := context.WithCancelCause(ctx)
	h := &shardHold{lease: l, renewed: s.now(), ctx: wctx, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.held[key] = h
	s.mu.Unlock()
	s.seen.forget(l.Name)
	s.log.Info("took a shard", "key", key)
	go func() {
		defer close(h.done)
		work(wctx, key)
	}()
}

// byPreference sorts keys by this replica's preference, highest first.
func (s *Shards) byPreference(keys []string) {
	score := func(k string) uint64 {
		h := fnv.New64a()
		h.Write([]byte(s.opts.Identity))
		h.Write([]byte{0})
		h.Write([]byte(k))
		return h.Sum64()
	}
	slices.SortFunc(keys, func(a, b string) int {
		sa, sb := score(a), score(b)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
}

// stop cancels all work, waits for it, and gives the Leases back (the
// presence Lease too, its holder cleared, so that the others count one
// replica less at once; Leases are never deleted, which gitvend's Role
// does not allow).
func (s *Shards) stop() {
	defer s.gauge.Set(0)
	s.mu.Lock()
	held := make(map[string]*shardHold, len(s.held))
	for k, h := range s.held {
		held[k] = h
		h.cancel(context.Canceled)
	}
	s.mu.Unlock()
	for _, h := range held {
		<-h.done
	}
	if s.noGiveBack {
		s.mu.Lock()
		clear(s.held)
		s.mu.Unlock()
		return
	}
	for k := range held {
		s.mu.Lock()
		h := s.held[k]
		if h != nil {
			h.releasing = true
		}
		s.mu.Unlock()
		s.giveBack(k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.RenewDeadline)
	defer cancel()
	client := s.leases.Leases(s.opts.Namespace)
	l, err := client.Get(ctx, s.member, metav1.GetOptions{})
	if err == nil {
		l.Spec.HolderIdentity = nil
		_, err = client.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil && !apierrors.IsNotFound(err) {
		s.log.Warn("could not give this replica's presence Lease back; it expires", "err", err)
	}
}
