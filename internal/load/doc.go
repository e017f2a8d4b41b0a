// Package load drives `gitvend serve` as a platform team would load it: a
// synthetic desired-state repository of many requests over several
// environments, pushed into the GitHub test double, then request issues,
// merges of their pull requests and changes by hand on the cluster at a
// given rate. At the end it reads the service levels from the server's own
// /metrics and prints them beside what the generator saw itself.
package load
