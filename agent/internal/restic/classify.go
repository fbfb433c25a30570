package restic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// outcome is what one restic invocation left behind.
type outcome struct {
	exitCode  int // -1 when restic was killed by a signal
	cancelled bool
	ctxErr    error

	stdout     []byte   // whole stdout, for commands whose stdout is one JSON document
	outLines   []string // the last text (non-JSON) lines of stdout
	errLines   []string // the last text (non-JSON) lines of stderr
	summary    json.RawMessage
	exitError  string   // message of 0.18's exit_error line
	errors     []string // the first JSON error messages
	errorCount int      // all JSON error messages
	initID     string   // id of an "initialized" message (init, 0.15+)
}

// diagnostic is the text that explains a failure: 0.18's exit_error message and the
// plain stderr lines (0.14 prints only those).
func (o *outcome) diagnostic() string {
	return strings.Join(append([]string{o.exitError}, o.errLines...), "\n")
}

var (
	lockHolderRE  = regexp.MustCompile(`repository is already locked (exclusively )?by PID (\d+) on (\S+) by (\S+)`)
	lockCreatedRE = regexp.MustCompile(`lock was created at (.+?) \(`)
)

// classify turns an exit code (0.17+) or restic's stderr text (0.14–0.16, which exit 1
// for everything) into a job status and a sentence for operators.
func classify(kind, repoURL string, o *outcome) (status, text string) {
	if o.cancelled {
		if errors.Is(o.ctxErr, context.DeadlineExceeded) {
			return protocol.JobCancelled, "timed out: restic was interrupted"
		}
		return protocol.JobCancelled, "cancelled: restic was interrupted"
	}
	switch {
	case o.exitCode == 0:
		return protocol.JobSucceeded, ""
	case o.exitCode == 3 && kind == protocol.KindBackup:
		return protocol.JobWarning, fmt.Sprintf("some source files could not be read (%d errors); the snapshot was made without them", max(o.errorCount, 1))
	}
	diag := o.diagnostic()
	switch {
	case o.exitCode == 12 || strings.Contains(diag, "wrong password or no key found"):
		return protocol.JobFailed, "wrong repository password"
	case o.exitCode == 10 || strings.Contains(diag, "unable to open config file") ||
		strings.Contains(diag, "Is there a repository at the following location?") ||
		strings.Contains(diag, "repository does not exist"):
		return protocol.JobFailed, fmt.Sprintf("no repository at %s (not initialised?)", displayURL(repoURL))
	case o.exitCode == 11 || strings.Contains(diag, "unable to create lock") ||
		strings.Contains(diag, "repository is already locked"):
		return protocol.JobFailed, lockError(diag)
	case strings.Contains(diag, "config file already exists"):
		return protocol.JobFailed, fmt.Sprintf("a repository already exists at %s", displayURL(repoURL))
	case o.exitCode == 130:
		return protocol.JobCancelled, "restic was interrupted"
	case o.exitCode == 2:
		return protocol.JobFailed, "restic crashed: " + fatalText(o)
	case o.exitCode < 0:
		return protocol.JobFailed, "restic was killed: " + fatalText(o)
	}
	return protocol.JobFailed, fatalText(o)
}

// lockError describes who holds the lock, from restic's message:
//
//	unable to create lock in backend: repository is already locked by PID 8412 on vm by root (UID 0, GID 0)
//	lock was created at 2026-11-26 06:29:30 (2.68s ago)
func lockError(diag string) string {
	m := lockHolderRE.FindStringSubmatch(diag)
	if m == nil {
		return "repository is locked by another restic process; run unlock if no restic runs on it any more"
	}
	text := fmt.Sprintf("repository is locked by host %s (pid %s)", m[3], m[2])
	if c := lockCreatedRE.FindStringSubmatch(diag); c != nil {
		text += " since " + c[1]
	}
	if m[1] != "" {
		text += " (exclusive lock)"
	}
	return text + "; run unlock if that process no longer runs"
}

// fatalText picks the most telling line restic printed: the exit_error message, else
// the last "Fatal:" line, else the last stderr line.
func fatalText(o *outcome) string {
	pick := ""
	if o.exitError != "" {
		pick = firstLine(o.exitError)
	} else {
		for i := len(o.errLines) - 1; i >= 0; i-- {
			l := strings.TrimSpace(o.errLines[i])
			if strings.HasPrefix(l, "Fatal:") {
				pick = l
				break
			}
			if pick == "" && l != "" {
				pick = l
			}
		}
	}
	pick = strings.TrimSpace(strings.TrimPrefix(pick, "Fatal:"))
	if pick == "" {
		return fmt.Sprintf("restic failed with exit code %d and no message", o.exitCode)
	}
	return pick
}
