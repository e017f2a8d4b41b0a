//go:build !race

package policy

// raceDetector tells tests that the race detector is on.
const raceDetector = false
