package cost

import (
	"testing"

	"github.com/gitvend/gitvend/internal/manifest"
)

func TestComputeWorkloads(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []ObjectCost
	}{
		{
			name: "deployment costs requests times replicas, not limits",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {gitvend.dev/owner: payments}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/web:1.0
        resources:
          requests: {cpu: 500m, memory: 1Gi}
          limits: {cpu: "2", memory: 2Gi}
`,
			want: []ObjectCost{{
				ID:    manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
				Owner: "payments",
				// 3 × (0.5 × 0.031611 + 1 × 0.004237) × 730 = 3 × 0.0200425 × 730 = 43.893075
				Monthly:  3 * (0.5*cpuHour + 1*ramHour) * month,
				Replicas: 3, CPU: 0.5, RAMGiB: 1,
			}},
		},
		{
			name: "quantities written as numbers",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: nums, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: 1, memory: 1073741824}}
      - name: b
        resources: {requests: {cpu: 0.5, memory: 1.5Gi}}
`,
			want: []ObjectCost{{
				ID: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "nums"},
				// replicas default to 1; 1.5 cores, 1 GiB + 1.5 GiB:
				// (1.5 × 0.031611 + 2.5 × 0.004237) × 730 = 0.0580090 × 730 = 42.346570
				Monthly:  (1.5*cpuHour + 2.5*ramHour) * month,
				Replicas: 1, CPU: 1.5, RAMGiB: 2.5,
			}},
		},
		{
			name: "init container larger than the app containers",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  initContainers:
  - name: setup
    resources: {requests: {cpu: "1", memory: 64Mi}}
  containers:
  - name: c1
    resources: {requests: {cpu: 100m, memory: 128Mi}}
  - name: c2
    resources: {requests: {cpu: 200m, memory: 256Mi}}
`,
			want: []ObjectCost{{
				ID: manifest.ID{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "p"},
				// cpu max(1, 0.1 + 0.2) = 1; memory max(64Mi, 384Mi) = 0.375 GiB:
				// (1 × 0.031611 + 0.375 × 0.004237) × 730 = 0.033199875 × 730 = 24.23590875
				Monthly:  (1*cpuHour + 0.375*ramHour) * month,
				Replicas: 1, CPU: 1, RAMGiB: 0.375,
			}},
		},
		{
			name: "sidecar init containers run beside the app",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: side, namespace: shop}
spec:
  initContainers:
  - name: proxy
    restartPolicy: Always
    resources: {requests: {cpu: 100m, memory: 100Mi}}
  - name: migrate
    resources: {requests: {cpu: 500m, memory: 1Gi}}
  containers:
  - name: app
    resources: {requests: {cpu: 200m, memory: 200Mi}}
`,
			want: []ObjectCost{{
				ID: manifest.ID{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "side"},
				// running: app + proxy = 300m, 300Mi; while migrating:
				// migrate + proxy = 600m, 1124Mi. Each resource's larger:
				// 0.6 cores, 1124/1024 = 1.09765625 GiB:
				// (0.6 × 0.031611 + 1.09765625 × 0.004237) × 730 = 17.240766...
				Monthly:  (0.6*cpuHour + 1.09765625*ramHour) * month,
				Replicas: 1, CPU: 0.6, RAMGiB: 1.09765625,
			}},
		},
		{
			name: "pod-level requests replace the containers and overhead adds",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: podlevel, namespace: shop}
spec:
  resources:
    requests: {cpu: "2", memory: 4Gi}
  overhead: {cpu: 250m, memory: 128Mi}
  containers:
  - name: app
  - name: helper
    resources: {requests: {cpu: "8"}}
