//go:build race

package policy

// raceDetector tells tests that the race detector is on: its runtime
// reserves and uses several times the memory of the program it watches.
const raceDetector = true
