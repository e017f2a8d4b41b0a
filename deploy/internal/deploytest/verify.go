package deploytest

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitvend/gitvend/internal/manifest"
)

// Namespace is the namespace an installation lives in.
const Namespace = "gitvend-system"

// Paths the server image and its configuration agree on.
const (
	ConfigPath = "/etc/gitvend/config.yaml"
	WorkDir    = "/var/lib/gitvend"
)

// Container ports: the public listener (the webhook, exposed to GitHub)
// and the ops listener (metrics and the status page, never exposed to it).
const (
	HTTPPort = 8080
	OpsPort  = 9090
)

// Want names the optional parts an installation has.
type Want struct {
	// Namespace: the installation creates its namespace itself.
	Namespace bool
	// ServiceMonitor: the installation has a ServiceMonitor, and the
	// Service on the ops port it scrapes.
	ServiceMonitor bool
	// MetricsService: the installation has the Service on the ops port
	// without a ServiceMonitor too.
	MetricsService bool
	// Replicas of the Deployment; 0 means 2.
	Replicas int32
	// NoPDB: the installation has no PodDisruptionBudget (one replica, or
	// turned off).
	NoPDB bool
	// HTTPPort and OpsPort are the container ports the listeners use; 0
	// means the defaults.
	HTTPPort, OpsPort int32
	// Ingress: an Ingress routes to the public Service.
	Ingress bool
	// NetworkPolicy: a NetworkPolicy admits the ops port to named peers
	// alone.
	NetworkPolicy bool
	// PrometheusRule: the installation has a PrometheusRule.
	PrometheusRule bool
	// Dashboard: a ConfigMap holds a Grafana dashboard.
	Dashboard bool
}

func (w Want) replicas() int32 { return cmp.Or(w.Replicas, 2) }
func (w Want) httpPort() int32 { return cmp.Or(w.HTTPPort, HTTPPort) }
func (w Want) opsPort() int32  { return cmp.Or(w.OpsPort, OpsPort) }

// Verify holds the objects of one installation against what the
// deployment documentation promises, reporting every problem through t.
func Verify(t testing.TB, objs []manifest.Object, want Want) {
	t.Helper()
	byKind := map[string][]manifest.Object{}
	for _, o := range objs {
		byKind[o.Kind] = append(byKind[o.Kind], o)
		if namespaced, _ := manifest.Scope(o.ID); namespaced && o.Namespace != Namespace {
			t.Errorf("%s is in namespace %q, want %s", o.ID, o.Namespace, Namespace)
		}
	}
	metricsService := want.ServiceMonitor || want.MetricsService
	count := map[string]int{
		"Deployment": 1, "Service": 1 + boolCount(metricsService), "ServiceAccount": 1,
		"PodDisruptionBudget": 1 - boolCount(want.NoPDB), "ConfigMap": 1 + boolCount(want.Dashboard),
		"Role": 1, "RoleBinding": 1, "ClusterRole": 1, "ClusterRoleBinding": 1, "Secret": 0,
		"Namespace": boolCount(want.Namespace), "ServiceMonitor": boolCount(want.ServiceMonitor),
		"Ingress": boolCount(want.Ingress), "NetworkPolicy": boolCount(want.NetworkPolicy),
		"PrometheusRule": boolCount(want.PrometheusRule),
	}
	for kind, n := range count {
		if got := len(byKind[kind]); got != n {
			t.Errorf("%d objects of kind %s, want %d", got, kind, n)
		}
	}
	for kind := range byKind {
		if _, ok := count[kind]; !ok {
			t.Errorf("unexpected kind %s", kind)
		}
	}
	if t.Failed() {
		return
	}
	var (
		dep      appsv1.Deployment
		svc, ops corev1.Service
		sa       corev1.ServiceAccount
		cm       corev1.ConfigMap
		pdb      policyv1.PodDisruptionBudget
	)
	convert(t, byKind["Deployment"][0], &dep)
	for _, o := range byKind["Service"] {
		var s corev1.Service
		convert(t, o, &s)
		if targetsPort(&s, "ops") {
			ops = s
		} else {
			svc = s
		}
	}
	convert(t, byKind["ServiceAccount"][0], &sa)
	for _, o := range byKind["ConfigMap"] {
		var c corev1.ConfigMap
		convert(t, o, &c)
		if _, ok := c.Data["config.yaml"]; ok || cm.Name == "" {
			cm = c
		}
		if c.Labels["grafana_dashboard"] == "1" {
			verifyDashboard(t, &c)
		}
	}

	pods := labels.Set(dep.Spec.Template.Labels)
	verifyDeployment(t, &dep, sa.Name, cm.Name, want)
	if !selects(dep.Spec.Selector.MatchLabels, pods) {
		t.Errorf("Deployment selector %v does not select its pods %v", dep.Spec.Selector.MatchLabels, pods)
	}
	if data, ok := cm.Data["config.yaml"]; !ok {
		t.Errorf("ConfigMap %s has no config.yaml", cm.Name)
	} else {
		verifyListeners(t, data, want)
	}
	verifyService(t, &svc, pods)
	if !want.NoPDB {
		convert(t, byKind["PodDisruptionBudget"][0], &pdb)
		verifyPDB(t, &pdb, pods, want.replicas())
	}
	verifyRBAC(t, byKind, sa.Name)
	if want.Namespace {
		var ns corev1.Namespace
		convert(t, byKind["Namespace"][0], &ns)
		if ns.Name != Namespace || ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("Namespace %s with labels %v, want %s enforcing the restricted Pod Security Standard", ns.Name, ns.Labels, Namespace)
		}
	}
	if metricsService {
		verifyMetricsService(t, &ops, &svc, pods)
	}
	if want.ServiceMonitor {
		verifyServiceMonitor(t, byKind["ServiceMonitor"][0], &ops, &svc)
	}
	if want.Ingress {
		verifyIngress(t, byKind["Ingress"][0], &svc, &ops)
	}
	if want.NetworkPolicy {
		verifyNetworkPolicy(t, byKind["NetworkPolicy"][0], pods)
	}
}

