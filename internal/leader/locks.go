package leader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// ErrHeld is returned (wrapped) by Locks.Lock when another replica holds
// the repository's Lease for longer than the wait allows.
var ErrHeld = errors.New("held by another replica")

// ErrLost is the cause of a lock's context when its Lease could not be
// renewed in time, so that another replica may take it over.
var ErrLost = errors.New("repository Lease lost")

// Labels and annotations gitvend puts on the Leases it creates.
const (
	LabelManagedBy     = "app.kubernetes.io/managed-by"
	LabelLeaseKind     = "gitvend.dev/lease"
	AnnotationRepo     = "gitvend.dev/repository"
	leaseKindRepo      = "repository"
	managedByGitvend   = "gitvend"
	maxLeaseNameLength = 63
)

// LockOptions configure Locks. The durations mean what they mean in
// Options and default the same way.
type LockOptions struct {
	// Namespace holds the Leases; it must exist.
	Namespace string
	// Prefix starts the name of every repository Lease:
	// <prefix>-repo-<owner>-<name>-<hash>.
	Prefix string
	// Identity names this replica in the Leases; it must differ between
	// replicas (use the Elector's identity); empty means DefaultIdentity.
	Identity      string
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// Wait bounds how long Lock waits for a Lease another replica holds
	// (default RenewDeadline).
	Wait   time.Duration
	Logger *slog.Logger
}

// Locks keeps the jobs of one repository on one replica at a time, with a
// coordination.k8s.io/v1 Lease per repository.
//
// A Lease per repository, rather than per request or per queue key,
// because the jobs of one request do not share a key: a webhook on a
// request's pull request is queued under the pull request's number and
// finds the request's issue only once it has read GitHub, and a resync
// walks every request of the repository. Only the repository is known
// before the job runs and covers all of them. Within the replica holding
// the Lease, its workers share it and the bot keeps requests apart itself,
// so a repository's requests still run side by side there.
//
// A Lease is held as client-go holds the leader's: its holder renews it
// every RetryPeriod, another replica takes it over only once it has seen
// it unrenewed for its whole duration (by its own clock, so clock skew
// between replicas does not matter), and a holder that cannot renew it
// within RenewDeadline cancels the jobs running under it before that.
// The last job of a repository to return gives the Lease back at once.
type Locks struct {
	opts   LockOptions
	leases coordinationv1client.LeasesGetter
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*lockEntry // Lease name → this replica's hold
	seen    observations          // of other replicas' Leases
}

// lockEntry is this replica's hold on one Lease, shared by its jobs.
type lockEntry struct {
	mu    sync.Mutex // held while the Lease is taken or given back
	refs  int        // Lock calls using or waiting for the entry
	users int        // jobs running under the Lease
	ctx   context.Context
	stop  context.CancelCauseFunc
	done  chan struct{} // closed when renewal has stopped
}

