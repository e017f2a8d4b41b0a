package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/collector"
	"github.com/fluxcd/cli-utils/pkg/kstatus/polling/event"
	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/cli-utils/pkg/object"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gitvend/gitvend/internal/textbudget"
)

// statusInfo is the kstatus of one object.
type statusInfo struct {
	status  string
	message string
}

// checkHealth waits up to timeout for the applied items to become Current
// and sets their Status. It reports whether some had not settled in time.
func (r *Reconciler) checkHealth(ctx context.Context, items []*item, timeout time.Duration) bool {
	var wait []*item
	for _, it := range items {
		if it.done() {
			wait = append(wait, it)
		}
	}
	statuses, timedOut := r.waitStatus(ctx, wait, timeout)
	// Each object is explained on its own reads; they go side by side, so
	// many broken workloads do not each add their reads to the apply.
	r.forEach(len(wait), func(i int) {
		it := wait[i]
		s := statuses[it.key]
		it.res.Status = orUnknown(s.status)
		if s.status != string(status.CurrentStatus) {
			u := r.diagnose(ctx, it, s)
			it.res.Unhealthy = &u
		}
	})
	return timedOut
}

// waitStatus polls the kstatus of items until each is Current or Failed,
// or timeout passes, and returns the last status of each and whether some
// had not settled when the wait ended.
func (r *Reconciler) waitStatus(ctx context.Context, items []*item, timeout time.Duration) (map[key]statusInfo, bool) {
	out := map[key]statusInfo{}
	if len(items) == 0 {
		return out, false
	}
	ids := make(object.ObjMetadataSet, 0, len(items))
	byID := map[object.ObjMetadata]key{}
	for _, it := range items {
		id := object.UnstructuredToObjMetadata(it.obj)
		ids = append(ids, id)
		byID[id] = it.key
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	coll := collector.NewResourceStatusCollector(ids)
	events := r.poller.Poll(ctx, ids, polling.PollOptions{PollInterval: r.interval})
	done := coll.ListenWithObserver(events, collector.ObserverFunc(func(c *collector.ResourceStatusCollector, _ event.Event) {
		settled := true
		for _, rs := range c.ResourceStatuses {
			if rs == nil || (rs.Status != status.CurrentStatus && rs.Status != status.FailedStatus) {
				settled = false
				break
			}
		}
		if settled {
			cancel()
		}
	}))
	// Drain until the poller stops; its errors show as Unknown statuses.
	for range done {
	}
	obs := coll.LatestObservation()
	timedOut := false
	for _, rs := range obs.ResourceStatuses {
		timedOut = timedOut || (rs.Status != status.CurrentStatus && rs.Status != status.FailedStatus)
		info := statusInfo{status: string(rs.Status), message: rs.Message}
		if rs.Error != nil {
			info.message = rs.Error.Error()
		}
		out[byID[rs.Identifier]] = info
	}
	return out, timedOut
}

// HealthReason is why an applied object did not become healthy.
type HealthReason string

// Reasons an object is not healthy, the first three read from its pods.
const (
	// ImagePullError: a container's image cannot be pulled (ErrImagePull,
	// ImagePullBackOff, InvalidImageName, ErrImageNeverPull).
	ImagePullError HealthReason = "image pull error"
	// CrashLoop: a container keeps exiting and is restarted with a back-off
	// (CrashLoopBackOff).
	CrashLoop HealthReason = "crash loop"
	// Unschedulable: the scheduler finds no node for a pod (PodScheduled
	// False, reason Unschedulable), such as for want of CPU.
	Unschedulable HealthReason = "unschedulable"
	// NotHealthy: anything else; the detail is kstatus's message.
	NotHealthy HealthReason = "not healthy"
)

// Unhealthy says why an applied object did not become healthy.
//
// Detail is text the cluster reports (a scheduler's message, a
// container's state, a status message), so it is untrusted: it is one
// line without control or format characters, at most MaxHealthDetail
// characters, and must still be escaped by whoever renders it. Messages a
// container writes itself (its termination message, which may carry its
// logs or environment) are never copied.
type Unhealthy struct {
	Reason HealthReason `json:"reason"`
	Detail string       `json:"detail,omitempty"`
}

// String is the reason and its detail in one line.
func (u Unhealthy) String() string {
	if u.Detail == "" {
		return string(u.Reason)
	}
	return string(u.Reason) + ": " + u.Detail
}

// Bounds of the cluster-reported text an Unhealthy holds.
const (
	// MaxHealthDetail is the most characters of an Unhealthy's Detail.
	MaxHealthDetail = 300
	// maxHealthWord bounds a single word the cluster reports: a reason, a
	// container's name, an image.
	maxHealthWord = 200
	// maxPods bounds the pods read to explain one workload.
	maxPods = 100
	// diagnoseTimeout bounds the reads that explain one object after the
	// health wait.
	diagnoseTimeout = 10 * time.Second
)

// UnhealthyObjects lists the objects whose health was checked and that
// are not healthy, with why where known.
func (r *Result) UnhealthyObjects() []ObjectResult {
	var out []ObjectResult
	for _, o := range r.Objects {
		if o.Status != "" && o.Status != string(status.CurrentStatus) {
			out = append(out, o)
		}
	}
	return out
}

// diagnose explains why item it, whose kstatus s is not Current, is not
// healthy: from the pods of a workload (by its selector) or of a Pod, the
// worst problem found (image pull, then crash loop, then unschedulable);
// else kstatus's message.
func (r *Reconciler) diagnose(ctx context.Context, it *item, s statusInfo) Unhealthy {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagnoseTimeout)
	defer cancel()
	pods, err := r.podsOf(ctx, it)
	if err != nil {
		r.log.Warn("could not read the pods of an unhealthy object", "object", it.key.String(), "err", err)
	}
	best, rank := Unhealthy{}, 0
	for i := range pods {
		if u, k := podProblem(&pods[i]); k > rank {
			best, rank = u, k
		}
	}
	if rank > 0 {
		return best
	}
	detail := "status " + orUnknown(s.status)
	if s.message != "" {
		detail += ": " + s.message
	}
	return Unhealthy{Reason: NotHealthy, Detail: clean(detail, MaxHealthDetail)}
}