`,
			want: []ObjectCost{{
				ID: manifest.ID{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "podlevel"},
				// 2 + 0.25 cores, 4 + 0.125 GiB:
				// (2.25 × 0.031611 + 4.125 × 0.004237) × 730 = 64.678...
				Monthly:  (2.25*cpuHour + 4.125*ramHour) * month,
				Replicas: 1, CPU: 2.25, RAMGiB: 4.125,
			}},
		},
		{
			name: "missing requests cost 0 and limits stand in for requests",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: loose, namespace: shop}
spec:
  containers:
  - name: a
    image: x
  - name: b
    resources:
      limits: {cpu: "1", memory: 512Mi}
`,
			want: []ObjectCost{{
				ID: manifest.ID{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "loose"},
				// only b counts, at its limits: (1 × 0.031611 + 0.5 × 0.004237) × 730
				Monthly:  (1*cpuHour + 0.5*ramHour) * month,
				Replicas: 1, CPU: 1, RAMGiB: 0.5,
				Notes: []string{
					`container "a" has no cpu request (spec.containers[0].resources.requests.cpu); costed at 0`,
					`container "a" has no memory request (spec.containers[0].resources.requests.memory); costed at 0`,
					`container "b" has no cpu request; costed at its limit, which Kubernetes uses as the request`,
					`container "b" has no memory request; costed at its limit, which Kubernetes uses as the request`,
				},
			}},
		},
		{
			name: "bad quantities and replicas are named and cost 0",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: shop}
spec:
  replicas: two
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: lots, memory: -1Gi}}
      - name: b
        resources: {requests: {cpu: true, memory: "1e999"}}
      - name: c
        resources: {requests: {cpu: 100m, memory: 1Gi}}
