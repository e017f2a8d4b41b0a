package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"regexp"
	"runtime/debug"
	"strings"
	"testing/fstest"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/gitvend/gitvend/internal/config"
	"github.com/gitvend/gitvend/internal/field"
	"github.com/gitvend/gitvend/internal/manifest"
	"github.com/gitvend/gitvend/policies"
)

// Limits bound one sandboxed evaluation.
type Limits struct {
	// Timeout bounds the whole evaluation, compiling included; the child
	// process is killed when it passes. Zero means DefaultTimeout.
	Timeout time.Duration
	// Memory bounds the memory the child process may add to what it holds
	// at its start, in bytes. Zero means DefaultMemory, or half of this
	// process's own Go memory limit (GOMEMLIMIT, as a container's memory
	// limit sets it) when that is less: the child shares the container's
	// memory.
	Memory int64
}

// Defaults of Limits.
const (
	DefaultTimeout = 60 * time.Second
	DefaultMemory  = 1 << 30
)

// Bounds of what a repository may hand the sandbox and what it may answer.
const (
	maxModules     = 500
	maxAnswerBytes = 256 << 20
	maxStderrBytes = 64 << 10
)

// sandboxEnv marks a process started as the policy sandbox.
const sandboxEnv = "GITVEND_POLICY_SANDBOX"

// Problem is what is wrong with a repository's policies, at a file and
// line when known.
type Problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// RulesError reports a repository's policies that could not be used: a
// file that does not parse or compile, a settings error, or an evaluation
// that failed, ran out of time or out of memory.
type RulesError struct {
	Problems []Problem
}

func (e *RulesError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		switch {
		case p.File != "" && p.Line > 0:
			parts[i] = fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
		case p.File != "":
			parts[i] = p.File + ": " + p.Message
		default:
			parts[i] = p.Message
		}
	}
	return "policies: " + strings.Join(parts, "; ")
}

// Sandbox evaluates policies that are not trusted, such as a pull
// request's, in a child process: the same executable, started again with
// a marker in its environment (see SandboxMain), an empty environment
// otherwise, an empty working directory, a hard cap on its address space
// and Go's soft memory limit, and killed when its time is up. The child
// receives the policy files and settings and the input and nothing else;
// the compiler's capabilities leave out every built-in function that
// reaches the network, the clock, randomness or the runtime's environment
// (http.send, net.*, opa.runtime, time.now_ns, ...), so a policy sees only
// its input.
type Sandbox struct {
	modules  map[string]string
	settings config.Policy
	limits   Limits
	command  string
}

