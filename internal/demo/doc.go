// Package demo plays gitvend's whole story on one machine: the GitHub test
// double with a desired-state repository and its people, a real Kubernetes
// API server, and `gitvend serve` as a child process in between. A request
// issue becomes a pull request with checks, a command fixes its policy
// failure, a merge applies it to the cluster, and a manual change to the
// cluster becomes a drift issue that closes once the target heals. `make
// demo` prints the story as a transcript; the tests play it while killing
// and restarting gitvend, and audit that nothing was done twice.
package demo
