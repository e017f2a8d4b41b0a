// Package leader owns the coordination between gitvend replicas, all of it
// through coordination.k8s.io/v1 Leases in one namespace:
//
//   - leader election (Elector): one Lease per deployment, held through
//     client-go's leader election, so that exactly one replica reconciles,
//     watches for drift and answers the level-triggered resync while the
//     others wait to take over;
//   - repository Leases (Locks): one Lease per repository, taken by a
//     replica before it runs a job of that repository and given back after,
//     so that no request is worked on by two replicas at once;
//   - push signals (Pushes): one Lease per repository used as a mailbox, so
//     that a push webhook received by any replica reaches the leader's
//     rollout at once;
//   - shards (Shards): one Lease per key of a kind (a target) and a
//     presence Lease per replica, so that the keys are spread over the live
//     replicas, each holding at most its fair share, and a dead replica's
//     keys move to the others once its Leases have gone unrenewed for their
//     duration.
//
// An Elector runs the work it is given only while it holds the Lease,
// cancels that work as soon as leadership is lost, and gives the Lease back
// only after the work has returned, so that a fast hand-over on shutdown
// never lets two replicas work at once. Locks do the same for the jobs of
// one repository.
package leader
