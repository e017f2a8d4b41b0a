package kubetest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// BinDirEnv names the environment variable that, when set, overrides the
// directory holding kube-apiserver, etcd and kubectl.
const BinDirEnv = "GITVEND_KUBE_BIN"

// rootModule is the module path whose go.mod marks the repository root.
const rootModule = "github.com/gitvend/gitvend"

// BinDir returns the directory holding kube-apiserver, etcd and kubectl:
// $GITVEND_KUBE_BIN when set, otherwise bin/ at the repository root, found by
// walking up from the working directory to the go.mod of module
// github.com/gitvend/gitvend.
func BinDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", BinDirEnv, err)
		}
		return abs, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("get working directory: %w", err)
	}
	root, err := findRepoRoot(wd)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin"), nil
}

// findRepoRoot walks up from dir to the directory whose go.mod declares the
// root module; go.mod files of nested modules such as tools/kubeenv are passed
// over.
func findRepoRoot(dir string) (string, error) {
	for d := dir; ; {
		mod, err := modulePath(filepath.Join(d, "go.mod"))
		if err != nil {
			return "", err
		}
		if mod == rootModule {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("find repository root: no go.mod of module %s above %s (set %s)", rootModule, dir, BinDirEnv)
		}
		d = parent
	}
}

// modulePath returns the module path declared in the go.mod file at path, or
// "" when there is no such file.
func modulePath(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("open go.mod: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			if i := strings.Index(rest, "//"); i >= 0 {
				rest = rest[:i]
			}
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return "", nil
}

// MissingBinaryError reports control plane binaries that are not in the
// binary directory.
type MissingBinaryError struct {
	// Dir is the directory that was searched.
	Dir string
	// Missing names the executables that were not found there.
	Missing []string
}

// Error implements error.
func (e *MissingBinaryError) Error() string {
	return fmt.Sprintf("%s not built in %s: run make kube (tools/kubeenv/build.sh)", strings.Join(e.Missing, ", "), e.Dir)
}

// CheckBinaries returns a *MissingBinaryError when dir lacks kube-apiserver,
// etcd or kubectl, or when one of them is not executable.
func CheckBinaries(dir string) error {
	var missing []string
	for _, name := range []string{"kube-apiserver", "etcd", "kubectl"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return &MissingBinaryError{Dir: dir, Missing: missing}
	}
	return nil
}
