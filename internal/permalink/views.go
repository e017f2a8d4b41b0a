package permalink

import "time"

// PullRequest is what the view of a pull request shows: its last check,
// every finding of it (a check run shows only what fits), and the cost.
// It holds only what a reader of the repository sees on GitHub already.
type PullRequest struct {
	Repo    string
	Number  int
	HeadSHA string
	Checked time.Time
	// Passed and Counts are the policy verdict and what the change counts.
	Passed bool
	Counts string
	// Cost is the monthly estimate and its change, formatted.
	Cost     string
	Findings []Finding
}

// Finding is one policy finding or unreadable input.
type Finding struct {
	Severity, Policy, Object, Where, Message string
}

// Target is what the view of a target shows: its last apply, and the
// objects that drift from Git (by field path, never by value).
type Target struct {
	Name       string
	Repository string
	// Revision is the last commit applied; State and Description the
	// commit status it was given.
	Revision    string
	State       string
	Description string
	At          time.Time
	Objects     []Applied
	Drift       []Drift
	// Elsewhere says the view was read from GitHub by a replica that does
	// not apply: the objects and the drift are known to the one that does
	// (and the drift issue lists what differs).
	Elsewhere bool
}

// Applied is one object an apply changed.
type Applied struct {
	Action, Object, Status string
}

// Drift is one object that differs from Git, with the paths of the
// fields that differ.
type Drift struct {
	Object string
	Fields []string
	Note   string // missing, or could not be compared
}
