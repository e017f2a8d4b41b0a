package request

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gitvend/gitvend/internal/field"
)

// Prefix starts every command line.
const Prefix = "/provision"

// Limits on what one comment may ask, so that a hostile comment costs little.
const (
	MaxCommands     = 20   // command lines in one comment
	MaxArgs         = 64   // key=value pairs in one command
	MaxCommandBytes = 8192 // bytes in one command line
)

// Verb says what a command asks for.
type Verb string

// The verbs of /provision.
const (
	// Create asks for a new thing: /provision <blueprint> key=value ...
	Create Verb = "create"
	// Set changes fields of the request: /provision set key=value ...
	Set Verb = "set"
	// Rerender renders the request again with the current blueprint.
	Rerender Verb = "rerender"
	// Destroy asks for the thing to be removed.
	Destroy Verb = "destroy"
	// Help asks for the command reference.
	Help Verb = "help"
	// Extend sets a request's expiry anew, counted from when it is
	// written: /provision extend ttl=72h. It changes no field of the
	// request.
	Extend Verb = "extend"
	// Wake wakes the request's sleeping workloads now, for a while:
	// /provision wake [for=2h].
	Wake Verb = "wake"
	// Revert asks, on a drift issue, for Git to be applied again now: to
	// the whole target, or to one object (object=Kind/namespace/name).
	Revert Verb = "revert"
	// Adopt asks, on a drift issue, for a pull request that writes the
	// live values back to Git, for the whole target or one object.
	Adopt Verb = "adopt"
	// ConfirmPrune, on a pull request, lets its head commit prune past a
	// target's threshold once merged.
	ConfirmPrune Verb = "confirm-prune"
	// ApplyNow, on a merged pull request, applies it at once although a
	// change window holds its environment: /provision apply-now
	// reason="…", the reason required.
	ApplyNow Verb = "apply-now"
	// ApproveMerge, on the issue gitvend opens for a change that reached
	// the desired-state branch without its approvals, lets the rollout
	// apply it: a repository admin's confirmation.
	ApproveMerge Verb = "approve-merge"
)

// MinReasonLength and MaxReasonLength bound the reason of an apply-now.
const (
	MinReasonLength = 10
	MaxReasonLength = 200
)

// MaxWake is the longest /provision wake may keep workloads awake.
const MaxWake = 7 * 24 * time.Hour

// Arg is one key=value pair of a command, in the order written.
type Arg struct {
	Key   string
	Value string
}

// Command is one /provision line of a comment.
type Command struct {
	Verb Verb
	// Blueprint is the blueprint a Create command names.
	Blueprint string
	// Args are the key=value pairs of Create and Set.
	Args []Arg
	// Line is the command's line in the comment, from 1.
	Line int
	// Object is the object=Kind/namespace/name (or Kind/name) a Revert or
	// Adopt names, "" for the whole target.
	Object string
}

// Fields are the keys of a command that set request fields rather than
// blueprint parameters, with the record field each sets.
var fieldKeys = map[string]string{
	"name":        "metadata.name",
	"environment": "spec.environment",
	"namespace":   "spec.namespace",
	"owner":       "spec.owner",
	"ttl":         "spec.ttl",
	"blueprint":   "spec.blueprint", // a pin such as web-service@2, or the name alone to follow the blueprint
}

// FieldKeys lists the command keys that set request fields, sorted.
func FieldKeys() []string {
	keys := make([]string, 0, len(fieldKeys))
	for k := range fieldKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ParseCommands finds the /provision commands of a comment, one per line.
// Lines quoted with ">" and lines inside fenced code blocks are not
// commands, so replies that quote a command never run it again. It returns
// the commands it could read and an error for every line it could not: a
// *field.Error with the line of the comment (from 1), the command as
// written (shortened when long) as its field, and what is wrong.
func ParseCommands(text string) ([]Command, []error) {
	var cmds []Command
	var errs []error
	fence := ""
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if f := fenceOf(trimmed); f != "" {
			switch {
			case fence == "":
				fence = f
			case strings.HasPrefix(f, fence[:1]) && len(f) >= len(fence):
				fence = ""
			}
			continue
		}
		if fence != "" || !isCommand(trimmed) {
			continue
		}
		n := i + 1
		if len(cmds)+len(errs) == MaxCommands {
			errs = append(errs, &field.Error{Line: n, Field: short(trimmed), Msg: fmt.Sprintf("too many commands; at most %d per comment", MaxCommands)})
			break
		}
		cmd, err := parseCommand(trimmed)
		if err != nil {
			errs = append(errs, &field.Error{Line: n, Field: short(trimmed), Msg: err.Error()})
			continue
		}
		cmd.Line = n
		cmds = append(cmds, cmd)
	}
	return cmds, errs
}

