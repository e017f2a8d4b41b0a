package github

// GitHub's limits on the text an App posts. Bodies and titles are counted in
// characters (Unicode code points); a check run's output is refused past
// MaxCheckOutput characters and, in practice, past as many bytes, so a
// budget for it counts bytes. Text that exceeds a limit is refused with 422,
// never cut by GitHub, so every text gitvend posts is budgeted before it is
// sent.
const (
	// MaxBody bounds issue, pull request and comment bodies.
	MaxBody = 65536
	// MaxTitle bounds issue and pull request titles.
	MaxTitle = 256
	// MaxCheckOutput bounds a check run's output.summary and output.text.
	MaxCheckOutput = 65535
	// MaxStatusDescription bounds a commit status's description.
	MaxStatusDescription = 140
	// MaxAnnotationsPerCall bounds the annotations of one check run create
	// or update; more are sent in further updates.
	MaxAnnotationsPerCall = 50
)
