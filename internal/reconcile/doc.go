// Package reconcile owns what happens between Git and a target cluster:
// building the desired objects of the environments a target serves,
// applying them with server-side apply (field manager gitvend) through
// fluxcd/pkg/ssa, CRDs and Namespaces first, enforcing the target's
// namespace and cluster-scoped-kind allow-lists at apply time, keeping an
// inventory of what was applied in the cluster, pruning what left Git,
// waiting for health with kstatus, and finding drift.
//
// An object not healthy in time is explained (Unhealthy) from the pods of
// a workload, found by its selector: an image that cannot be pulled, a
// container in a crash loop, a pod the scheduler cannot place; else from
// kstatus's message. The explanation is cluster-reported text: one clean
// line, bounded, and never a container's own termination message.
//
// The allow-lists judge a kind by its group and kind, and its scope by
// what the cluster serves (discovery) or by a CRD the target accepted and
// applied in the same run, never by a CRD document the target may refuse.
//
// The inventory records how each object came under gitvend's management:
// created by gitvend, or found in the cluster. Prune deletes only what
// gitvend created, or found objects that Git adopts with AdoptAnnotation;
// other found objects are left in place. Adoptions tells, before an apply,
// which objects it would take over.
//
// Drift is the difference between a server-side dry-run apply of Git's
// objects and the live objects, so that defaults, status, server-set
// metadata and fields owned by other managers (an autoscaler's replicas)
// never count, while an edit of a field gitvend set always does. Drift is
// noticed quickly by watching the managed objects, with an interval as the
// backstop, and handed to the caller as a DriftReport (a ReportFunc): this
// package speaks of the cluster only, never of how drift is presented. A
// report leaves the cluster, so it hides every value outside a few fields
// known to hold no secrets (see FieldChange).
package reconcile
