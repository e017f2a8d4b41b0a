package deploy_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const installScript = "../.github/actions/gitvend-check/install.sh"

// release serves a GitHub release's download URLs: the archive of each
// platform (a gitvend that prints its version) and the checksums file.
type release struct {
	version string
	assets  map[string][]byte
}

func newRelease(t *testing.T, version string) *release {
	t.Helper()
	r := &release{version: version, assets: map[string][]byte{}}
	number := strings.TrimPrefix(version, "v")
	var sums strings.Builder
	for _, platform := range []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"} {
		name := fmt.Sprintf("gitvend_%s_%s.tar.gz", number, platform)
		r.assets[name] = tarball(t, map[string]string{
			"gitvend":   fmt.Sprintf("#!/bin/sh\necho gitvend %s %s\n", version, platform),
			"LICENSE":   "Apache License\n",
			"README.md": "# gitvend\n",
		})
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(r.assets[name]), name)
	}
	r.assets[fmt.Sprintf("gitvend_%s_checksums.txt", number)] = []byte(sums.String())
	return r
}

func (r *release) serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		prefix := "/gitvend/gitvend/releases/download/" + r.version + "/"
		data, ok := r.assets[strings.TrimPrefix(req.URL.Path, prefix)]
		if !strings.HasPrefix(req.URL.Path, prefix) || !ok {
			http.NotFound(w, req)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func tarball(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestInstallScript runs the action's install script against a release
// served locally: the runner's platform picks the archive, a checksum that
// does not match or is missing stops it, and versions or platforms it
// cannot serve are refused before any download.
func TestInstallScript(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the install script downloads with curl, which is not installed")
	}
	good := newRelease(t, "v0.3.0")
	tampered := newRelease(t, "v0.3.0")
	tampered.assets["gitvend_0.3.0_linux_amd64.tar.gz"] = tarball(t, map[string]string{"gitvend": "#!/bin/sh\necho evil\n"})
	unlisted := newRelease(t, "v0.3.0")
	unlisted.assets["gitvend_0.3.0_checksums.txt"] = []byte("0000  gitvend_0.3.0_darwin_arm64.tar.gz\n")

	tests := []struct {
		name               string
		rel                *release
		version, os, arch  string
		wantCode           int
		wantOut, wantError string
	}{
		{"linux amd64", good, "v0.3.0", "Linux", "X64", 0, "gitvend v0.3.0 linux_amd64", ""},
		{"linux arm64", good, "v0.3.0", "Linux", "ARM64", 0, "gitvend v0.3.0 linux_arm64", ""},
		{"macOS arm64", good, "v0.3.0", "macOS", "ARM64", 0, "gitvend v0.3.0 darwin_arm64", ""},
		{"checksum differs", tampered, "v0.3.0", "Linux", "X64", 1, "", "the release's checksums file says"},
		{"checksum missing", unlisted, "v0.3.0", "Linux", "X64", 1, "", "lists no checksum for gitvend_0.3.0_linux_amd64.tar.gz"},
		{"not a release", good, "main", "Linux", "X64", 2, "", "must be a release such as v0.1.0"},
		{"windows", good, "v0.3.0", "Windows", "X64", 2, "", "not Windows"},
		{"32-bit", good, "v0.3.0", "Linux", "X86", 2, "", "not X86"},
		{"no such release", good, "v9.9.9", "Linux", "X64", 22, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			pathFile := filepath.Join(tmp, "github_path")
			cmd := exec.Command("bash", installScript)
			cmd.Env = append(os.Environ(), "VERSION="+tt.version, "FROM_SOURCE=false", "RUNNER_OS="+tt.os, "RUNNER_ARCH="+tt.arch,
				"RUNNER_TEMP="+tmp, "GITHUB_PATH="+pathFile, "SERVER_URL="+tt.rel.serve(t))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			out := stdout.String() + stderr.String()
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tt.wantCode, out)
			}
			if tt.wantError != "" && !strings.Contains(out, "::error") || !strings.Contains(out, tt.wantError) {
				t.Errorf("output does not report %q:\n%s", tt.wantError, out)
			}
			path, _ := os.ReadFile(pathFile)
			if tt.wantCode != 0 {
				if len(path) != 0 {
					t.Errorf("a failed install added %q to the PATH", path)
				}
				return
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("the installed gitvend printed %q, want %q", out, tt.wantOut)
			}
			dir := strings.TrimSpace(string(path))
			if got, err := exec.Command(filepath.Join(dir, "gitvend")).Output(); err != nil || strings.TrimSpace(string(got)) != tt.wantOut {
				t.Errorf("gitvend in the PATH directory %s: %q, %v", dir, got, err)
			}
		})
	}
}

// TestInstallScriptShared: the reusable workflow runs the action's install
// script inline, word for word.
func TestInstallScriptShared(t *testing.T) {
	script, err := os.ReadFile(installScript)
	if err != nil {
		t.Fatal(err)
	}
	body := string(script)
	body = body[strings.Index(body, "set -euo pipefail"):]
	var w workflow
	readYAML(t, "../.github/workflows/gitvend-check.yml", &w)
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			if s.Name == "Install gitvend" {
				if strings.TrimSpace(s.Run) != strings.TrimSpace(body) {
					t.Error("the Install gitvend step of gitvend-check.yml differs from install.sh; copy the script from set -euo pipefail on")
				}
				return
			}
		}
	}
	t.Error("gitvend-check.yml has no Install gitvend step")
}