// NewLocks validates opts and returns Locks that talk to the API server of
// cfg. It makes no request yet.
func NewLocks(cfg *rest.Config, opts LockOptions) (*Locks, error) {
	if cfg == nil {
		return nil, errors.New("repository Leases: no Kubernetes client configuration")
	}
	le := Options{Namespace: opts.Namespace, Name: opts.Prefix, Identity: opts.Identity,
		LeaseDuration: opts.LeaseDuration, RenewDeadline: opts.RenewDeadline, RetryPeriod: opts.RetryPeriod}
	if err := le.complete(); err != nil {
		return nil, fmt.Errorf("repository Leases: %w", err)
	}
	opts.Identity = le.Identity
	opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod = le.LeaseDuration, le.RenewDeadline, le.RetryPeriod
	if opts.Wait < 0 {
		return nil, fmt.Errorf("repository Leases: wait: must be positive, got %s", opts.Wait)
	}
	if opts.Wait == 0 {
		opts.Wait = opts.RenewDeadline
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.Timeout == 0 {
		cfg.Timeout = opts.RenewDeadline
	}
	// Every job takes and gives back a Lease (two requests each, and a
	// renewal per RetryPeriod while it runs): more than client-go's
	// default of 5 requests a second allows when webhooks come in bursts.
	cfg.QPS, cfg.Burst = 50, 100
	cfg = rest.AddUserAgent(cfg, "gitvend-repository-leases")
	leases, err := coordinationv1client.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("repository Leases: create client: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Locks{opts: opts, leases: leases, log: log.With("identity", opts.Identity), now: time.Now,
		entries: map[string]*lockEntry{}}, nil
}

// LeaseName is the name of the Lease of repository repo (owner/name):
// readable, a DNS-1123 label, and the same for any spelling of the name,
// as GitHub's repository names are case-insensitive.
func LeaseName(prefix, kind, repo string) string {
	repo = strings.ToLower(repo)
	sum := sha256.Sum256([]byte(repo))
	hash := hex.EncodeToString(sum[:])[:10]
	var b strings.Builder
	dash := true
	for _, c := range repo {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	slug := strings.Trim(b.String(), "-")
	head := prefix + "-" + kind + "-"
	if room := maxLeaseNameLength - len(head) - len(hash) - 1; len(slug) > room {
		slug = strings.TrimRight(slug[:max(room, 0)], "-")
	}
	if slug == "" {
		return head + hash
	}
	return head + slug + "-" + hash
}

// Lock takes the Lease of repository repo for one job, waiting at most
// Wait for another replica to give it up, and returns a context derived
// from ctx that is cancelled with cause ErrLost should the Lease be lost,
// and the release, to be called once the job has returned. Jobs of this
// replica share the Lease. An error wrapping ErrHeld means another replica
// holds it; the job must not run now.
func (l *Locks) Lock(ctx context.Context, repo string) (context.Context, func(), error) {
	name := LeaseName(l.opts.Prefix, "repo", repo)
	l.mu.Lock()
	e := l.entries[name]
	if e == nil {
		e = &lockEntry{}
		l.entries[name] = e
	}
	e.refs++
	l.mu.Unlock()

	e.mu.Lock()
	if e.users == 0 || e.ctx.Err() != nil {
		if e.users > 0 {
			// Lost while jobs still run under it: they stop soon.
			e.mu.Unlock()
			l.unref(name, e)
			return nil, nil, fmt.Errorf("repository %s: Lease %s: %w", repo, name, ErrLost)
		}
		if err := l.acquire(ctx, name, repo); err != nil {
			e.mu.Unlock()
			l.unref(name, e)
			return nil, nil, err
		}
		e.ctx, e.stop = context.WithCancelCause(context.Background())
		e.done = make(chan struct{})
		go l.renew(name, e)
	}
	e.users++
	held := e.ctx
	e.mu.Unlock()

	jctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(held, func() { cancel(context.Cause(held)) })
	var once sync.Once
	return jctx, func() {
		once.Do(func() {
			stop()
			cancel(context.Canceled)
			l.release(name, e)
		})
	}, nil
}

// Observe reads the Leases of repos once, so that the wait for a Lease
// whose holder has died starts now rather than at the first job: a
// replica calls it when it starts, and by the time its first jobs run, the
// Leases of a predecessor that crashed have expired. Errors are only
// logged; Lock reads the Leases again.
func (l *Locks) Observe(ctx context.Context, repos ...string) {
	client := l.leases.Leases(l.opts.Namespace)
	for _, repo := range repos {
		name := LeaseName(l.opts.Prefix, "repo", repo)
		lease, err := client.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if !apierrors.IsNotFound(err) {
				l.log.Warn("could not read the repository Lease", "lease", name, "err", err)
			}
			continue
		}
		if h := ptr.Deref(lease.Spec.HolderIdentity, ""); h != "" && h != l.opts.Identity {
			l.expired(name, lease)
		}
	}
}

// unref drops a reference to an entry, forgetting it when unused.
func (l *Locks) unref(name string, e *lockEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(l.entries, name)
	}
}

// release ends one job's use of the Lease; the last one stops the renewal
// and gives the Lease back.
func (l *Locks) release(name string, e *lockEntry) {
	e.mu.Lock()
	if e.users--; e.users == 0 {
		e.stop(context.Canceled)
		<-e.done
		l.giveBack(name)
	}
	e.mu.Unlock()
	l.unref(name, e)
}

// acquire takes the Lease for this replica, waiting at most Wait while
// another replica holds it.
func (l *Locks) acquire(ctx context.Context, name, repo string) error {
	ctx, cancel := context.WithTimeout(ctx, l.opts.Wait)
	defer cancel()
	holder := ""
	var err error
	for {
		ok, h, tryErr := l.tryAcquire(ctx, name, repo)
		switch {
		case ok:
			return nil
		case h != "":
			holder, err = h, nil
		case tryErr != nil && ctx.Err() == nil:
			err = tryErr
			l.log.Warn("could not take the repository Lease; trying again", "lease", name, "err", err)
		}
		select {
		case <-ctx.Done():
			if holder == "" && err != nil {
				return fmt.Errorf("repository %s: take Lease %s: %w", repo, name, err)
			}
			return fmt.Errorf("repository %s: Lease %s %w %q (waited %s)", repo, name, ErrHeld, holder, l.opts.Wait)
		case <-time.After(l.opts.RetryPeriod):
		}
	}
}

