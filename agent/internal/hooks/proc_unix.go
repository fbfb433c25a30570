//go:build !windows

package hooks

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the hook in its own process group so a stop reaches its children.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// interrupt sends SIGTERM to the hook's process group; WaitDelay kills it later.
func interrupt(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
}
