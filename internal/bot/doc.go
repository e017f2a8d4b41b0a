// Package bot owns gitvend's conversation with a desired-state repository on
// GitHub: request issues (from forms or /provision commands) are read,
// authorized and folded into a request; the request is rendered onto the
// branch gitvend/request-<issue> with one pull request; every pull request
// gets the gitvend/policy and gitvend/cost check runs and one summary
// comment; the request issue gets one status comment, edited in place.
//
// The bot routes webhooks to jobs (Dispatcher) and keeps each job thin:
//
//	read     the issue, its pull requests, their comments and the
//	         permissions of the people who asked (intake.go)
//	fold     the form and commands into a draft and the replies, without I/O
//	admit    the draft: every rule about who may ask for what lives in
//	         package admission, which also names the team memberships to ask
//	plan     the commit, pull request, check runs and comments that should
//	         exist, without I/O (plan.go)
//	execute  the plan with one idempotent ensure per object: the branch, the
//	         pull request, each sticky comment, the check runs (execute.go,
//	         on the Ensure operations of package github)
//
// One pull request per request is promised, and kept, in one place:
// onePRPerRequest.
//
// Identity comes from GitHub, never from the content. Every input of a
// request (the form, each command) counts as the request of whoever
// answers for it: its author, or whoever a webhook names as its editor;
// the status comment keeps a ledger of who answers for what, and an edit
// nobody can name waits for the author's /provision rerender (inputs.go).
// Strangers cost nothing: whoever comments is judged before any write, and
// someone who may not ask gets no reaction and one reply per thread
// (gate.go).
//
// The bot is level-triggered. SyncIssue and CheckPR read the current state
// and bring it to what it should be, so webhooks are only hints: a lost one
// is made up by Resync, a repeated one finds nothing to do, and a crash at
// any step resumes on the next run with no second pull request or comment.
// Branches, commits (same inputs, same commit) and the markers of its
// comments are what make each step safe to repeat.
package bot