// tryAcquire makes one attempt to take the Lease: it creates it, or takes
// it over when it is free, ours, or expired. It returns the holder when
// another replica has it.
func (l *Locks) tryAcquire(ctx context.Context, name, repo string) (bool, string, error) {
	client := l.leases.Leases(l.opts.Namespace)
	now := metav1.NewMicroTime(l.now())
	lease, err := client.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: l.opts.Namespace,
				Labels:      map[string]string{LabelManagedBy: managedByGitvend, LabelLeaseKind: leaseKindRepo},
				Annotations: map[string]string{AnnotationRepo: repo}},
			Spec: l.spec(now, now, 0),
		}
		_, err = client.Create(ctx, lease, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return false, "", nil // another replica was faster: look again
		}
		if err != nil {
			return false, "", fmt.Errorf("create: %w", err)
		}
		l.forget(name)
		return true, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("get: %w", err)
	}
	holder := ptr.Deref(lease.Spec.HolderIdentity, "")
	if holder != "" && holder != l.opts.Identity && !l.expired(name, lease) {
		return false, holder, nil
	}
	transitions := ptr.Deref(lease.Spec.LeaseTransitions, 0)
	if holder != l.opts.Identity {
		transitions++
	}
	lease.Spec = l.spec(now, now, transitions)
	if _, err := client.Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) {
			return false, holder, nil // changed meanwhile: look again
		}
		return false, holder, fmt.Errorf("update: %w", err)
	}
	if holder != "" && holder != l.opts.Identity {
		l.log.Info("took over an expired repository Lease", "lease", name, "from", holder)
	}
	l.forget(name)
	return true, "", nil
}

// spec is the Lease held by this replica.
func (l *Locks) spec(acquired, renewed metav1.MicroTime, transitions int32) coordinationv1.LeaseSpec {
	return heldSpec(l.opts.Identity, l.opts.LeaseDuration, acquired, renewed, transitions)
}

// expired tells whether lease has gone unchanged for its whole duration
// since this replica first saw it so.
func (l *Locks) expired(name string, lease *coordinationv1.Lease) bool {
	return l.seen.expired(name, lease, l.now())
}

func (l *Locks) forget(name string) { l.seen.forget(name) }

// renew keeps the Lease renewed until e.ctx ends; when it cannot renew
// within RenewDeadline, or finds the Lease taken, it cancels e.ctx with
// ErrLost.
func (l *Locks) renew(name string, e *lockEntry) {
	defer close(e.done)
	last := l.now()
	tick := time.NewTicker(l.opts.RetryPeriod)
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(e.ctx, l.opts.RenewDeadline)
		taken, err := l.renewOnce(ctx, name)
		cancel()
		switch {
		case e.ctx.Err() != nil:
			return
		case taken:
			l.log.Error("repository Lease taken by another replica; cancelling its jobs", "lease", name)
			e.stop(ErrLost)
			return
		case err == nil:
			last = l.now()
		case l.now().Sub(last) >= l.opts.RenewDeadline:
			l.log.Error("repository Lease not renewed in time; cancelling its jobs", "lease", name, "err", err)
			e.stop(ErrLost)
			return
		default:
			l.log.Warn("could not renew the repository Lease; trying again", "lease", name, "err", err)
		}
	}
}

// renewOnce moves the Lease's renew time on; taken says another replica
// holds it now.
func (l *Locks) renewOnce(ctx context.Context, name string) (taken bool, err error) {
	client := l.leases.Leases(l.opts.Namespace)
	lease, err := client.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if ptr.Deref(lease.Spec.HolderIdentity, "") != l.opts.Identity {
		return true, nil
	}
	lease.Spec.RenewTime = ptr.To(metav1.NewMicroTime(l.now()))
	_, err = client.Update(ctx, lease, metav1.UpdateOptions{})
	return false, err
}

// giveBack clears the holder of a Lease this replica holds, so that the
// next replica to ask takes it at once. A Lease it cannot give back
// expires.
func (l *Locks) giveBack(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.RenewDeadline)
	defer cancel()
	client := l.leases.Leases(l.opts.Namespace)
	for range 3 {
		lease, err := client.Get(ctx, name, metav1.GetOptions{})
		if err != nil || ptr.Deref(lease.Spec.HolderIdentity, "") != l.opts.Identity {
			if err != nil && !apierrors.IsNotFound(err) {
				l.log.Warn("could not give the repository Lease back; it expires", "lease", name, "err", err)
			}
			return
		}
		now := metav1.NewMicroTime(l.now())
		lease.Spec.HolderIdentity = nil
		lease.Spec.LeaseDurationSeconds = ptr.To[int32](1)
		lease.Spec.RenewTime = &now
		_, err = client.Update(ctx, lease, metav1.UpdateOptions{})
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			l.log.Warn("could not give the repository Lease back; it expires", "lease", name, "err", err)
			return
		}
	}
}