`,
			want: []ObjectCost{{
				ID: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "bad"},
				// only c counts, once: (0.1 × 0.031611 + 1 × 0.004237) × 730 = 5.3006...
				Monthly:  (0.1*cpuHour + 1*ramHour) * month,
				Replicas: 1, CPU: 0.1, RAMGiB: 1,
				Notes: []string{
					`spec.replicas: must be a whole number from 0 to 2147483647, got a string; counted as 1`,
					`spec.template.spec.containers[0].resources.requests.cpu: "lots" is not a valid quantity; use a number with an optional suffix such as 250m, 0.5, 512Mi or 1G; costed at 0`,
					`spec.template.spec.containers[0].resources.requests.memory: "-1Gi" must not be negative; costed at 0`,
					`spec.template.spec.containers[1].resources.requests.cpu: must be a quantity such as 250m, 0.5, 512Mi or 1G, got a boolean; costed at 0`,
					`spec.template.spec.containers[1].resources.requests.memory: "1e999" has an exponent out of range (from -99 to 99); costed at 0`,
				},
			}},
		},
		{
			name: "malformed structure gives notes, not a panic",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: odd, namespace: shop}
spec:
  containers: oops
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: empty, namespace: shop}
spec:
  replicas: 2.5
---
apiVersion: v1
kind: Pod
metadata: {name: odd2, namespace: shop}
spec:
  containers:
  - just-a-string
  - name: r
    resources: [1, 2]
`,
			want: []ObjectCost{
				{
					ID:       manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "empty"},
					Replicas: 1,
					Notes: []string{
						"spec.replicas: must be a whole number from 0 to 2147483647, got 2.5; counted as 1",
						"spec.template.spec: missing; the pod is costed at 0",
					},
				},
				{
					ID:       manifest.ID{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "odd"},
					Replicas: 1,
					Notes:    []string{"spec.containers: must be a list, got a string; ignored"},
				},
				{
					ID:       manifest.ID{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "odd2"},
					Replicas: 1,
					Notes: []string{
						"spec.containers[0]: must be a mapping, got a string; costed at 0",
						"spec.containers[1].resources: must be a mapping, got a list; ignored",
						`container "r" has no cpu request (spec.containers[1].resources.requests.cpu); costed at 0`,
						`container "r" has no memory request (spec.containers[1].resources.requests.memory); costed at 0`,
					},
				},
			},
		},
		{
			name: "statefulset claims count per replica in decimal GB",
			yaml: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: pg
        resources: {requests: {cpu: 250m, memory: 512Mi}}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      resources: {requests: {storage: 10G}}
  - metadata: {name: wal}
    spec:
      resources: {requests: {storage: 1Gi}}
`,
			want: []ObjectCost{{
				ID: manifest.ID{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "data", Name: "db"},
				// 10G + 1Gi = 10 + 1.073741824 = 11.073741824 GB per replica:
				// 2 × (0.25 × 0.031611 + 0.5 × 0.004237 + 11.073741824 × 0.00005479452) × 730 = 15.5276...
				Monthly:  2 * (0.25*cpuHour + 0.5*ramHour + 11.073741824*storageHour) * month,
				Replicas: 2, CPU: 0.25, RAMGiB: 0.5, StorageGB: 11.073741824,
			}},
		},
		{
			name: "daemonset counts as one pod and says so",
			yaml: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  template:
    spec:
      containers:
      - name: agent
        resources: {requests: {cpu: 100m, memory: 100Mi}}
`,
			want: []ObjectCost{{
				ID: manifest.ID{APIVersion: "apps/v1", Kind: "DaemonSet", Namespace: "ops", Name: "agent"},
				// (0.1 × 0.031611 + 100/1024 × 0.004237) × 730 = 2.609...
				Monthly:  (0.1*cpuHour + 0.09765625*ramHour) * month,
				Replicas: 1, CPU: 0.1, RAMGiB: 0.09765625,
				Notes: []string{"a DaemonSet runs one pod on every node it selects; costed as one pod"},
			}},
		},
		{
			name: "replicaset, replicationcontroller and zero replicas",
			yaml: `
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: shop}
spec:
  replicas: 4
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: "1", memory: 1Gi}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: "2", memory: 2Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: off, namespace: shop}
spec:
  replicas: 0
  template:
    spec:
      containers:
      - name: a
        resources: {requests: {cpu: "1", memory: 1Gi}}
`,
			want: []ObjectCost{
				{
					ID:     manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "off"},
					CPU:    1,
					RAMGiB: 1,
				},
				{
					ID: manifest.ID{APIVersion: "apps/v1", Kind: "ReplicaSet", Namespace: "shop", Name: "rs"},
					// 4 × (1 × 0.031611 + 1 × 0.004237) × 730 = 4 × 0.035848 × 730 = 104.67616
					Monthly:  4 * (1*cpuHour + 1*ramHour) * month,
					Replicas: 4, CPU: 1, RAMGiB: 1,
				},
				{
					ID: manifest.ID{APIVersion: "v1", Kind: "ReplicationController", Namespace: "shop", Name: "rc"},
					// replicas default to 1: (2 × 0.031611 + 2 × 0.004237) × 730 = 52.33808
					Monthly:  (2*cpuHour + 2*ramHour) * month,
					Replicas: 1, CPU: 2, RAMGiB: 2,
				},
			},
		},
		{
			name: "jobs cost one run",
			yaml: `
apiVersion: batch/v1
kind: Job
metadata: {name: report, namespace: shop}
spec:
  parallelism: 4
  completions: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: r
        resources: {requests: {cpu: "1", memory: 2Gi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: short, namespace: shop}
spec:
  activeDeadlineSeconds: 1800
  template:
    spec:
      containers:
      - name: r
        resources: {requests: {cpu: "1", memory: 2Gi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: paused, namespace: shop}
spec:
  suspend: true
  template:
    spec:
      containers:
      - name: r
        resources: {requests: {cpu: "1", memory: 2Gi}}
`,
			want: []ObjectCost{
				{
					ID:       manifest.ID{APIVersion: "batch/v1", Kind: "Job", Namespace: "shop", Name: "paused"},
					Replicas: 1, CPU: 1, RAMGiB: 2,
					Notes: []string{"suspended (spec.suspend: true); costs nothing until resumed"},
				},
				{
					ID: manifest.ID{APIVersion: "batch/v1", Kind: "Job", Namespace: "shop", Name: "report"},
					// min(parallelism 4, completions 2) = 2 pods for 1 hour:
					// 2 × (1 × 0.031611 + 2 × 0.004237) × 1 = 0.08017
					Monthly:  2 * (1*cpuHour + 2*ramHour) * 1,
					Replicas: 2, CPU: 1, RAMGiB: 2,
					Notes: []string{"a Job runs once; costed as one run of 1 hour with 2 pod(s) at a time (assumed; spec.activeDeadlineSeconds would bound it)"},
				},
				{
					ID: manifest.ID{APIVersion: "batch/v1", Kind: "Job", Namespace: "shop", Name: "short"},
					// 1 pod for 1800 s = 0.5 h: 0.5 × 0.040085 = 0.0200425
					Monthly:  0.5 * (1*cpuHour + 2*ramHour),
					Replicas: 1, CPU: 1, RAMGiB: 2,
					Notes: []string{"a Job runs once; costed as one run of 0.5 hours with 1 pod(s) at a time (spec.activeDeadlineSeconds)"},
				},
			},
		},
		{
			name: "cronjobs cost their runs in an average month",
			yaml: `
apiVersion: batch/v1
kind: CronJob
metadata: {name: a-nightly, namespace: shop}
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: r
            resources: {requests: {cpu: 500m, memory: 1Gi}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: b-weekdays, namespace: shop}
spec:
  schedule: "0 9 * * MON-FRI"
  jobTemplate:
    spec:
      parallelism: 3
      activeDeadlineSeconds: 900
      template:
        spec:
          containers:
          - name: r
            resources: {requests: {cpu: 500m, memory: 1Gi}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: c-busy, namespace: shop}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: r
            resources: {requests: {cpu: 500m, memory: 1Gi}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: d-unreadable, namespace: shop}
spec:
  schedule: "every day"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: r
            resources: {requests: {cpu: 500m, memory: 1Gi}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: e-suspended, namespace: shop}
spec:
  schedule: "@hourly"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: r
            resources: {requests: {cpu: 500m, memory: 1Gi}}
`,
			want: []ObjectCost{
				{
					ID: manifest.ID{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "shop", Name: "a-nightly"},
					// one run a day: 10227 days / 336 months = 30.4375 runs of 1 hour:
					// 30.4375 × (0.5 × 0.031611 + 1 × 0.004237) = 30.4375 × 0.0200425 = 0.61004...
					Monthly:  30.4375 * (0.5*cpuHour + 1*ramHour),
					Replicas: 1, CPU: 0.5, RAMGiB: 1,
					Notes: []string{`schedule "0 2 * * *" runs about 30.4375 times a month; each run costed as 1 hour with 1 pod(s) at a time (assumed; spec.jobTemplate.spec.activeDeadlineSeconds would bound it)`},
				},
				{
					ID: manifest.ID{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "shop", Name: "b-weekdays"},
					// 10227 days are exactly 1461 weeks, so 5 × 1461 = 7305 weekdays
					// over 336 months = 21.7410714 runs of 900 s = 0.25 h with 3 pods:
					// 3 × 7305/336 × 0.25 × 0.0200425 = 0.32681...
					Monthly:  3 * 7305.0 / 336 * 0.25 * (0.5*cpuHour + 1*ramHour),
					Replicas: 3, CPU: 0.5, RAMGiB: 1,
					Notes: []string{`schedule "0 9 * * MON-FRI" runs about 21.7411 times a month; each run costed as 0.25 hours with 3 pod(s) at a time (spec.jobTemplate.spec.activeDeadlineSeconds)`},
				},
				{
					ID: manifest.ID{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "shop", Name: "c-busy"},
					// 288 runs a day of 1 hour are more than a month: 730 hours
					// × 0.0200425 = 14.631025
					Monthly:  month * (0.5*cpuHour + 1*ramHour),
					Replicas: 1, CPU: 0.5, RAMGiB: 1,
					Notes: []string{
						`schedule "*/5 * * * *" runs about 8766 times a month; each run costed as 1 hour with 1 pod(s) at a time (assumed; spec.jobTemplate.spec.activeDeadlineSeconds would bound it)`,
						"its runs add up to more than a month; costed as running all month",
					},
				},
				{
					ID:       manifest.ID{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "shop", Name: "d-unreadable"},
					Monthly:  month * (0.5*cpuHour + 1*ramHour),
					Replicas: 1, CPU: 0.5, RAMGiB: 1,
					Notes: []string{`spec.schedule "every day": must have 5 fields (minute hour day-of-month month day-of-week) or be a macro such as @daily, got 2 fields; costed as running all month`},
				},
				{
					ID:       manifest.ID{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "shop", Name: "e-suspended"},
					Replicas: 1, CPU: 0.5, RAMGiB: 1,
					Notes: []string{"suspended (spec.suspend: true); costs nothing until resumed"},
				},
			},
		},
		{
			name: "gpus from requests or limits of every vendor",
			yaml: `
apiVersion: v1
kind: Pod
metadata: {name: train, namespace: ml}
spec:
  containers:
  - name: a
    resources:
      requests: {cpu: "1", memory: 4Gi}
      limits: {nvidia.com/gpu: 1}
  - name: b
    resources:
      requests: {cpu: "1", memory: 4Gi, gpu.intel.com/i915: 2}
      limits: {gpu.intel.com/i915: 2, amd.com/gpu: "1"}
`,
			want: []ObjectCost{{
				ID: manifest.ID{APIVersion: "v1", Kind: "Pod", Namespace: "ml", Name: "train"},
				// 2 cores, 8 GiB, 1 + 2 + 1 GPUs:
				// (2 × 0.031611 + 8 × 0.004237 + 4 × 0.95) × 730 = 2820.90748
				Monthly:  (2*cpuHour + 8*ramHour + 4*gpuHour) * month,
				Replicas: 1, CPU: 2, RAMGiB: 8, GPU: 4,
			}},
		},
		{
			name: "spot capacity from a node selector or a required affinity",
			yaml: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: a-karpenter, namespace: shop}
