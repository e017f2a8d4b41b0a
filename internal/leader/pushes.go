package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coordinationinformers "k8s.io/client-go/informers/coordination/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
)

// Annotations of a push signal Lease.
const (
	AnnotationPushedSHA = "gitvend.dev/pushed-sha"
	AnnotationPushedAt  = "gitvend.dev/pushed-at"
	AnnotationPushedBy  = "gitvend.dev/pushed-by"
	leaseKindPush       = "push"
)

// PushOptions configure Pushes.
type PushOptions struct {
	// Namespace holds the signal Leases; it must exist.
	Namespace string
	// Prefix starts the name of every signal Lease:
	// <prefix>-push-<owner>-<name>-<hash>.
	Prefix string
	// Identity names this replica in the signals it sends; empty means
	// DefaultIdentity.
	Identity string
	Logger   *slog.Logger
}

// Pushes hands the news of a push from the replica that received its
// webhook to the leader, which alone runs the rollout: the receiving
// replica annotates the repository's push signal Lease with the commit, and
// the leader, watching those Leases, reconciles the repository at once.
//
// It holds nothing and decides nothing: the Lease is only a mailbox that
// the API server orders and the watch delivers. A signal sent while no
// replica leads, or missed while the watch was down, is not lost in effect:
// a new leader reconciles every repository when it starts, after its watch
// is established, and the watch relists after a break and reports every
// signal Lease that changed meanwhile.
type Pushes struct {
	opts   PushOptions
	client kubernetes.Interface
	log    *slog.Logger
}

// NewPushes validates opts and returns Pushes that talk to the API server
// of cfg. It makes no request yet.
func NewPushes(cfg *rest.Config, opts PushOptions) (*Pushes, error) {
	if cfg == nil {
		return nil, errors.New("push signals: no Kubernetes client configuration")
	}
	le := Options{Namespace: opts.Namespace, Name: opts.Prefix, Identity: opts.Identity}
	if err := le.complete(); err != nil {
		return nil, fmt.Errorf("push signals: %w", err)
	}
	opts.Identity = le.Identity
	cfg = rest.CopyConfig(cfg)
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultRenewDeadline
	}
	cfg = rest.AddUserAgent(cfg, "gitvend-push-signals")
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("push signals: create client: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pushes{opts: opts, client: client, log: log.With("identity", opts.Identity)}, nil
}

// Signal tells the leader that repository repo moved to sha. Every call
// changes the signal Lease, so that a repeated push is heard again.
func (p *Pushes) Signal(ctx context.Context, repo, sha string) error {
	name := LeaseName(p.opts.Prefix, leaseKindPush, repo)
	leases := p.client.CoordinationV1().Leases(p.opts.Namespace)
	mark := func(meta *metav1.ObjectMeta) {
		if meta.Annotations == nil {
			meta.Annotations = map[string]string{}
		}
		meta.Annotations[AnnotationRepo] = repo
		meta.Annotations[AnnotationPushedSHA] = sha
		meta.Annotations[AnnotationPushedAt] = time.Now().UTC().Format(time.RFC3339Nano)
		meta.Annotations[AnnotationPushedBy] = p.opts.Identity
	}
	err := retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		lease, err := leases.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: p.opts.Namespace,
				Labels: map[string]string{LabelManagedBy: managedByGitvend, LabelLeaseKind: leaseKindPush}}}
			mark(&lease.ObjectMeta)
			_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		mark(&lease.ObjectMeta)
		_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("signal push of %s to the leader: Lease %s/%s: %w", repo, p.opts.Namespace, name, err)
	}
	p.log.Debug("push signalled to the leader", "repo", repo, "sha", sha, "lease", name)
	return nil
}

// watchSyncTimeout bounds how long Watch waits for the first list.
const watchSyncTimeout = 30 * time.Second

// Watch calls kick with the repository of every signal sent from now on,
// until ctx ends. It returns once the watch is established, so that a
// caller that reconciles everything after Watch returned misses nothing,
// or with an error when it could not be established within 30s or before
// ctx ended; the watch keeps trying in the background until ctx ends.
func (p *Pushes) Watch(ctx context.Context, kick func(repo string)) error {
	selector := labels.SelectorFromSet(labels.Set{LabelManagedBy: managedByGitvend, LabelLeaseKind: leaseKindPush}).String()
	informer := coordinationinformers.NewFilteredLeaseInformer(p.client, p.opts.Namespace, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = selector })
	signalled := func(obj any) {
		lease, ok := obj.(*coordinationv1.Lease)
		if !ok || lease.Annotations[AnnotationRepo] == "" {
			return
		}
		p.log.Info("push signal received", "repo", lease.Annotations[AnnotationRepo], "sha", lease.Annotations[AnnotationPushedSHA],
			"from", lease.Annotations[AnnotationPushedBy])
		kick(lease.Annotations[AnnotationRepo])
	}
	_, err := informer.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			if !initial {
				signalled(obj)
			}
		},
		UpdateFunc: func(old, cur any) {
			o, ok1 := old.(*coordinationv1.Lease)
			c, ok2 := cur.(*coordinationv1.Lease)
			if ok1 && ok2 && o.ResourceVersion != c.ResourceVersion {
				signalled(cur)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("watch push signals: %w", err)
	}
	go informer.RunWithContext(ctx)
	syncCtx, cancel := context.WithTimeoutCause(ctx, watchSyncTimeout, fmt.Errorf("not listed within %s", watchSyncTimeout))
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), informer.HasSynced) {
		return fmt.Errorf("watch push signals in namespace %s: %w", p.opts.Namespace, context.Cause(syncCtx))
	}
	return nil
}
