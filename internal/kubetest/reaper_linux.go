package kubetest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// reaperScript waits for the test process to exit and then kills every
// process whose command line names a path inside the control plane
// directory, and removes that directory. It only has work to do when the
// test process died without calling Stop, for example on a test timeout;
// otherwise Stop kills it first. The directory reaches it through the
// environment so that its own command line does not match.
const reaperScript = `
while kill -0 "$KUBETEST_PARENT" 2>/dev/null; do sleep 1; done
for p in /proc/[0-9]*; do
	case "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" in
	*"$KUBETEST_DIR/"*) kill -9 "${p#/proc/}" 2>/dev/null ;;
	esac
done
rm -rf "$KUBETEST_DIR"
`

// reaper is a watchdog process that cleans up a control plane left behind
// by a test process that exited without stopping it.
type reaper struct {
	cmd *exec.Cmd
}

// startReaper starts the watchdog for the control plane directory dir. It
// runs in its own process group so that an interrupt sent to the test's
// process group does not end it before it has cleaned up.
func startReaper(dir string) (*reaper, error) {
	cmd := exec.Command("/bin/sh", "-c", reaperScript)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"KUBETEST_PARENT=" + strconv.Itoa(os.Getpid()),
		"KUBETEST_DIR=" + dir,
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start control plane watchdog: %w", err)
	}
	return &reaper{cmd: cmd}, nil
}

// stop ends the watchdog without letting it clean up.
func (r *reaper) stop() {
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	_ = r.cmd.Wait()
}
