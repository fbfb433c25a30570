//go:build windows

package hooks

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

// interrupt kills the hook: Windows has no SIGTERM for console-less children.
func interrupt(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
