// Package cost owns gitvend's cost model: hourly prices (OpenCost's
// on-premises defaults, replaceable per environment), the monthly estimate of
// each Kubernetes object in a set, the change of that estimate against a base
// branch, and team and namespace budgets.
//
// A workload costs what its pods request, not what they may use up to their
// limits, times its replicas; a HorizontalPodAutoscaler that targets it turns
// the figure into a range from minReplicas to maxReplicas. Persistent volume
// claims cost their requested size and LoadBalancer Services a flat rate.
// Every assumption the estimate makes about an object (a missing request, a
// DaemonSet counted as one pod, a CronJob's runs a month) is written into that
// object's notes.
package cost