func boolCount(b bool) int {
	if b {
		return 1
	}
	return 0
}

// convert decodes an object into its typed form, rejecting unknown fields.
func convert(t testing.TB, o manifest.Object, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Content, into, true); err != nil {
		t.Fatalf("%s: %v", o.ID, err)
	}
}

// selects tells whether a non-empty selector matches set.
func selects(selector map[string]string, set labels.Set) bool {
	return len(selector) > 0 && labels.SelectorFromSet(selector).Matches(set)
}

func verifyDeployment(t testing.TB, dep *appsv1.Deployment, serviceAccount, configMap string, want Want) {
	t.Helper()
	spec := dep.Spec.Template.Spec
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != want.replicas() {
		t.Errorf("Deployment replicas = %v, want %d", dep.Spec.Replicas, want.replicas())
	}
	if spec.ServiceAccountName != serviceAccount {
		t.Errorf("pods run as ServiceAccount %q, want %q", spec.ServiceAccountName, serviceAccount)
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v, want runAsNonRoot and the RuntimeDefault seccomp profile", psc)
	}
	if !spreadsAcrossNodes(&spec) {
		t.Error("pods are neither spread across nodes (topologySpreadConstraints on kubernetes.io/hostname) nor kept apart (podAntiAffinity)")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	verifyContainer(t, &c, want)

	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	var config, secret, work bool
	for _, v := range spec.Volumes {
		m, mounted := mounts[v.Name]
		switch {
		case v.ConfigMap != nil && v.ConfigMap.Name == configMap:
			config = mounted && m.MountPath == ConfigPath && m.SubPath == "config.yaml"
		case v.Secret != nil:
			secret = mounted && m.ReadOnly && v.Secret.SecretName != ""
		case v.EmptyDir != nil && mounted && m.MountPath == WorkDir:
			work = true
		}
	}
	if !config {
		t.Errorf("ConfigMap %s is not mounted at %s", configMap, ConfigPath)
	}
	if !secret {
		t.Error("the GitHub credentials are not mounted read-only from a Secret")
	}
	if !work {
		t.Errorf("no emptyDir mounted at the work directory %s", WorkDir)
	}
}

// spreadsAcrossNodes tells whether the pod spec asks the scheduler to put
// replicas on different nodes.
func spreadsAcrossNodes(spec *corev1.PodSpec) bool {
	for _, c := range spec.TopologySpreadConstraints {
		if c.TopologyKey == corev1.LabelHostname {
			return true
		}
	}
	if a := spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, term := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			if term.PodAffinityTerm.TopologyKey == corev1.LabelHostname {
				return true
			}
		}
		for _, term := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			if term.TopologyKey == corev1.LabelHostname {
				return true
			}
		}
	}
	return false
}

