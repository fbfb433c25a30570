//go:build unix

package restic

import (
	"os"
	"os/exec"
	"syscall"
)

// configureCmd puts restic in its own process group, so that a Ctrl-C in the agent's
// terminal reaches the agent only; the agent decides how restic is stopped.
func configureCmd(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// interrupt asks restic to stop: on SIGINT it removes its lock and exits without
// writing a snapshot.
func interrupt(p *os.Process) error {
	return p.Signal(os.Interrupt)
}
