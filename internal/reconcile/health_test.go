package reconcile

import (
	"strings"
	"testing"
	"time"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// webDeployment is a Deployment whose pods the tests make themselves: the
// test apiserver runs no controllers and no kubelet.
const webDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %[1]s
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/web:1.0.0
`

// makePod creates a pod labelled app: <app> with one container of image
// and sets its status as a kubelet (or the scheduler) would report it.
func (f *fixture) makePod(t *testing.T, name, app, image string, st corev1.PodStatus) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
	if err := f.client.Create(t.Context(), pod); err != nil {
		t.Fatalf("create pod %s: %v", name, err)
	}
	pod.Status = st
	if err := f.client.Status().Update(t.Context(), pod); err != nil {
		t.Fatalf("set the status of pod %s: %v", name, err)
	}
}

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "Back-off pulling image; token=s3cr3t"}}
}

func unschedulable(message string) corev1.PodStatus {
	return corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: message}}}
}

// TestHealthExplainsWhyAWorkloadIsNotHealthy applies a Deployment whose
// pods (found by its selector) are in the states a kubelet or the
// scheduler reports, and reads why it is not healthy, within the target's
// health timeout.
func TestHealthExplainsWhyAWorkloadIsNotHealthy(t *testing.T) {
	tests := []struct {
		name   string
		pods   func(t *testing.T, f *fixture)
		reason HealthReason
		want   []string // in the detail
		hidden []string // never in the detail
	}{
		{
			name: "image pull error",
			pods: func(t *testing.T, f *fixture) {
				f.makePod(t, "web-1", "web", "ghcr.io/acme/web:nope", corev1.PodStatus{Phase: corev1.PodPending,
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "ghcr.io/acme/web:nope", State: waiting("ImagePullBackOff")}}})
			},
			reason: ImagePullError,
			want:   []string{"container app", "ghcr.io/acme/web:nope", "ImagePullBackOff"},
			hidden: []string{"s3cr3t"},
		},
		{
			name: "crash loop",
			pods: func(t *testing.T, f *fixture) {
				f.makePod(t, "web-1", "web", "ghcr.io/acme/web:1.0.0", corev1.PodStatus{Phase: corev1.PodRunning,
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "ghcr.io/acme/web:1.0.0", RestartCount: 6,
						State: waiting("CrashLoopBackOff"),
						LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
							ExitCode: 137, Reason: "OOMKilled", Message: "DATABASE_PASSWORD=hunter2"}}}}})
			},
			reason: CrashLoop,
			want:   []string{"container app", "CrashLoopBackOff", "6 restarts", "last exit code 137", "OOMKilled"},
			hidden: []string{"hunter2", "DATABASE_PASSWORD"},
		},
		{
			name: "unschedulable",
			pods: func(t *testing.T, f *fixture) {
				f.makePod(t, "web-1", "web", "ghcr.io/acme/web:1.0.0", unschedulable("0/3 nodes are available: 3 Insufficient cpu."))
			},
			reason: Unschedulable,
			want:   []string{"pod web-1 cannot be scheduled", "0/3 nodes are available: 3 Insufficient cpu."},
		},
		{
			name: "image pull wins over the rest",
			pods: func(t *testing.T, f *fixture) {
				f.makePod(t, "web-1", "web", "ghcr.io/acme/web:1.0.0", unschedulable("0/3 nodes are available: 3 Insufficient memory."))
				f.makePod(t, "web-2", "web", "ghcr.io/acme/web:typo", corev1.PodStatus{Phase: corev1.PodPending,
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: waiting("ErrImagePull")}}})
			},
			reason: ImagePullError,
			want:   []string{"ghcr.io/acme/web:typo", "ErrImagePull"},
		},
		{
			name: "other pods of the namespace are not the workload's",
			pods: func(t *testing.T, f *fixture) {
				f.makePod(t, "api-1", "api", "ghcr.io/acme/api:nope", corev1.PodStatus{Phase: corev1.PodPending,
					ContainerStatuses: []corev1.ContainerStatus{{Name: "app", State: waiting("ErrImagePull")}}})
			},
			reason: NotHealthy,
			want:   []string{"status InProgress: Replicas: 0/1"},
			hidden: []string{"api:nope"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.target.HealthTimeout = time.Second
			tt.pods(t, f)
			r := f.reconciler(t)
			start := time.Now()
			res := mustApply(t, r, objects(t, f.ns, webDeployment), "rev1")
			if took := time.Since(start); took > f.target.HealthTimeout+diagnoseTimeout {
				t.Errorf("apply with a %s health timeout took %s", f.target.HealthTimeout, took)
			}
			if res.Healthy() || !res.HealthTimedOut {
				t.Fatalf("healthy %v, timed out %v; want unhealthy after the timeout", res.Healthy(), res.HealthTimedOut)
			}
			bad := res.UnhealthyObjects()
			if len(bad) != 1 || bad[0].ID.Kind != "Deployment" || bad[0].Unhealthy == nil {
				t.Fatalf("unhealthy objects: %+v; want the Deployment, explained", bad)
			}
			u := *bad[0].Unhealthy
			if u.Reason != tt.reason {
				t.Errorf("reason %q (%s), want %q", u.Reason, u.Detail, tt.reason)
			}
			for _, w := range tt.want {
				if !strings.Contains(u.Detail, w) {
					t.Errorf("detail %q does not say %q", u.Detail, w)
				}
			}
			for _, h := range tt.hidden {
				if strings.Contains(u.Detail, h) {
					t.Errorf("detail %q shows %q", u.Detail, h)
				}
			}
		})
	}
}

// TestHealthBoundsHostileText: what a pod's status says is written by
// whoever may write pod status; the detail is one line without control or
// format characters and bounded, whatever it holds.
func TestHealthBoundsHostileText(t *testing.T) {
	f := newFixture(t)
	f.target.HealthTimeout = 500 * time.Millisecond
	hostile := "<img src=x onerror=alert(1)>\n\n# Merged!\n[click](https://evil.example) @acme/admins \u202eevil\u200b " + strings.Repeat("A", 20000)
	f.makePod(t, "web-1", "web", "ghcr.io/acme/web:1.0.0", unschedulable(hostile))
	res := mustApply(t, f.reconciler(t), objects(t, f.ns, webDeployment), "rev1")
	bad := res.UnhealthyObjects()
	if len(bad) != 1 || bad[0].Unhealthy == nil || bad[0].Unhealthy.Reason != Unschedulable {
		t.Fatalf("unhealthy objects: %+v", bad)
	}
	d := bad[0].Unhealthy.Detail
	if n := len([]rune(d)); n > MaxHealthDetail {
		t.Errorf("detail has %d characters, want at most %d", n, MaxHealthDetail)
	}
	if !strings.HasSuffix(d, "…") {
		t.Errorf("a cut detail does not say so: %q", d)
	}
	for _, r := range d {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Errorf("detail holds control or format character %U: %q", r, d)
		}
	}
}

// TestHealthOfObjectsWithoutPods: an object that is not Current and has
// no pods to explain it gets kstatus's message.
func TestHealthOfObjectsWithoutPods(t *testing.T) {
	f := newFixture(t)
	f.target.HealthTimeout = 500 * time.Millisecond
	res := mustApply(t, f.reconciler(t), objects(t, f.ns, basicObjects), "rev1")
	bad := res.UnhealthyObjects()
	if len(bad) != 1 || bad[0].ID.Kind != "Deployment" || bad[0].Unhealthy == nil {
		t.Fatalf("unhealthy objects: %+v; want the Deployment", bad)
	}
	if u := bad[0].Unhealthy; u.Reason != NotHealthy || u.Detail == "" {
		t.Errorf("unhealthy = %+v; want not healthy with kstatus's message", u)
	}
	for _, o := range res.Objects {
		if o.Status == "Current" && o.Unhealthy != nil {
			t.Errorf("%s is Current but explained as unhealthy: %+v", o.ID, o.Unhealthy)
		}
	}
}

func TestPodProblemRanks(t *testing.T) {
	crash := corev1.ContainerStatus{Name: "app", State: waiting("CrashLoopBackOff")}
	pull := corev1.ContainerStatus{Name: "side", State: waiting("InvalidImageName")}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "a:1"}, {Name: "side", Image: "b:UPPER"}}},
		Status:     corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{crash, pull}},
	}
	u, rank := podProblem(pod)
	if rank != rankImagePull || u.Reason != ImagePullError || !strings.Contains(u.Detail, "b:UPPER") {
		t.Errorf("podProblem = %+v, %d; want the image pull error of b:UPPER", u, rank)
	}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{crash}
	if u, _ := podProblem(pod); u.Reason != CrashLoop || strings.Contains(u.Detail, "exit code") {
		t.Errorf("podProblem = %+v; want a crash loop without an exit code it does not know", u)
	}
	pod.Status.ContainerStatuses = nil
	if _, rank := podProblem(pod); rank != 0 {
		t.Errorf("a pod without problems ranks %d", rank)
	}
}