spec:
  replicas: 2
  template:
    spec:
      nodeSelector: {karpenter.sh/capacity-type: spot}
      containers:
      - name: a
        resources: {requests: {cpu: "1", memory: 2Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b-eks, namespace: shop}
spec:
  template:
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: eks.amazonaws.com/capacityType, operator: In, values: [SPOT]}
      containers:
      - name: a
        resources: {requests: {cpu: "1", memory: 2Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: c-either, namespace: shop}
spec:
  template:
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: karpenter.sh/capacity-type, operator: In, values: [spot]}
            - matchExpressions:
              - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
      containers:
      - name: a
        resources: {requests: {cpu: "1", memory: 2Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: d-gke-gpu, namespace: shop}
spec:
  nodeSelector: {cloud.google.com/gke-spot: "true"}
  containers:
  - name: a
    resources:
      requests: {cpu: "1", memory: 1Gi}
      limits: {nvidia.com/gpu: 1}
`,
			want: []ObjectCost{
				{
					ID: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "a-karpenter"},
					// 2 × (1 × 0.006655 + 2 × 0.000892) × 730 = 12.32094
					Monthly:  2 * (1*spotCPUHour + 2*spotRAMHour) * month,
					Replicas: 2, CPU: 1, RAMGiB: 2,
					Notes: []string{"runs on spot capacity (nodeSelector karpenter.sh/capacity-type=spot); CPU and memory at spot prices"},
				},
				{
					ID: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "b-eks"},
					// (1 × 0.006655 + 2 × 0.000892) × 730 = 6.16047
					Monthly:  (1*spotCPUHour + 2*spotRAMHour) * month,
					Replicas: 1, CPU: 1, RAMGiB: 2,
					Notes: []string{"runs on spot capacity (required node affinity eks.amazonaws.com/capacityType In [SPOT]); CPU and memory at spot prices"},
				},
				{
					ID: manifest.ID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "c-either"},
					// may land on on-demand nodes: regular prices
					// (1 × 0.031611 + 2 × 0.004237) × 730 = 29.26233
					Monthly:  (1*cpuHour + 2*ramHour) * month,
					Replicas: 1, CPU: 1, RAMGiB: 2,
				},
				{
					ID: manifest.ID{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "d-gke-gpu"},
					// GPUs keep their price on spot nodes:
					// (1 × 0.006655 + 1 × 0.000892 + 1 × 0.95) × 730 = 699.00931
					Monthly:  (1*spotCPUHour + 1*spotRAMHour + 1*gpuHour) * month,
					Replicas: 1, CPU: 1, RAMGiB: 1, GPU: 1,
					Notes: []string{"runs on spot capacity (nodeSelector cloud.google.com/gke-spot=true); CPU and memory at spot prices"},
				},
			},
		},
		{
			name: "claims, ephemeral volumes and load balancers",
			yaml: `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: big, namespace: data}
