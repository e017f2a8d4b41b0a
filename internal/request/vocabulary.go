package request

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gitvend/gitvend/internal/field"
)

// Place is where a command was written; it decides which commands apply
// there and what /provision help lists.
type Place int

// The places commands are read in.
const (
	// NewIssue is an issue that holds no request yet.
	NewIssue Place = iota
	// RequestIssue is an issue that holds a request.
	RequestIssue
	// RequestPR is the pull request of a request.
	RequestPR
	// BotIssue is an issue gitvend opened itself other than a drift
	// issue or an approval issue: no command applies there.
	BotIssue
	// DriftIssue is a target's drift issue: revert and adopt apply there.
	DriftIssue
	// ApprovalIssue is the issue of an environment's unapproved changes:
	// approve-merge applies there.
	ApprovalIssue
)

// verbs are the words a command may start with besides a blueprint name.
var verbs = []Verb{Set, Rerender, Destroy, Help, Extend, Wake, Revert, Adopt, ConfirmPrune, ApplyNow, ApproveMerge}

// approvalUsage is the command reference of the issue of an environment's
// unapproved changes.
const approvalUsage = "`/provision approve-merge` confirms the commits this issue lists, so that they are applied (repository admins only)\n" +
	"`/provision help` shows this list\n" +
	"Reverting the commits on the desired-state branch settles this issue too."

// driftUsage is the command reference of a drift issue.
const driftUsage = "`/provision revert` applies Git to the whole target now, even where it does not heal itself; `/provision revert object=Kind/namespace/name` applies one object\n" +
	"`/provision adopt` opens a pull request that writes the live values back to Git (into the request's parameters where one sets the field, or else as a patch in the environment's root); `/provision adopt object=Kind/namespace/name` adopts one object. Hidden values (Secrets, env values) are never adopted.\n" +
	"`/provision help` shows this list\n" +
	"Only people who may request in every environment of the target may revert or adopt."

// Usage is the command reference /provision help answers with at place p:
// only the commands that apply there.
func Usage(p Place) string {
	const (
		create   = "`/provision <blueprint> key=value …` asks for a new thing (keys: name, environment, namespace, owner, ttl, blueprint to pin a version as `blueprint=web-service@2`, and the blueprint's parameters)\n"
		restart  = "`/provision <blueprint> key=value …` starts this request over with another blueprint\n"
		set      = "`/provision set key=value …` changes fields of this request (keys: name, environment, namespace, owner, ttl, blueprint to pin a version as `blueprint=web-service@2`, and the blueprint's parameters)\n"
		rerender = "`/provision rerender` renders it again with the current blueprint\n"
		destroy  = "`/provision destroy` removes it\n"
		extend   = "`/provision extend ttl=72h` makes it expire that long from now instead (once merged)\n"
		help     = "`/provision help` shows this list\n"
		wake     = "`/provision wake [for=2h]` wakes its sleeping workloads now, for that long or to the end of the sleep window\n"
		confirm  = "`/provision confirm-prune` lets this pull request's head commit prune past a target's threshold once merged\n"
		applyNow = "`/provision apply-now reason=\"…\"` applies this pull request, once merged, at once although a change window holds its environment (the reason is required and recorded)\n"
		quotes   = "Values with spaces go in quotes: `/provision set greeting=\"hello world\"`."
	)
	switch p {
	case RequestIssue:
		return set + rerender + destroy + extend + wake + restart + help + quotes
	case RequestPR:
		return set + rerender + destroy + confirm + applyNow + help + "They change the request this pull request proposes. " + quotes
	case DriftIssue:
		return driftUsage
	case ApprovalIssue:
		return approvalUsage
	case BotIssue:
		return "No `/provision` command applies to an issue gitvend opened. Ask for things in an issue of your own; change a request on its issue or pull request."
	default:
		return create + help + "Values with spaces go in quotes: `/provision <blueprint> name=x greeting=\"hello world\"`."
	}
}

// Vocabulary is what commands may name in a repository: its blueprints,
// each with its parameters, and its environments. It judges commands
// before they change a request, so that a typo changes nothing and is
// answered with what was probably meant.
type Vocabulary struct {
	// Blueprints are the names of the blueprints offered.
	Blueprints []string
	// Parameters lists the parameter names of a blueprint; it is not
	// asked about blueprints missing from Blueprints.
	Parameters func(blueprint string) []string
	// Environments are the names of the repository's environments.
	Environments []string
}

