// Package rollout owns what happens after a merge: the desired-state
// branch of each served repository is applied to its targets (through
// package reconcile) after every push and on an interval; each apply is
// reported on GitHub as a commit status gitvend/apply/<target>, a comment on
// the merged pull request, and the request issues it resolves closed with
// what now exists where; and every target is watched for drift, kept as one
// GitHub issue per target that is edited in place and closed when the drift
// is gone. A merge whose objects do not become healthy fails its status
// with the reason, and where its environment sets rollbackOnFailure a pull
// request reverting it is opened, once (rollback.go); it is never merged
// nor pushed to the desired-state branch by gitvend. Everything GitHub shows of an apply or a drift (status, comments,
// the drift issue's title and body) is written here; package reconcile
// speaks of the cluster only.
package rollout