func verifyContainer(t testing.TB, c *corev1.Container, want Want) {
	t.Helper()
	if want := []string{"serve", "--config", ConfigPath}; !slices.Equal(c.Args, want) {
		t.Errorf("container args %q, want %q", c.Args, want)
	}
	if _, tag, ok := strings.Cut(c.Image[strings.LastIndex(c.Image, "/")+1:], ":"); !ok || tag == "" || tag == "latest" {
		t.Errorf("image %q is not pinned to a version tag", c.Image)
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Error("container has no securityContext")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation,
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem,
		sc.Privileged != nil && *sc.Privileged,
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0:
		t.Errorf("container securityContext %+v, want no privilege escalation, a read-only root filesystem and ALL capabilities dropped", sc)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("container requests no %s", r)
		}
		if _, ok := c.Resources.Limits[r]; !ok {
			t.Errorf("container has no %s limit", r)
		}
	}
	ports := map[int32]string{}
	for _, p := range c.Ports {
		ports[p.ContainerPort] = p.Name
	}
	if d := gocmp.Diff(map[int32]string{want.httpPort(): "http", want.opsPort(): "ops"}, ports); d != "" {
		t.Errorf("container ports (-want +got):\n%s", d)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe %+v, want an HTTP GET of %s on port http", p.name, p.probe, p.path)
		}
	}
}

// verifyListeners holds the server configuration's listen addresses
// against the container ports: the webhook on http, metrics and the status
// page on ops, reachable from outside the pod (by Prometheus and the
// kubelet).
func verifyListeners(t testing.TB, data string, want Want) {
	t.Helper()
	var cfg struct {
		Listen    string `yaml:"listen"`
		OpsListen string `yaml:"opsListen"`
	}
	if err := yaml.Unmarshal([]byte(data), &cfg); err != nil {
		t.Errorf("config.yaml: %v", err)
		return
	}
	for _, l := range []struct {
		field, addr string
		port        int32
	}{{"listen", cfg.Listen, want.httpPort()}, {"opsListen", cfg.OpsListen, want.opsPort()}} {
		host, port, err := net.SplitHostPort(l.addr)
		if err != nil || port != strconv.Itoa(int(l.port)) || (host != "" && host != "0.0.0.0" && host != "::") {
			t.Errorf("config.yaml %s: %q, want \":%d\", the container port", l.field, l.addr, l.port)
		}
	}
}

// targetsPort tells whether a Service routes to the container port name.
func targetsPort(svc *corev1.Service, name string) bool {
	return slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.TargetPort.String() == name })
}

func verifyService(t testing.TB, svc *corev1.Service, pods labels.Set) {
	t.Helper()
	if svc.Spec.Type != "" && svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Service type %s, want ClusterIP", svc.Spec.Type)
	}
	if !selects(svc.Spec.Selector, pods) {
		t.Errorf("Service selector %v does not select gitvend's pods %v", svc.Spec.Selector, pods)
	}
	if len(svc.Spec.Ports) != 1 {
		t.Fatalf("Service has %d ports, want 1", len(svc.Spec.Ports))
	}
	if p := svc.Spec.Ports[0]; p.Name != "http" || p.Port != 80 || p.TargetPort.String() != "http" {
		t.Errorf("Service port %+v, want http: 80 to the container port named http", p)
	}
}

// verifyMetricsService checks the Service the ServiceMonitor scrapes: the
// ops port alone, and labels of its own, so that nothing selecting the
// public Service reaches the ops port.
func verifyMetricsService(t testing.TB, ops, public *corev1.Service, pods labels.Set) {
	t.Helper()
	if ops.Name == "" {
		t.Error("no Service routes to the container port ops")
		return
	}
	if ops.Spec.Type != "" && ops.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Service %s type %s, want ClusterIP", ops.Name, ops.Spec.Type)
	}
	if !selects(ops.Spec.Selector, pods) {
		t.Errorf("Service %s selector %v does not select gitvend's pods %v", ops.Name, ops.Spec.Selector, pods)
	}
	if len(ops.Spec.Ports) != 1 || ops.Spec.Ports[0].Name != "ops" || ops.Spec.Ports[0].TargetPort.String() != "ops" {
		t.Errorf("Service %s ports %+v, want one, ops to the container port named ops", ops.Name, ops.Spec.Ports)
	}
	if ops.Labels["app.kubernetes.io/component"] == public.Labels["app.kubernetes.io/component"] {
		t.Errorf("Service %s has the component label of the public Service %s", ops.Name, public.Name)
	}
}

