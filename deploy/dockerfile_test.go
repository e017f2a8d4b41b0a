package deploy_test

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gitvend/gitvend/deploy/internal/deploytest"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	line int
	cmd  string // upper case
	args string
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur *instruction
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if cur == nil && (text == "" || strings.HasPrefix(text, "#")) {
			continue
		}
		cont := strings.HasSuffix(text, "\\")
		text = strings.TrimSpace(strings.TrimSuffix(text, "\\"))
		if cur == nil {
			cmd, args, _ := strings.Cut(text, " ")
			out = append(out, instruction{line: n, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
			cur = &out[len(out)-1]
		} else {
			cur.args += " " + text
		}
		if !cont {
			cur = nil
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	pinnedImage = regexp.MustCompile(`^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$`)
	urlSource   = regexp.MustCompile(`(?i)(^|\s)(https?|git|ssh)://|git@`)
)

// TestDockerfile lints the image build: base images pinned, a multi-stage
// static build, a non-root final user, no downloads through ADD, and the
// entry point the deployment manifests rely on.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "../Dockerfile")
	stages := map[string]bool{}
	var froms []instruction
	user := ""
	for _, in := range ins {
		switch in.cmd {
		case "FROM":
			froms = append(froms, in)
			fields := strings.Fields(in.args)
			fields = slices.DeleteFunc(fields, func(f string) bool { return strings.HasPrefix(f, "--") })
			image := fields[0]
			if !stages[image] {
				tagged := strings.Contains(image[strings.LastIndex(image, "/")+1:], ":") || strings.Contains(image, "@sha256:")
				if !pinnedImage.MatchString(image) || !tagged || strings.HasSuffix(image, ":latest") {
					t.Errorf("line %d: FROM %s is not pinned by a version tag or digest", in.line, image)
				}
			}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				stages[fields[2]] = true
			}
			user = ""
		case "ADD":
			if urlSource.MatchString(in.args) {
				t.Errorf("line %d: ADD %s fetches from the network; download in a RUN step with a checksum, or COPY", in.line, in.args)
			}
		case "USER":
			user = in.args
		}
	}
	if len(froms) < 2 {
		t.Errorf("%d stages, want a build stage and a final stage", len(froms))
	}
	name, _, _ := strings.Cut(user, ":")
	if uid, err := strconv.Atoi(name); name == "" || name == "root" || err == nil && uid == 0 {
		t.Errorf("the final stage runs as user %q, want a non-root user such as 65532", user)
	}

	joined := map[string]string{}
	for _, in := range ins {
		joined[in.cmd] += in.args + "\n"
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w`, "internal/version.version=${VERSION}", "internal/version.commit=${COMMIT}", "./cmd/gitvend"} {
		if !strings.Contains(joined["RUN"]+joined["ENV"], want) {
			t.Errorf("the build does not use %s", want)
		}
	}
	if got := strings.TrimSpace(joined["ENTRYPOINT"]); got != `["/gitvend"]` {
		t.Errorf("ENTRYPOINT %s, want [\"/gitvend\"]", got)
	}
	if got, want := strings.TrimSpace(joined["CMD"]), `["serve", "--config", "`+deploytest.ConfigPath+`"]`; got != want {
		t.Errorf("CMD %s, want %s", got, want)
	}
	dockerignore(t, ins)
}

// dockerignore checks that .dockerignore excludes everything by default
// and lets in each source the build copies from the context.
func dockerignore(t *testing.T, ins []instruction) {
	t.Helper()
	data, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for line := range strings.Lines(string(data)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	if len(patterns) == 0 || patterns[0] != "*" {
		t.Fatalf(".dockerignore starts with %v, want * so that only listed paths enter the build context", patterns)
	}
	for _, in := range ins {
		fields := strings.Fields(in.args)
		if in.cmd != "COPY" || slices.ContainsFunc(fields, func(f string) bool { return strings.HasPrefix(f, "--from") }) {
			continue
		}
		for _, src := range fields[:len(fields)-1] {
			if !slices.Contains(patterns, "!"+src) && !slices.Contains(patterns, "!"+strings.TrimSuffix(src, "/")+"/") {
				t.Errorf("line %d: COPY %s, but .dockerignore keeps %s out of the build context", in.line, src, src)
			}
		}
	}
}
