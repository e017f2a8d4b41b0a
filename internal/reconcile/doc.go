// Package reconcile owns what happens between Git and a target cluster:
// building the desired objects of the environments a target serves,
// applying them with server-side apply (field manager gitvend) through
// fluxcd/pkg/ssa, CRDs and Namespaces first, enforcing the target's
// namespace and cluster-scoped-kind allow-lists at apply time, keeping an
// inventory of what was applied in the cluster, pruning what left Git,
// waiting for health with kstatus, and finding drift.
//
// Drift is the difference between a server-side dry-run apply of Git's
// objects and the live objects, so that defaults, status, server-set
// metadata and fields owned by other managers (an autoscaler's replicas)
// never count, while an edit of a field gitvend set always does. Drift is
// noticed quickly by watching the managed objects, with an interval as the
// backstop, and handed to the caller as a DriftReport (a ReportFunc): this
// package speaks of the cluster only, never of how drift is presented.
package reconcile
