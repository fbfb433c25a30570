//go:build windows

package restic

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// configureCmd starts restic in a new process group, so that a CTRL_BREAK event can be
// sent to it alone.
func configureCmd(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// interrupt sends CTRL_BREAK to restic's process group (Go programs such as restic see
// it as os.Interrupt, remove their lock and exit). Without a console to deliver it the
// call fails and restic is killed instead.
func interrupt(p *os.Process) error {
	proc := syscall.NewLazyDLL("kernel32.dll").NewProc("GenerateConsoleCtrlEvent")
	if err := proc.Find(); err == nil {
		if r, _, _ := proc.Call(uintptr(syscall.CTRL_BREAK_EVENT), uintptr(p.Pid)); r != 0 {
			return nil
		}
	}
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}