// Check judges cmd, written at place p, against the vocabulary; current is
// the blueprint of the request it would change ("" when none). It returns
// a *field.Error for every word the repository does not know, naming the
// line and the command, each saying what was probably meant when a known
// word is close. Commands whose words are all known, and verbs that name
// nothing, pass.
func (v Vocabulary) Check(cmd Command, p Place, current string) []error {
	var msgs []string
	switch cmd.Verb {
	case Create:
		if name, _, err := SplitBlueprint(cmd.Blueprint); err != nil || !slices.Contains(v.Blueprints, name) {
			return v.wrap(cmd, v.unknownHead(cmd.Blueprint, p))
		}
		if p == RequestPR {
			return v.wrap(cmd, "a new request starts in an issue; on a pull request, use `/provision set key=value …`")
		}
		current = cmd.Blueprint
	case Set:
	case Extend:
		if p != RequestIssue {
			return v.wrap(cmd, "extend applies on the issue of a request; write it there")
		}
		return nil
	case Wake:
		if p != RequestIssue {
			return v.wrap(cmd, "wake applies on the issue of a request, where it wakes that request's workloads")
		}
		return nil
	case Revert, Adopt:
		if p != DriftIssue {
			return v.wrap(cmd, fmt.Sprintf("%s applies on a drift issue only: the one gitvend opens per target when the cluster differs from Git", cmd.Verb))
		}
		return nil
	case ApplyNow:
		if p != RequestPR {
			return v.wrap(cmd, "apply-now applies on a merged pull request, not on an issue: comment it on the pull request a change window holds")
		}
		return nil
	case ApproveMerge:
		if p != ApprovalIssue {
			return v.wrap(cmd, "approve-merge applies on the issue gitvend opens for a change that reached the desired-state branch without its approvals")
		}
		return nil
	case ConfirmPrune:
		if p != RequestPR {
			return v.wrap(cmd, "confirm-prune applies on a pull request, not on an issue: comment it on the pull request whose plan prunes")
		}
		return nil
	default:
		return nil
	}
	for _, a := range cmd.Args {
		if _, ok := fieldKeys[a.Key]; ok {
			if a.Key == "environment" && len(v.Environments) > 0 && !slices.Contains(v.Environments, a.Value) {
				msgs = append(msgs, fmt.Sprintf("%s is not an environment of this repository; %s", Code(a.Value),
					didYouMean(a.Value, v.Environments, "environments are")))
			}
			continue
		}
		current, _, _ := strings.Cut(current, "@") // a pinned version has its blueprint's name
		if current == "" || !slices.Contains(v.Blueprints, current) || v.Parameters == nil {
			continue // the blueprint is unknown: the request's problems say so
		}
		params := v.Parameters(current)
		if !slices.Contains(params, a.Key) {
			msgs = append(msgs, fmt.Sprintf("%s is not a parameter of %s; %s", Code(a.Key), current,
				didYouMean(a.Key, append(FieldKeys(), params...), "keys are")))
		}
	}
	return v.wrap(cmd, msgs...)
}

// unknownHead says what a word that is neither a verb nor a blueprint
// probably meant.
func (v Vocabulary) unknownHead(word string, p Place) string {
	words := make([]string, 0, len(verbs)+len(v.Blueprints))
	for _, vb := range verbs {
		words = append(words, string(vb))
	}
	words = append(words, v.Blueprints...)
	msg := fmt.Sprintf("%s is neither a command nor a blueprint of this repository", Code(word))
	if s, ok := Suggest(word, words); ok {
		if slices.Contains(verbs, Verb(s)) {
			return msg + fmt.Sprintf("; did you mean %s?", Code(Prefix+" "+s))
		}
		return msg + fmt.Sprintf("; did you mean the blueprint %s?", Code(s))
	}
	if p == NewIssue && len(v.Blueprints) > 0 {
		return msg + "; blueprints are " + codes(v.Blueprints)
	}
	return msg + "; commands are set, rerender, destroy and help"
}

func (v Vocabulary) wrap(cmd Command, msgs ...string) []error {
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = &field.Error{Line: cmd.Line, Field: cmd.String(), Msg: m}
	}
	return errs
}

// didYouMean names the word close to word among known, or else lists
// them after what.
func didYouMean(word string, known []string, what string) string {
	if s, ok := Suggest(word, known); ok {
		return fmt.Sprintf("did you mean %s?", Code(s))
	}
	if len(known) == 0 {
		return "there are none"
	}
	return what + " " + codes(known)
}

func codes(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = Code(s)
	}
	return strings.Join(out, ", ")
}

// String writes the command back as one line, its values quoted where
// they need it.
func (c Command) String() string {
	var sb strings.Builder
	sb.WriteString(Prefix)
	switch c.Verb {
	case Create:
		sb.WriteString(" " + c.Blueprint)
	default:
		sb.WriteString(" " + string(c.Verb))
	}
	for _, a := range c.Args {
		v := a.Value
		if v == "" || strings.ContainsAny(v, " \t\"'\\") {
			v = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
		}
		sb.WriteString(" " + a.Key + "=" + v)
	}
	return short(sb.String())
}
