// Package status is gitvend's status page: one model (Status) of what a
// gitvend serve process knows — the catalog, the requests, the targets, the
// queue and the leader — gathered from the bot, the rollout and GitHub by
// a Gatherer, and rendered two ways by Handler: HTML pages from Go
// templates, readable on a phone, and the same data as JSON under /api/.
//
// The pages name every repository, request and target, so they belong on
// the ops listener. The pages that check runs and commit statuses link to
// from GitHub are the signed public views of package permalink, which show
// only what a reader of the repository already sees on GitHub.
//
// What a process does not know it says (Status.Unknown, and "not known to
// this process" on a target) rather than showing an empty list as a fact:
// the catalog before the bot has worked on a repository, and the drift and
// the next sync on a replica that does not lead.
package status