// HasCommand reports whether text holds at least one /provision line that
// ParseCommands would consider, readable or not.
func HasCommand(text string) bool {
	cmds, errs := ParseCommands(text)
	return len(cmds)+len(errs) > 0
}

func fenceOf(line string) string {
	for _, c := range []string{"```", "~~~"} {
		if strings.HasPrefix(line, c) {
			n := len(line) - len(strings.TrimLeft(line, c[:1]))
			return line[:n]
		}
	}
	return ""
}

func isCommand(line string) bool {
	rest, ok := strings.CutPrefix(line, Prefix)
	if !ok {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return rest == "" || unicode.IsSpace(r)
}

func short(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func parseCommand(line string) (Command, error) {
	if len(line) > MaxCommandBytes {
		return Command{}, fmt.Errorf("command is %d bytes; at most %d", len(line), MaxCommandBytes)
	}
	if !utf8.ValidString(line) {
		return Command{}, fmt.Errorf("command is not valid UTF-8")
	}
	words, err := splitWords(strings.TrimSpace(strings.TrimPrefix(line, Prefix)))
	if err != nil {
		return Command{}, err
	}
	if len(words) == 0 {
		return Command{}, fmt.Errorf("missing what to do; use /provision <blueprint> key=value … or a command; /provision help lists the commands that apply here")
	}
	head, rest := words[0], words[1:]
	if head.quoted || strings.Contains(head.text, "=") {
		return Command{}, fmt.Errorf("%s is not a command or a blueprint; use /provision <blueprint> key=value … or a command; /provision help lists the commands that apply here", Code(head.text))
	}
	var cmd Command
	switch Verb(head.text) {
	case Set:
		cmd.Verb = Set
		if len(rest) == 0 {
			return Command{}, fmt.Errorf("set needs at least one key=value, such as /provision set replicas=3")
		}
	case Extend:
		cmd.Verb = Extend
		if len(rest) != 1 || !strings.HasPrefix(rest[0].text, "ttl=") || rest[0].keyQuoted {
			return Command{}, fmt.Errorf("extend takes one ttl=<duration>, such as /provision extend ttl=72h")
		}
		cmd.Args = []Arg{{Key: "ttl", Value: strings.TrimPrefix(rest[0].text, "ttl=")}}
		if _, err := ParseTTL(cmd.Args[0].Value); err != nil {
			return Command{}, fmt.Errorf("ttl %v", err)
		}
		return cmd, nil
	case Wake:
		return parseWake(rest)
	case ApplyNow:
		return parseApplyNow(rest)
	case Revert, Adopt:
		return parseDriftCommand(Verb(head.text), rest)
	case Rerender, Destroy, Help, ConfirmPrune, ApproveMerge:
		cmd.Verb = Verb(head.text)
		if len(rest) > 0 {
			return Command{}, fmt.Errorf("%s takes no arguments, got %s", head.text, Code(rest[0].text))
		}
		return cmd, nil
	default:
		cmd.Verb = Create
		cmd.Blueprint = head.text
	}
	if len(rest) > MaxArgs {
		return Command{}, fmt.Errorf("%d key=value pairs; at most %d", len(rest), MaxArgs)
	}
	seen := map[string]bool{}
	for _, w := range rest {
		key, value, ok := strings.Cut(w.text, "=")
		if !ok || w.keyQuoted {
			return Command{}, fmt.Errorf("%s is not key=value; quote values with spaces: key=\"a value\"", Code(w.text))
		}
		if !validKey(key) {
			return Command{}, fmt.Errorf("key %s must be a name of letters, digits, '-' or '_' starting with a letter", Code(key))
		}
		if seen[key] {
			return Command{}, fmt.Errorf("key %s is given twice", Code(key))
		}
		seen[key] = true
		cmd.Args = append(cmd.Args, Arg{Key: key, Value: value})
	}
	return cmd, nil
}

// parseWake reads the arguments of /provision wake: none, or for=<duration>.
func parseWake(rest []word) (Command, error) {
	cmd := Command{Verb: Wake}
	for _, w := range rest {
		key, value, ok := strings.Cut(w.text, "=")
		if !ok || key != "for" || len(rest) > 1 {
			return Command{}, fmt.Errorf("wake takes nothing or for=<duration>, such as /provision wake for=2h; got %s", Code(w.text))
		}
		d, err := time.ParseDuration(value)
		if err != nil || d < time.Minute || d > MaxWake {
			return Command{}, fmt.Errorf("for=%s must be a duration from 1m to %s, such as 90m or 2h", Code(value), "168h")
		}
		cmd.Args = append(cmd.Args, Arg{Key: key, Value: value})
	}
	return cmd, nil
}

// parseApplyNow reads the arguments of /provision apply-now: one
// reason="…" that says why the change cannot wait.
func parseApplyNow(rest []word) (Command, error) {
	const usage = `apply-now takes one reason="…" saying why the change cannot wait for the window, such as /provision apply-now reason="fix for the checkout outage"`
	if len(rest) != 1 || rest[0].keyQuoted {
		return Command{}, errors.New(usage)
	}
	key, value, ok := strings.Cut(rest[0].text, "=")
	if !ok || key != "reason" {
		return Command{}, errors.New(usage)
	}
	value = strings.TrimSpace(value)
	if n := utf8.RuneCountInString(value); n < MinReasonLength || n > MaxReasonLength {
		return Command{}, fmt.Errorf("the reason of apply-now must be %d to %d characters, got %d; %s", MinReasonLength, MaxReasonLength, n, usage)
	}
	return Command{Verb: ApplyNow, Args: []Arg{{Key: "reason", Value: value}}}, nil
}

// Reason is the reason an ApplyNow command gives.
func (c Command) Reason() string {
	for _, a := range c.Args {
		if a.Key == "reason" {
			return a.Value
		}
	}
	return ""
}

// WakeFor is how long a Wake command asks to wake for, and false when it
// names no duration (until the end of the sleep window).
func (c Command) WakeFor() (time.Duration, bool) {
	for _, a := range c.Args {
		if a.Key == "for" {
			d, err := time.ParseDuration(a.Value)
			return d, err == nil
		}
	}
	return 0, false
}

func validKey(k string) bool {
	if k == "" || len(k) > 63 {
		return false
	}
	for i, r := range k {
		switch {
		case r < utf8.RuneSelf && unicode.IsLetter(r):
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_'):
		default:
			return false
		}
	}
	return true
}

type word struct {
	text      string
	quoted    bool // some part of the word was quoted
	keyQuoted bool // a quote opened before the first '='
}

// splitWords splits a command into words at blanks; single quotes keep
// text as it is, double quotes allow \" and \\ escapes.
func splitWords(s string) ([]word, error) {
	var words []word
	var cur strings.Builder
	var w word
	inWord := false
	flush := func() {
		if inWord {
			w.text = cur.String()
			words = append(words, w)
		}
		cur.Reset()
		w = word{}
		inWord = false
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			flush()
			i += size
		case r == '\'' || r == '"':
			inWord = true
			w.quoted = true
			if !strings.Contains(cur.String(), "=") {
				w.keyQuoted = true
			}
			end, err := readQuoted(s, i, &cur)
			if err != nil {
				return nil, err
			}
			i = end
		default:
			inWord = true
			cur.WriteRune(r)
			i += size
		}
	}
	flush()
	return words, nil
}

// readQuoted copies the quoted text starting at s[start] into b and returns
// the index after the closing quote.
func readQuoted(s string, start int, b *strings.Builder) (int, error) {
	q := s[start]
	for i := start + 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			return i + 1, nil
		case q == '"' && c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		default:
			b.WriteByte(c)
		}
	}
	return 0, fmt.Errorf("unterminated %c quote", q)
}