func verifyServiceMonitor(t testing.TB, o manifest.Object, svc, public *corev1.Service) {
	t.Helper()
	selector, _ := manifest.Lookup(o.Content, "spec", "selector", "matchLabels")
	sel := map[string]string{}
	if m, ok := selector.(map[string]any); ok {
		for k, v := range m {
			sel[k] = fmt.Sprint(v)
		}
	}
	if !selects(sel, svc.Labels) {
		t.Errorf("ServiceMonitor selector %v does not select the metrics Service's labels %v", sel, svc.Labels)
	}
	if selects(sel, public.Labels) {
		t.Errorf("ServiceMonitor selector %v selects the public Service %s", sel, public.Name)
	}
	endpoints, _ := manifest.Lookup(o.Content, "spec", "endpoints")
	list, _ := endpoints.([]any)
	ok := false
	for _, e := range list {
		if m, _ := e.(map[string]any); m["port"] == "ops" && m["path"] == "/metrics" {
			ok = true
		}
	}
	if !ok {
		t.Errorf("ServiceMonitor endpoints %v, want /metrics on port ops", endpoints)
	}
}

// applyVerbs are the verbs applying, pruning, drift dry-runs and watches
// need; escalate and bind are allowed on Roles alone.
var applyVerbs = []string{"get", "list", "watch", "create", "patch", "delete"}

func verifyRBAC(t testing.TB, byKind map[string][]manifest.Object, serviceAccount string) {
	t.Helper()
	var (
		role  rbacv1.Role
		rb    rbacv1.RoleBinding
		cr    rbacv1.ClusterRole
		crb   rbacv1.ClusterRoleBinding
		subj  = rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: serviceAccount, Namespace: Namespace}
		lease bool
	)
	convert(t, byKind["Role"][0], &role)
	convert(t, byKind["RoleBinding"][0], &rb)
	convert(t, byKind["ClusterRole"][0], &cr)
	convert(t, byKind["ClusterRoleBinding"][0], &crb)
	for _, r := range role.Rules {
		noWildcards(t, "Role "+role.Name, r)
		if slices.Equal(r.APIGroups, []string{"coordination.k8s.io"}) && slices.Equal(r.Resources, []string{"leases"}) {
			lease = true
			if !slices.Equal(r.Verbs, []string{"get", "list", "watch", "create", "update"}) {
				t.Errorf("Role %s grants %v on Leases, want get, list, watch, create, update", role.Name, r.Verbs)
			}
		}
	}
	if !lease {
		t.Errorf("Role %s grants nothing on Leases", role.Name)
	}
	for _, r := range cr.Rules {
		noWildcards(t, "ClusterRole "+cr.Name, r)
		for _, v := range r.Verbs {
			if v == "escalate" || v == "bind" {
				if !slices.Equal(r.APIGroups, []string{rbacv1.GroupName}) || !slices.Equal(r.Resources, []string{"roles"}) {
					t.Errorf("ClusterRole %s grants %s on %v %v, want it on roles.rbac.authorization.k8s.io alone", cr.Name, v, r.APIGroups, r.Resources)
				}
			} else if !slices.Contains(applyVerbs, v) {
				t.Errorf("ClusterRole %s grants %s on %v, want only %v", cr.Name, v, r.Resources, applyVerbs)
			}
		}
	}
	if rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != role.Name || !slices.Contains(rb.Subjects, subj) {
		t.Errorf("RoleBinding %s binds %v to %v, want Role %s bound to %v", rb.Name, rb.RoleRef, rb.Subjects, role.Name, subj)
	}
	if crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != cr.Name || !slices.Contains(crb.Subjects, subj) {
		t.Errorf("ClusterRoleBinding %s binds %v to %v, want ClusterRole %s bound to %v", crb.Name, crb.RoleRef, crb.Subjects, cr.Name, subj)
	}
}

func noWildcards(t testing.TB, where string, r rbacv1.PolicyRule) {
	t.Helper()
	for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.ResourceNames} {
		if slices.Contains(list, "*") {
			t.Errorf("%s has a wildcard rule %+v", where, r)
		}
	}
}
