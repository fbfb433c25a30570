package dispatch

import (
	"context"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Bounds of a restore.
const (
	maxRestorePaths = 1000
	maxRestorePath  = 4096
)

var snapshotIDRE = regexp.MustCompile(`^[0-9a-f]{8,64}$`)

// ValidateRestore checks a restore before it is queued: a snapshot id, an absolute
// target (the agent checks it again; restic writes only below it), absolute include
// paths inside the snapshot, exclude patterns, a known overwrite behaviour.
func ValidateRestore(r protocol.RestoreSpec) error {
	if !snapshotIDRE.MatchString(r.Snapshot) {
		return fieldErr("snapshot", "8 to 64 hex digits")
	}
	if r.Target == "" || !isAbs(r.Target) || strings.ContainsAny(r.Target, "\x00\n\r") || len(r.Target) > maxRestorePath {
		return fieldErr("target", "an absolute directory on the host (\"/\" restores to the original location)")
	}
	if len(r.Includes) > maxRestorePaths {
		return fieldErr("paths", "at most %d", maxRestorePaths)
	}
	for _, p := range r.Includes {
		if !strings.HasPrefix(p, "/") || path.Clean(p) != p || len(p) > maxRestorePath || hasControl(p) {
			return fieldErr("paths", "%q is not a clean absolute path inside the snapshot", p)
		}
	}
	if len(r.Excludes) > maxRestorePaths {
		return fieldErr("excludes", "at most %d", maxRestorePaths)
	}
	for _, e := range r.Excludes {
		if e == "" || len(e) > maxRestorePath || hasControl(e) {
			return fieldErr("excludes", "empty or invalid pattern")
		}
	}
	if r.Overwrite != "" && !slices.Contains(protocol.OverwriteModes, r.Overwrite) {
		return fieldErr("overwrite", "one of %s", strings.Join(protocol.OverwriteModes, ", "))
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// EnqueueRestore validates and queues a restore job on a host and wakes its poll.
func (d *Dispatcher) EnqueueRestore(ctx context.Context, hostID string, req store.RestoreRequest) (store.Job, error) {
	if err := ValidateRestore(req.Restore); err != nil {
		return store.Job{}, err
	}
	job, cmd, err := d.store.EnqueueRestore(ctx, hostID, req)
	if err != nil {
		return store.Job{}, err
	}
	d.publish(ctx, notify.Event{HostID: hostID, CommandID: cmd.ID})
	return job, nil
}
