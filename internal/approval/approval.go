// Package approval tells which environments that need approvals a change
// touches. An environment is touched when what it builds (its objects,
// built by desired.BuildEnvironment as apply and the checks build it) or
// its own settings in gitvend.yaml differ between two checkouts; the
// rules that apply are the older checkout's (the base branch's, or the
// parent commit's), so a change cannot lift the rule it is judged by.
//
// Who approved, and whether it is enough, is admission's (Approvers,
// Tally); this package only compares checkouts. It reads files and does
// no other I/O.
package approval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/desired"
	"github.com/gitvend/gitvend/internal/manifest"
)

// Digests are the fingerprints of a checkout's environments by name.
type Digests map[string]string

// Digest fingerprints every environment of the checkout dir named in
// names (all of its gitvend.yaml's when names is nil): its settings and
// the objects it builds. An environment the checkout does not define, or
// whose build fails, gets a digest that says so, which differs from any
// good build's.
func Digest(ctx context.Context, dir string, names []string) (Digests, *config.Repo, error) {
	cfg, cfgErr := config.LoadRepo(dir)
	out := Digests{}
	if cfgErr != nil {
		for _, n := range names {
			out[n] = hash("unreadable configuration: " + cfgErr.Error())
		}
		return out, nil, nil
	}
	if names == nil {
		names = cfg.EnvironmentNames()
	}
	tree, err := manifest.OpenTree(ctx, dir, manifest.Limits{})
	if err != nil {
		return nil, nil, fmt.Errorf("open checkout: %w", err)
	}
	defer tree.Close()
	for _, n := range names {
		env, ok := cfg.Environment(n)
		if !ok {
			out[n] = hash("no such environment")
			continue
		}
		out[n] = digestOf(tree, env)
	}
	return out, cfg, nil
}

func digestOf(tree *manifest.Tree, env config.Environment) string {
	settings, _ := json.Marshal(env)
	objs, err := desired.BuildEnvironment(tree, env)
	if err != nil {
		return hash(string(settings) + "\x00build failed: " + err.Error())
	}
	parts := make([]string, 0, len(objs))
	for _, o := range objs {
		data, _ := json.Marshal(o.Content) // map keys come out sorted
		parts = append(parts, string(data))
	}
	slices.Sort(parts)
	h := sha256.New()
	h.Write(settings)
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Needing returns the environments of rules (the older checkout's
// configuration) among names that need approvals, in rules' order; all of
// them when names is nil.
func Needing(rules *config.Repo, names []string) []config.Environment {
	if rules == nil {
		return nil
	}
	var out []config.Environment
	for _, e := range rules.Environments {
		if e.NeedsApproval() && (names == nil || slices.Contains(names, e.Name)) {
			out = append(out, e)
		}
	}
	return out
}

// Touched returns the environments of rules that need approvals and whose
// digests differ between base and head.
func Touched(rules *config.Repo, base, head Digests) []config.Environment {
	var out []config.Environment
	for _, e := range Needing(rules, nil) {
		if base[e.Name] != head[e.Name] {
			out = append(out, e)
		}
	}
	return out
}

// What gitvend posts about approvals on GitHub, read back by the rollout
// and the bot.
const (
	// CheckRun is the check run on a pull request's head that is green
	// once the environments it changes have their approvals.
	CheckRun = "gitvend/approval"
	// MergeStatus is gitvend's commit status on a commit that reached the
	// desired-state branch without approvals: failure while it waits,
	// success once a repository admin confirmed it (/provision
	// approve-merge on the issue), which lets it be applied.
	MergeStatus = "gitvend/approve-merge"
	// Label marks the issues of unapproved changes.
	Label = "gitvend-approval"
)

// IssueTitle is the stable title of the issue of environment env's
// unapproved changes.
func IssueTitle(env string) string { return "Unapproved change to environment " + env }

// markerPrefix starts the hidden line of an issue body that names the
// environment and the commits waiting for approve-merge.
const markerPrefix = "<!-- gitvend:unapproved "

// Marker is the hidden line naming env and its commits waiting.
func Marker(env string, shas []string) string {
	return markerPrefix + env + " " + strings.Join(shas, " ") + " -->"
}

// ParseMarker reads the environment and commits of an issue body's
// marker; ok is false when it has none.
func ParseMarker(body string) (env string, shas []string, ok bool) {
	i := strings.Index(body, markerPrefix)
	if i < 0 {
		return "", nil, false
	}
	rest, _, found := strings.Cut(body[i+len(markerPrefix):], " -->")
	if !found {
		return "", nil, false
	}
	fields := strings.Fields(rest)
	if len(fields) < 2 || !config.IsDNSLabel(fields[0]) {
		return "", nil, false
	}
	for _, s := range fields[1:] {
		if !isSHA(s) {
			return "", nil, false
		}
	}
	return fields[0], fields[1:], true
}

func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}