// NewSandbox reads the Rego files of extra (a repository's policies/; its
// unit tests and every other file are left out) to be evaluated with
// settings within limits. Nothing is compiled here: that happens in the
// child, within its bounds.
func NewSandbox(extra fs.FS, settings config.Policy, limits Limits) (*Sandbox, error) {
	if limits.Timeout <= 0 {
		limits.Timeout = DefaultTimeout
	}
	if limits.Memory <= 0 {
		limits.Memory = defaultMemory(debug.SetMemoryLimit(-1))
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("policy sandbox: find own executable: %w", err)
	}
	s := &Sandbox{modules: map[string]string{}, settings: settings, limits: limits, command: exe}
	if extra == nil {
		return s, nil
	}
	err = fs.WalkDir(extra, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", extraPrefix+p, err)
		}
		if d.IsDir() || path.Ext(p) != ".rego" || strings.HasSuffix(p, policies.TestSuffix) {
			return nil
		}
		if !d.Type().IsRegular() {
			// A link could make the sandbox read, and a parse error quote,
			// a file from outside the policies.
			return fmt.Errorf("read %s: a policy file must be a regular file, not a link", extraPrefix+p)
		}
		if len(s.modules) == maxModules {
			return fmt.Errorf("read %s: more than %d policy files", extraPrefix+p, maxModules)
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("read %s: %w", extraPrefix+p, err)
		}
		if info.Size() > maxModuleSize {
			return fmt.Errorf("read %s: file has %d bytes; a policy file may have at most %d", extraPrefix+p, info.Size(), maxModuleSize)
		}
		data, err := fs.ReadFile(extra, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", extraPrefix+p, err)
		}
		s.modules[p] = string(data)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// minMemory is the least memory a sandbox is given by default.
const minMemory = 128 << 20

// defaultMemory is the sandbox's memory when none is set: DefaultMemory,
// or half of own, the parent's Go memory limit, when that is less.
func defaultMemory(own int64) int64 {
	if own <= 0 || own/2 >= DefaultMemory {
		return DefaultMemory
	}
	return max(own/2, minMemory)
}

// sandboxRequest is what the parent hands the child on its standard input.
type sandboxRequest struct {
	Modules  map[string]string `json:"modules"`
	Settings config.Policy     `json:"settings"`
	Subjects []wireSubject     `json:"subjects"`
	Cost     *CostInput        `json:"cost,omitempty"`
	Quotas   []QuotaInput      `json:"quotas,omitempty"`
	Timeout  time.Duration     `json:"timeout"`
	Memory   int64             `json:"memory"`
}

// wireSubject is a Subject without its source file: the child never
// sees where the objects come from.
type wireSubject struct {
	ID      manifest.ID    `json:"id"`
	Content map[string]any `json:"content"`
	Context Context        `json:"context"`
}

// sandboxAnswer is what the child writes on its standard output.
type sandboxAnswer struct {
	Found    []judged  `json:"found,omitempty"`
	Problems []Problem `json:"problems,omitempty"`
}

// Evaluate compiles the sandbox's policies with its settings and checks in
// with them in a child process. Policies that cannot be used, and an
// evaluation that fails or passes its limits, give a *RulesError; other
// errors are the sandbox's own (the executable cannot start, ctx ended).
func (s *Sandbox) Evaluate(ctx context.Context, in Input) (Result, error) {
	req := sandboxRequest{Modules: s.modules, Settings: s.settings, Cost: in.Cost, Quotas: in.Quotas,
		Subjects: make([]wireSubject, len(in.Subjects)), Timeout: s.limits.Timeout, Memory: s.limits.Memory}
	for i, sub := range in.Subjects {
		if sub.Object == nil {
			return Result{}, fmt.Errorf("policy sandbox: subjects[%d]: object is missing", i)
		}
		req.Subjects[i] = wireSubject{ID: sub.Object.ID, Content: sub.Object.Content, Context: sub.Context}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Result{}, fmt.Errorf("policy sandbox: encode input: %w", err)
	}
	dir, err := os.MkdirTemp("", "gitvend-sandbox-")
	if err != nil {
		return Result{}, fmt.Errorf("policy sandbox: %w", err)
	}
	defer os.RemoveAll(dir)

	// The child stops its own evaluation a little before its time is up,
	// so that it says so itself; the parent's deadline is the hard one.
	runCtx, cancel := context.WithTimeout(ctx, s.limits.Timeout+2*time.Second)
	defer cancel()
	cmd := exec.CommandContext(runCtx, s.command, "-test.run=^$")
	cmd.Env = []string{sandboxEnv + "=1", "GOMAXPROCS=1", fmt.Sprintf("GOMEMLIMIT=%d", s.limits.Memory*3/4)}
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(body)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &stdout, n: maxAnswerBytes}
	cmd.Stderr = &limitedWriter{w: &stderr, n: maxStderrBytes}
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("policy sandbox: %w", ctx.Err())
	}
	if runCtx.Err() != nil {
		return Result{}, &RulesError{Problems: []Problem{{Message: fmt.Sprintf(
			"the policies ran longer than the %s the sandbox allows and were stopped; look for a rule that iterates over very large or nested collections", s.limits.Timeout)}}}
	}
	var ans sandboxAnswer
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	if decErr := dec.Decode(&ans); decErr != nil {
		if strings.Contains(stderr.String(), "out of memory") {
			return Result{}, &RulesError{Problems: []Problem{{Message: fmt.Sprintf(
				"the policies used more than the %d MiB of memory the sandbox allows and were stopped; look for a rule that builds very large collections or strings", s.limits.Memory>>20)}}}
		}
		return Result{}, &RulesError{Problems: []Problem{{Message: fmt.Sprintf("the policy sandbox gave no answer (%v): %s", runErr, lastLines(stderr.String(), 5))}}}
	}
	if len(ans.Problems) > 0 {
		return Result{}, &RulesError{Problems: ans.Problems}
	}
	for i := range ans.Found {
		ans.Found[i].Path = intPath(ans.Found[i].Path)
	}
	return result(ans.Found, in.Subjects), nil
}

// intPath turns the numbers of a path decoded from JSON back into ints.
func intPath(p []any) []any {
	for i, step := range p {
		if n, ok := toInt(step); ok {
			if _, isString := step.(string); !isString {
				p[i] = n
			}
		}
	}
	return p
}

