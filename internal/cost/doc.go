// Package cost owns gitvend's cost model: hourly prices (OpenCost's
// on-premises defaults, replaceable per environment), the monthly estimate of
// each Kubernetes object in a set, the change of that estimate against a base
// branch, and team and namespace budgets.
//
// A month is HoursPerMonth (730) hours. What the model counts:
//
//   - Workloads (Pod, Deployment, StatefulSet, ReplicaSet,
//     ReplicationController) cost what their pods request, not their limits,
//     times their replicas, all month. A pod's request is counted the way
//     the scheduler does: app containers and sidecars added up, or the
//     largest init container (with the sidecars started before it) when that
//     is more; pod-level requests and runtime overhead are honoured. A
//     missing request costs 0 and is named in the object's notes; a limit
//     without a request stands in for it, as Kubernetes defaults it.
//   - A DaemonSet runs one pod per selected node; it is costed as one pod,
//     and its notes say so.
//   - A Job is costed as the one run it makes: parallelism pods (fewer when
//     completions is lower) for spec.activeDeadlineSeconds, the longest a
//     run may last, or for one hour when that is not set.
//   - A CronJob is costed as its runs in an average month, each like a Job
//     run. Runs per month come from the schedule (standard five fields,
//     macros or @every), counted over the 28-year calendar cycle 2001-2028;
//     the run hours are capped at the whole month. A schedule that cannot be
//     read is costed as its pods running all month. Suspended Jobs and
//     CronJobs cost nothing.
//   - A HorizontalPodAutoscaler targeting a workload of the same set turns its
//     figure into a range: Monthly at minReplicas, MonthlyMax at maxReplicas.
//   - Memory is priced per GiB (2^30 bytes); storage per GB (10^9 bytes):
//     PersistentVolumeClaims by their requested size, StatefulSet
//     volumeClaimTemplates and generic ephemeral volumes per replica.
//   - GPUs (nvidia.com/gpu, amd.com/gpu, gpu.intel.com/*) are counted from
//     requests or limits.
//   - Pods that can only run on spot capacity (a nodeSelector, or a required
//     node affinity in every term, on karpenter.sh/capacity-type=spot,
//     cloud.google.com/gke-spot=true, cloud.google.com/gke-preemptible=true,
//     eks.amazonaws.com/capacityType=SPOT,
//     kubernetes.azure.com/scalesetpriority=spot or gitvend.dev/capacity=spot)
//     pay spot prices for CPU and memory.
//   - A Service of type LoadBalancer costs a flat hourly rate.
//
// Savings estimates what gitvend.yaml's sleep schedules save, per
// environment and namespace: the running cost of Deployments and
// StatefulSets (not a StatefulSet's volumes) and the runs of CronJobs in the
// share of the week they sleep; an HPA-scaled workload, held at one replica,
// saves its replicas above one.
//
// Other kinds cost nothing and are left out. Bad values never stop an
// estimate: they cost 0 and are named, with what is allowed, in the notes of
// the object they belong to.
package cost
