package policy

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitvend/gitvend/internal/config"
)

// want is one expected violation: the object, the marker of its line in
// the case's YAML and the message.
type want struct {
	id      [4]string // apiVersion, kind, namespace, name
	marker  string
	message string
}

// TestPolicies runs every built-in policy through the engine on real YAML
// and checks the violations of that policy: object, file, line, severity
// and message.
func TestPolicies(t *testing.T) {
	deploy := [4]string{"apps/v1", "Deployment", "team-a", "web"}
	tests := []struct {
		name     string
		policy   string
		severity string
		ctx      *Context
		settings *config.Policy
		yaml     string
		want     []want
	}{
		{
			name: "compliant objects pass every policy", policy: "",
			yaml: compliantDeployment + `---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: team-a
  labels: {app.kubernetes.io/name: web, gitvend.dev/owner: payments}
spec:
  selector: {app.kubernetes.io/name: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
  namespace: team-a
  labels: {app.kubernetes.io/name: report, gitvend.dev/owner: payments}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          securityContext: {runAsNonRoot: true, runAsUser: 10001}
          containers:
            - name: report
              image: ghcr.io/acme/report@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
              securityContext:
                allowPrivilegeEscalation: false
                readOnlyRootFilesystem: true
                capabilities: {drop: ["ALL"], add: ["NET_BIND_SERVICE"]}
              resources:
                requests: {cpu: 50m, memory: 64Mi}
                limits: {memory: 128Mi}
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels: {app.kubernetes.io/name: team-a, gitvend.dev/owner: payments}
`,
		},
		{
			name: "privileged init container", policy: "privileged-container", severity: "deny",
			yaml: `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: team-a
spec:
  initContainers:
    - name: setup
      image: busybox:1.36
      securityContext:
        privileged: true #@priv
  containers:
    - name: app
      image: ghcr.io/acme/web:1.4.2
      securityContext:
        privileged: false
`,
			want: []want{{[4]string{"v1", "Pod", "team-a", "web"}, "priv", "init container setup sets securityContext.privileged: true; remove it or set it to false"}},
		},
		{
			name: "privilege escalation unset and allowed", policy: "privilege-escalation", severity: "deny",
			yaml: `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: team-a
spec:
  template:
    spec:
      containers:
        - name: db #@db
          image: postgres:16.4
        - name: exporter
          image: ghcr.io/acme/exporter:1.0
          securityContext:
            allowPrivilegeEscalation: true #@exporter
`,
			want: []want{
				{[4]string{"apps/v1", "StatefulSet", "team-a", "db"}, "db", "container db does not set securityContext.allowPrivilegeEscalation: false; add it to the container's securityContext"},
				{[4]string{"apps/v1", "StatefulSet", "team-a", "db"}, "exporter", "container exporter sets securityContext.allowPrivilegeEscalation: true; set it to false"},
			},
		},
		{
			name: "host network", policy: "host-namespaces", severity: "deny",
			yaml: `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: team-a
spec:
  template:
    spec:
      hostNetwork: true #@net
      hostPID: false
      containers:
        - name: agent
          image: ghcr.io/acme/agent:3.1
`,
			want: []want{{[4]string{"apps/v1", "DaemonSet", "team-a", "agent"}, "net", "pod spec sets hostNetwork: true, which shares the node's network namespace with the pod; remove it or set it to false"}},
		},
		{
			name: "host path volume", policy: "host-path", severity: "deny",
			yaml: `apiVersion: batch/v1
kind: Job
metadata:
  name: backup
  namespace: team-a
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: backup
          image: ghcr.io/acme/backup:2.0
      volumes:
        - name: scratch
          emptyDir: {}
        - name: logs
          hostPath: #@logs
            path: /var/log
`,
			want: []want{{[4]string{"batch/v1", "Job", "team-a", "backup"}, "logs", "volume logs mounts hostPath /var/log, a directory of the node; use a persistentVolumeClaim, configMap, secret or emptyDir volume instead"}},
		},
		{
			name: "root user and missing runAsNonRoot", policy: "run-as-non-root", severity: "deny",
			yaml: `apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
  namespace: team-a
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          securityContext:
            runAsUser: 0 #@podroot
          containers:
            - name: report #@report
              image: ghcr.io/acme/report:2.0
            - name: sidecar
              image: ghcr.io/acme/sidecar:1.0
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
`,
			want: []want{
				{[4]string{"batch/v1", "CronJob", "team-a", "report"}, "podroot", "pod securityContext sets runAsUser: 0 (root), which container report inherits; use a non-zero user id"},
				{[4]string{"batch/v1", "CronJob", "team-a", "report"}, "report", "container report may run as root: set securityContext.runAsNonRoot: true on the container or the pod"},
			},
		},
		{
			name: "capabilities not dropped and one added", policy: "capabilities", severity: "deny",
			yaml: `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: proxy
  namespace: team-a
spec:
  template:
    spec:
      containers:
        - name: proxy
          image: ghcr.io/acme/proxy:1.0
          securityContext:
            capabilities: #@caps
              add:
                - NET_BIND_SERVICE
                - NET_ADMIN #@add
        - name: app #@app
          image: ghcr.io/acme/app:1.0
`,
			want: []want{
				{[4]string{"apps/v1", "ReplicaSet", "team-a", "proxy"}, "caps", "container proxy does not drop all capabilities; set securityContext.capabilities.drop: [\"ALL\"]"},
				{[4]string{"apps/v1", "ReplicaSet", "team-a", "proxy"}, "add", "container proxy adds capability NET_ADMIN; only NET_BIND_SERVICE may be added"},
				{[4]string{"apps/v1", "ReplicaSet", "team-a", "proxy"}, "app", "container app does not drop all capabilities; set securityContext.capabilities.drop: [\"ALL\"]"},
			},
		},
		{
			name: "latest and untagged images", policy: "image-latest-tag", severity: "deny",
			yaml: `apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
  namespace: team-a
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/legacy:latest #@latest
        - name: cache
          image: redis #@untagged
        - name: pinned
          image: redis:7.2
`,
			want: []want{
				{[4]string{"v1", "ReplicationController", "team-a", "legacy"}, "latest", "container app uses image ghcr.io/acme/legacy:latest; pin a version tag other than latest, or a digest (@sha256:...)"},
				{[4]string{"v1", "ReplicationController", "team-a", "legacy"}, "untagged", "container cache uses image redis without a tag, which means :latest; pin a version tag or a digest (@sha256:...)"},
			},
		},
		{
			name: "missing requests and memory limit", policy: "resource-limits", severity: "deny",
			yaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/web:1.4.2
          resources: #@resources
            requests: #@requests
              cpu: 100m
`,
			want: []want{
				{deploy, "requests", "container app does not set resources.requests.memory; set a memory request such as 128Mi"},
				{deploy, "resources", "container app does not set resources.limits.memory; set a memory limit such as 256Mi, at least the memory request"},
			},
		},
		{
			name: "probes missing", policy: "probes", severity: "warn",
			yaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
spec:
  template:
    spec:
      containers:
        - name: app #@app
          image: ghcr.io/acme/web:1.4.2
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
`,
			want: []want{{deploy, "app", "container app has no livenessProbe; add one so that it is restarted when it hangs"}},
		},
		{
			name: "writable root filesystem", policy: "read-only-root-filesystem", severity: "warn",
			yaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/web:1.4.2
          securityContext:
            readOnlyRootFilesystem: false #@ro
`,
			want: []want{{deploy, "ro", "container app sets securityContext.readOnlyRootFilesystem: false; set it to true and mount an emptyDir where the program must write"}},
		},
		{
			name: "load balancer service", policy: "loadbalancer-service", severity: "warn",
			yaml: `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: team-a
spec:
  type: LoadBalancer #@lb
  ports: [{port: 443}]
`,
			want: []want{{[4]string{"v1", "Service", "team-a", "web"}, "lb", "Service has type LoadBalancer, which provisions a billed load balancer reachable from outside the cluster; use type ClusterIP behind an Ingress, or add an exception that says why"}},
		},
		{
			name: "missing labels", policy: "required-labels", severity: "deny",
			yaml: `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team-a
  labels: #@labels
    app.kubernetes.io/name: settings
data:
  mode: production
---
apiVersion: v1
kind: Secret
metadata: #@secret
  name: token
  namespace: team-a
`,
			want: []want{
				{[4]string{"v1", "ConfigMap", "team-a", "settings"}, "labels", "missing label gitvend.dev/owner; add it under metadata.labels with a non-empty value"},
				{[4]string{"v1", "Secret", "team-a", "token"}, "secret", "missing label app.kubernetes.io/name; add it under metadata.labels with a non-empty value"},
				{[4]string{"v1", "Secret", "team-a", "token"}, "secret", "missing label gitvend.dev/owner; add it under metadata.labels with a non-empty value"},
			},
		},
		{
			name: "objects outside the request's namespace", policy: "namespace-boundary", severity: "deny",
			yaml: `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: kube-system #@ns
---
apiVersion: v1
kind: Secret
metadata: #@nons
  name: token
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole #@kind
metadata:
  name: reader
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
`,
			want: []want{
				{[4]string{"v1", "ConfigMap", "kube-system", "settings"}, "ns", "ConfigMap is in namespace kube-system, but its request targets namespace team-a; move it to team-a"},
				{[4]string{"v1", "Secret", "", "token"}, "nons", "Secret has no metadata.namespace; set it to team-a"},
				{[4]string{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader"}, "kind", "ClusterRole.rbac.authorization.k8s.io is cluster-scoped and shared by every tenant; none are allowed (policy.clusterScopedKinds in gitvend.yaml)"},
			},
		},
		{
			name: "hand-written object outside the owner's namespaces", policy: "namespace-boundary", severity: "deny",
			ctx: &Context{Environment: "dev", Owner: "payments", AllowedNamespaces: []string{"team-a", "payments-*"}},
			yaml: `apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: payments-staging
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
  namespace: team-b #@b
`,
			want: []want{{[4]string{"v1", "ConfigMap", "team-b", "b"}, "b", "ConfigMap is in namespace team-b, which team payments may not use; move it to one of team-a, payments-*"}},
		},
		{
			name: "YAML 1.1 booleans read as kubectl reads them", policy: "host-namespaces", severity: "deny",
			yaml: `apiVersion: v1
kind: Pod
metadata:
  name: agent
  namespace: team-a
spec:
  hostNetwork: yes #@net
  hostPID: "yes"
  hostIPC: off
  containers:
    - name: agent
      image: ghcr.io/acme/agent:3.1
`,
			want: []want{{[4]string{"v1", "Pod", "team-a", "agent"}, "net", "pod spec sets hostNetwork: true, which shares the node's network namespace with the pod; remove it or set it to false"}},
		},
		{
			name: "cluster-admin for every authenticated user", policy: "rbac", severity: "deny",
			yaml: `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: everyone
  namespace: team-a
  labels: {gitvend.dev/owner: platform}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin #@role
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: Group
    name: system:authenticated #@group
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: all
  namespace: team-a
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: ["*"] #@verbs
`,
			want: []want{
				{[4]string{"rbac.authorization.k8s.io/v1", "RoleBinding", "team-a", "everyone"}, "role", "RoleBinding grants ClusterRole cluster-admin in its namespace, including the right to change the namespace's RBAC; bind a Role of the namespace that lists what is needed"},
				{[4]string{"rbac.authorization.k8s.io/v1", "RoleBinding", "team-a", "everyone"}, "group", "RoleBinding grants its role to group system:authenticated, which is every authenticated user of the cluster; bind the team's own group instead"},
				{[4]string{"rbac.authorization.k8s.io/v1", "Role", "team-a", "all"}, "verbs", "Role rules[0] uses \"*\" in verbs, which also matches every verb Kubernetes adds later; list the verbs it needs"},
			},
		},
		{
			name: "owner from the path, not the label", policy: "namespace-boundary", severity: "deny",
			yaml: `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team-a
  labels:
    gitvend.dev/owner: platform #@label
`,
			want: []want{{[4]string{"v1", "ConfigMap", "team-a", "settings"}, "label", "ConfigMap is labelled gitvend.dev/owner: platform, but it belongs to team payments (the owner of request web); set the label to payments"}},
		},
		{
			name: "images from other registries", policy: "allowed-registries", severity: "deny",
			settings: &config.Policy{Policies: map[string]config.PolicySetting{
				"allowed-registries": {Params: map[string]any{"registries": []any{"ghcr.io/acme/", "docker.io/library/"}}},
			}},
			yaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: quay.io/someone/migrate:1.0 #@quay
      containers:
        - name: app
          image: ghcr.io/acme/web:1.4.2
        - name: cache
          image: redis:7.2
        - name: metrics
          image: prom/statsd-exporter:v0.26.0 #@hub
`,
			want: []want{
				{deploy, "quay", "init container migrate uses image quay.io/someone/migrate:1.0 from a registry that is not allowed; use an image under one of: ghcr.io/acme/, docker.io/library/"},
				{deploy, "hub", "container metrics uses image prom/statsd-exporter:v0.26.0 from a registry that is not allowed; use an image under one of: ghcr.io/acme/, docker.io/library/"},
			},
		},
		{
			name: "too many replicas", policy: "replica-limits", severity: "deny",
			yaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
spec:
  replicas: 30 #@replicas
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: team-a
spec:
  minReplicas: 2
  maxReplicas: 100 #@max
`,
			want: []want{
				{deploy, "replicas", "spec.replicas is 30, above the limit of 20; lower it or ask for a higher limit"},
				{[4]string{"autoscaling/v2", "HorizontalPodAutoscaler", "team-a", "web"}, "max", "spec.maxReplicas is 100, above the limit of 20; lower it or ask for a higher limit"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := engine(t)
			if tt.settings != nil {
				var err error
				if e, err = New(context.Background(), Options{Settings: *tt.settings}); err != nil {
					t.Fatalf("New: %v", err)
				}
			}
			ctx := requestContext
			if tt.ctx != nil {
				ctx = *tt.ctx
			}
			in := Input{Subjects: subjects(decode(t, tt.yaml), ctx)}
			res, err := e.Evaluate(context.Background(), in)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			// Remembered findings of subject-local policies equal the
			// evaluation of every policy on the whole input.
			opts := Options{wholeOnly: true}
			if tt.settings != nil {
				opts.Settings = *tt.settings
			}
			whole, err := New(context.Background(), opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			full, err := whole.Evaluate(context.Background(), in)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if diff := cmp.Diff(full, res); diff != "" {
				t.Errorf("incremental differs from whole evaluation (-whole +incremental):\n%s", diff)
			}
			got := res.Violations
			if tt.policy != "" {
				got = only(got, tt.policy)
			}
			wantList := []Violation{}
			for _, w := range tt.want {
				wantList = append(wantList, Violation{
					Policy: tt.policy, Severity: tt.severity, ID: id(w.id[0], w.id[1], w.id[2], w.id[3]),
					File: testFile, Line: lineOf(t, tt.yaml, w.marker), Message: w.message,
				})
			}
			sortViolations(wantList)
			if diff := cmp.Diff(wantList, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s\ngot:\n%s", diff, describeViolations(got))
			}
		})
	}
}
