package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := &debug.BuildInfo{
		Main:     debug.Module{Path: "github.com/gitvend/gitvend", Version: "v0.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}},
	}
	devel := &debug.BuildInfo{Main: debug.Module{Path: "github.com/gitvend/gitvend", Version: "(devel)"}}
	for _, tc := range []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		want            string
	}{
		{"stamped release", "v0.3.1", "fedcba9876543210fedcba9876543210fedcba98", vcs, "v0.3.1 fedcba987654"},
		{"go install", "", "", vcs, "v0.2.0 0123456789ab"},
		{"stamped version, commit from vcs", "v0.3.1", "", vcs, "v0.3.1 0123456789ab"},
		{"checkout without vcs", "", "", devel, "(devel)"},
		{"no build info", "", "", nil, "(devel)"},
		{"short commit", "v1.0.0", "abc", nil, "v1.0.0 abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolve(tc.version, tc.commit, tc.bi).String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLdflags builds gitvend the way the release does and runs
// `gitvend version`: the stamps reach the output.
func TestLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gitvend binary")
	}
	bin := filepath.Join(t.TempDir(), "gitvend")
	const pkg = "github.com/gitvend/gitvend/internal/version"
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X "+pkg+".version=v9.8.7 -X "+pkg+".commit=0123456789abcdef0123456789abcdef01234567",
		"github.com/gitvend/gitvend/cmd/gitvend")
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("gitvend version: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "gitvend v9.8.7 0123456789ab"; got != want {
		t.Errorf("gitvend version printed %q, want %q", got, want)
	}
}