spec:
  resources: {requests: {storage: 100G}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: binary, namespace: data}
spec:
  resources: {requests: {storage: 5Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: unsized, namespace: data}
spec:
  accessModes: [ReadWriteOnce]
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: data}
spec:
  type: LoadBalancer
---
apiVersion: v1
kind: Service
metadata: {name: internal, namespace: data}
spec:
  type: ClusterIP
---
apiVersion: v1
kind: Pod
metadata: {name: scratch, namespace: data}
spec:
  containers:
  - name: a
    resources: {requests: {cpu: "1", memory: 1Gi}}
  volumes:
  - name: tmp
    ephemeral:
      volumeClaimTemplate:
        spec:
          resources: {requests: {storage: 20G}}
`,
			want: []ObjectCost{
				{
					ID: manifest.ID{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: "data", Name: "big"},
					// 100 × 0.00005479452 × 730 = 3.99999996
					Monthly:   100 * storageHour * month,
					StorageGB: 100,
				},
				{
					ID: manifest.ID{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: "data", Name: "binary"},
					// 5Gi = 5.36870912 GB: × 0.00005479452 × 730 = 0.21475...
					Monthly:   5.36870912 * storageHour * month,
					StorageGB: 5.36870912,
				},
				{
					ID:    manifest.ID{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: "data", Name: "unsized"},
					Notes: []string{"spec.resources.requests.storage: missing; the claim is costed at 0"},
				},
				{
					ID: manifest.ID{APIVersion: "v1", Kind: "Pod", Namespace: "data", Name: "scratch"},
					// (1 × 0.031611 + 1 × 0.004237 + 20 × 0.00005479452) × 730 = 26.96904
					Monthly:  (1*cpuHour + 1*ramHour + 20*storageHour) * month,
					Replicas: 1, CPU: 1, RAMGiB: 1, StorageGB: 20,
				},
				{
					ID: manifest.ID{APIVersion: "v1", Kind: "Service", Namespace: "data", Name: "edge"},
					// 0.025 × 730 = 18.25
					Monthly: lbHour * month,
				},
			},
		},
		{
			name: "kinds that cost nothing are not listed",
			yaml: `
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
data: {a: b}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: example.com/v1
kind: Deployment
metadata: {name: custom, namespace: shop}
spec:
  replicas: 5
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: orphan, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: missing}
  maxReplicas: 3
`,
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			est := Compute(Items("dev", decode(t, tt.yaml)), nil)
			for i := range tt.want {
				tt.want[i].Environment = "dev"
			}
			diffObjects(t, est, tt.want)
		})
	}
}