// podsOf reads the pods that make up a workload, by its live selector, or
// the Pod itself; none for other kinds.
func (r *Reconciler) podsOf(ctx context.Context, it *item) ([]corev1.Pod, error) {
	if it.key.Group == "" && it.key.Kind == "Pod" {
		var pod corev1.Pod
		if err := r.client.Get(ctx, client.ObjectKey{Namespace: it.key.Namespace, Name: it.key.Name}, &pod); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		return []corev1.Pod{pod}, nil
	}
	workload := (it.key.Group == "apps" && (it.key.Kind == "Deployment" || it.key.Kind == "StatefulSet" ||
		it.key.Kind == "DaemonSet" || it.key.Kind == "ReplicaSet")) || (it.key.Group == "batch" && it.key.Kind == "Job")
	if !workload {
		return nil, nil
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(it.obj.GroupVersionKind())
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: it.key.Namespace, Name: it.key.Name}, live); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	raw, found, err := unstructured.NestedMap(live.Object, "spec", "selector")
	if err != nil || !found {
		return nil, err
	}
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return nil, fmt.Errorf("read the selector: %w", err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil || sel.Empty() {
		return nil, err // an empty selector would match every pod
	}
	var list corev1.PodList
	if err := r.client.List(ctx, &list, client.InNamespace(it.key.Namespace),
		client.MatchingLabelsSelector{Selector: sel}, client.Limit(maxPods)); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// Ranks of the problems podProblem finds, the worst highest.
const (
	rankUnschedulable = 1 + iota
	rankCrashLoop
	rankImagePull
)

// imagePullReasons are the waiting reasons of a container whose image
// cannot be pulled.
var imagePullReasons = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true}

// podProblem finds the worst problem of one pod and its rank; rank 0 when
// it has none podProblem knows.
func podProblem(pod *corev1.Pod) (Unhealthy, int) {
	images := map[string]string{}
	for _, c := range append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...) {
		images[c.Name] = c.Image
	}
	best, rank := Unhealthy{}, 0
	statuses := append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...)
	for _, cs := range statuses {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		name := clean(cs.Name, maxHealthWord)
		switch {
		case imagePullReasons[w.Reason] && rank < rankImagePull:
			image := images[cs.Name]
			if image == "" {
				image = cs.Image
			}
			best, rank = Unhealthy{Reason: ImagePullError, Detail: clean(fmt.Sprintf("container %s cannot pull image %s (%s)",
				name, clean(image, maxHealthWord), w.Reason), MaxHealthDetail)}, rankImagePull
		case w.Reason == "CrashLoopBackOff" && rank < rankCrashLoop:
			detail := fmt.Sprintf("container %s keeps crashing (CrashLoopBackOff, %d restarts)", name, cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil {
				detail += fmt.Sprintf("; last exit code %d", t.ExitCode)
				if t.Reason != "" {
					detail += " (" + clean(t.Reason, maxHealthWord) + ")"
				}
			}
			best, rank = Unhealthy{Reason: CrashLoop, Detail: clean(detail, MaxHealthDetail)}, rankCrashLoop
		}
	}
	if rank > 0 {
		return best, rank
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			detail := "pod " + clean(pod.Name, maxHealthWord) + " cannot be scheduled"
			if c.Message != "" {
				detail += ": " + c.Message
			}
			return Unhealthy{Reason: Unschedulable, Detail: clean(detail, MaxHealthDetail)}, rankUnschedulable
		}
	}
	return Unhealthy{}, 0
}

// clean makes cluster-reported text one line of at most max characters:
// control and format characters (line breaks, bidirectional overrides,
// zero-width marks) become spaces, runs of spaces one, and a longer text
// is cut and ends with "…".
func clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	return textbudget.Line(s, textbudget.Chars(max))
}
