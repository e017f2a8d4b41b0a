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
// The inventory also keeps, per object gitvend last found matching Git
// (created it, or compared it), a record: the live object's
// resourceVersion, a fingerprint of its uid, generation and gitvend's
// managed-fields entries, and a print of both with the Git content, keyed
// with a key kept in a Secret beside the inventory. A new Reconciler (a
// restart, every CLI run) lists each kind and namespace, metadata only,
// and takes an object whose Git content and live mark match its record
// for unchanged without a dry-run; anything else (another manager's or a
// hand edit of a field gitvend set, a recreated object, new Git content,
// no record) is dry-run as before. The fingerprint is taken only from
// gitvend's own write, after which gitvend owns every field it sets, so
// that a later write leaving those fields alone (a controller's status,
// another manager's label) keeps it; a match found by a dry-run alone,
// and a Secret's stringData (which the API server moves into data), are
// known by their resourceVersion only.
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
