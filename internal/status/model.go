package status

import (
	"time"

	"github.com/gitvend/gitvend/internal/bot"
	"github.com/gitvend/gitvend/internal/queue"
	"github.com/gitvend/gitvend/internal/rollout"
)

// Status is everything the status page shows; the HTML pages and the
// JSON under /api/ both render it.
type Status struct {
	Version   string      `json:"version"`
	Generated time.Time   `json:"generated"`
	Started   time.Time   `json:"started"`
	Leader    Leader      `json:"leader"`
	Queue     queue.Stats `json:"queue"`
	// Repositories are the served repositories with their catalogs.
	Repositories []Repository `json:"repositories"`
	Requests     []Request    `json:"requests"`
	Targets      []Target     `json:"targets"`
	// Unknown says what this process cannot tell, and why.
	Unknown []string `json:"unknown,omitempty"`
}

// Leader says who applies: the leader runs the rollout and the resync.
type Leader struct {
	// Election tells whether leader election is on; without it this
	// process is the only one and leads.
	Election bool   `json:"election"`
	Leading  bool   `json:"leading"`
	Identity string `json:"identity,omitempty"`
}

// Repository is a served desired-state repository.
type Repository struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Branch string `json:"branch,omitempty"`
	// Revision is the head the catalog was read from; "" when this
	// process has not checked the repository out yet.
	Revision   string                `json:"revision,omitempty"`
	Catalog    []Blueprint           `json:"catalog"`
	Protection *bot.ProtectionNotice `json:"protection,omitempty"`
	Error      string                `json:"error,omitempty"`
}

// Blueprint is one entry of a catalog.
type Blueprint struct {
	Name        string      `json:"name"`
	Title       string      `json:"title,omitempty"`
	Description string      `json:"description,omitempty"`
	Version     int         `json:"version"`
	Parameters  []Parameter `json:"parameters"`
	// FormURL opens a new request issue from the blueprint's form.
	FormURL string `json:"formURL"`
}

// Parameter is one parameter of a blueprint.
type Parameter struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Default     string `json:"default,omitempty"`
	Description string `json:"description,omitempty"`
}

// Request states.
const (
	// StateOpen: the request issue is open and has no pull request.
	StateOpen = "open"
	// StateInReview: its pull request is open.
	StateInReview = "in review"
	// StateMerged: its record is on the desired-state branch.
	StateMerged = "merged"
)

// Request is one request: an open request issue, a record on the
// desired-state branch, or both.
type Request struct {
	// ID names the request on this server: the issue number, or the
	// record's environment/namespace/name when no issue is open.
	ID          string `json:"id"`
	Repository  string `json:"repository"`
	Name        string `json:"name,omitempty"`
	Blueprint   string `json:"blueprint,omitempty"`
	Environment string `json:"environment,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Owner       string `json:"owner,omitempty"`
	State       string `json:"state"`
	Issue       int    `json:"issue,omitempty"`
	IssueURL    string `json:"issueURL,omitempty"`
	Title       string `json:"title,omitempty"`
	Author      string `json:"author,omitempty"`
	PR          int    `json:"pr,omitempty"`
	PRURL       string `json:"prURL,omitempty"`
	// Record is the path of the request record on the desired-state
	// branch, and RecordURL its page on GitHub.
	Record    string  `json:"record,omitempty"`
	RecordURL string  `json:"recordURL,omitempty"`
	Checks    []Check `json:"checks,omitempty"`
	// ChecksUnread tells that the checks were not read (too many pull
	// requests are open); the pull request shows them.
	ChecksUnread bool      `json:"checksUnread,omitempty"`
	Expires      time.Time `json:"expires,omitzero"`
	// ViewURL is the public page check runs link to.
	ViewURL string `json:"viewURL,omitempty"`
}

// Check is one check run on a request's pull request head.
type Check struct {
	Name       string `json:"name"`
	Status     string `json:"status"`
	Conclusion string `json:"conclusion,omitempty"`
	Title      string `json:"title,omitempty"`
	URL        string `json:"url,omitempty"`
}

// Target is one target cluster.
type Target struct {
	Name       string `json:"name"`
	Repository string `json:"repository"`
	// Revision is the last commit applied, State and Description the
	// commit status it got ("" when not applied yet).
	Revision    string    `json:"revision,omitempty"`
	RevisionURL string    `json:"revisionURL,omitempty"`
	State       string    `json:"state,omitempty"`
	Description string    `json:"description,omitempty"`
	At          time.Time `json:"at,omitzero"`
	// Objects are what the last apply changed, with their health.
	Objects []Object `json:"objects,omitempty"`
	// Drift lists the objects that differ from Git; DriftKnown is false
	// when this process does not watch the target (another replica leads).
	Drift      []Drift `json:"drift,omitempty"`
	DriftKnown bool    `json:"driftKnown"`
	// Held are merged commits a change window holds back.
	Held []rollout.HeldApply `json:"held,omitempty"`
	// LastSync and NextSync are zero when this process does not sync.
	LastSync time.Time `json:"lastSync,omitzero"`
	NextSync time.Time `json:"nextSync,omitzero"`
	ViewURL  string    `json:"viewURL,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// Object is one object changed by the last apply.
type Object struct {
	Action string `json:"action"`
	Object string `json:"object"`
	Status string `json:"status,omitempty"`
}

// Drift is one object that differs from Git, by field path.
type Drift struct {
	Object string   `json:"object"`
	Fields []string `json:"fields,omitempty"`
	Note   string   `json:"note,omitempty"`
}
