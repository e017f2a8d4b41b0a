// Package leader owns leader election between gitvend replicas: one
// coordination.k8s.io/v1 Lease per deployment, held through client-go's
// leader election, so that exactly one replica reconciles, watches for
// drift and answers the level-triggered resync while the others wait to
// take over.
//
// An Elector runs the work it is given only while it holds the Lease,
// cancels that work as soon as leadership is lost, and gives the Lease back
// only after the work has returned, so that a fast hand-over on shutdown
// never lets two replicas work at once.
package leader