// lastLines returns the last n lines of s, on one line.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// limitedWriter keeps the first n bytes written to it and drops the rest,
// so a child cannot fill the parent's memory through its output.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	keep := p
	if int64(len(keep)) > l.n {
		keep = keep[:l.n]
	}
	l.n -= int64(len(keep))
	if _, err := l.w.Write(keep); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SandboxMain makes the process the policy sandbox when it was started as
// one (see Sandbox): it answers the request on its standard input and
// exits. It returns at once in any other process. Call it first in main,
// and in the TestMain of every test binary that evaluates in a sandbox.
func SandboxMain() {
	if os.Getenv(sandboxEnv) != "1" {
		return
	}
	os.Exit(serveSandbox(os.Stdin, os.Stdout))
}

// serveSandbox is the child's side of Sandbox.Evaluate.
func serveSandbox(stdin io.Reader, stdout io.Writer) int {
	var req sandboxRequest
	dec := json.NewDecoder(stdin)
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "policy sandbox: read request:", err)
		return 2
	}
	if err := capMemory(req.Memory); err != nil {
		fmt.Fprintln(os.Stderr, "policy sandbox:", err)
		return 2
	}
	ans := sandboxAnswer{}
	ctx, cancel := context.WithTimeout(context.Background(), req.Timeout)
	defer cancel()
	found, err := evaluateRequest(ctx, req)
	switch {
	case ctx.Err() != nil:
		ans.Problems = []Problem{{Message: fmt.Sprintf(
			"the policies ran longer than the %s the sandbox allows and were stopped; look for a rule that iterates over very large or nested collections", req.Timeout)}}
	case err != nil:
		ans.Problems = problemsOf(err)
	default:
		ans.Found = found
	}
	if err := json.NewEncoder(stdout).Encode(ans); err != nil {
		fmt.Fprintln(os.Stderr, "policy sandbox: write answer:", err)
		return 2
	}
	return 0
}

// evaluateRequest compiles and evaluates what the parent sent.
func evaluateRequest(ctx context.Context, req sandboxRequest) ([]judged, error) {
	extra := fstest.MapFS{}
	for name, src := range req.Modules {
		extra[name] = &fstest.MapFile{Data: []byte(src), Mode: 0o444}
	}
	req.Settings = normalizeSettings(req.Settings)
	engine, err := New(ctx, Options{Settings: req.Settings, Extra: extra, Sandboxed: true})
	if err != nil {
		return nil, err
	}
	in := Input{Subjects: make([]Subject, len(req.Subjects)), Cost: req.Cost, Quotas: req.Quotas}
	for i, s := range req.Subjects {
		in.Subjects[i] = Subject{Object: &manifest.Object{ID: s.ID, Content: s.Content}, Context: s.Context}
	}
	return engine.judge(ctx, in)
}

// normalizeSettings turns the JSON numbers of decoded policy parameters
// into the numbers gitvend.yaml's decoder gives.
func normalizeSettings(p config.Policy) config.Policy {
	for id, set := range p.Policies {
		for k, v := range set.Params {
			set.Params[k] = normalize(v)
		}
		p.Policies[id] = set
	}
	return p
}

// problemsOf turns an engine error into problems at files and lines: each
// Rego error at its location, each settings error at its field of
// gitvend.yaml.
func problemsOf(err error) []Problem {
	var out []Problem
	var regoErrs ast.Errors
	if errors.As(err, &regoErrs) {
		for _, e := range regoErrs {
			p := Problem{Message: e.Message}
			if e.Location != nil {
				p.File, p.Line = e.Location.File, e.Location.Row
			}
			if e.Code != "" {
				p.Message = e.Code + ": " + e.Message
			}
			out = append(out, p)
		}
		return out
	}
	if fes := field.All(err); len(fes) > 0 {
		for _, e := range fes {
			msg := e.Msg
			if e.Field != "" {
				msg = e.Field + ": " + msg
			}
			out = append(out, Problem{File: config.RepoFile, Line: e.Line, Message: msg})
		}
		return out
	}
	// The loader's own findings read "load policies: FILE: what; FILE: what".
	if msg, ok := strings.CutPrefix(err.Error(), "load policies: "); ok {
		for _, part := range strings.Split(msg, "; ") {
			if m := filePrefix.FindStringSubmatch(part); m != nil {
				out = append(out, Problem{File: m[1], Message: m[2]})
				continue
			}
			out = append(out, Problem{Message: part})
		}
		return out
	}
	return []Problem{{Message: err.Error()}}
}

// filePrefix matches a message about a repository policy file.
var filePrefix = regexp.MustCompile(`^(` + regexp.QuoteMeta(extraPrefix) + `[^:\s]+\.rego): (.+)$`)
