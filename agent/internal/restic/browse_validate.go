package restic

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// Limits of browse specs.
const (
	maxBrowsePath    = 4096
	maxPatterns      = 20
	maxRestoreLists  = 1000
	maxChunkEntries  = 100_000
	defaultChunkSize = 1000
	defaultMaxResult = 1000
	maxMaxResults    = 100_000
)

var snapshotIDRE = regexp.MustCompile(`^[0-9a-f]{8,64}$`)

// ValidateBrowseSpec refuses a browse spec that is invalid or could make restic read
// or run anything but the repository: the same repository rules as ValidateSpec,
// snapshot ids of 8 to 64 hex digits, clean absolute snapshot paths, no control
// characters. Paths and patterns are passed after "--".
func ValidateBrowseSpec(spec protocol.BrowseSpec) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !slices.Contains(protocol.BrowseKinds, spec.Kind) {
		add("unknown browse kind %q", spec.Kind)
	}
	if err := checkText("request_id", spec.RequestID); err != nil {
		errs = append(errs, err)
	}
	if err := validateRepository(spec.Repository); err != nil {
		errs = append(errs, err)
	}
	needSnapshot := spec.Kind != protocol.BrowseFind
	if spec.Snapshot != "" || needSnapshot {
		if !snapshotIDRE.MatchString(spec.Snapshot) {
			add("snapshot %q: want 8 to 64 hex digits", spec.Snapshot)
		}
	}
	switch spec.Kind {
	case protocol.BrowseLs, protocol.BrowseDump:
		if err := checkSnapshotPath("path", spec.Path); err != nil {
			errs = append(errs, err)
		}
	case protocol.BrowseDiff:
		if !snapshotIDRE.MatchString(spec.Snapshot2) {
			add("snapshot2 %q: want 8 to 64 hex digits", spec.Snapshot2)
		}
	case protocol.BrowseFind:
		if len(spec.Patterns) == 0 || len(spec.Patterns) > maxPatterns {
			add("patterns: between 1 and %d", maxPatterns)
		}
		for i, p := range spec.Patterns {
			if err := checkText(fmt.Sprintf("patterns[%d]", i), p); err != nil {
				errs = append(errs, err)
			} else if len(p) > 1024 {
				add("patterns[%d]: at most 1024 bytes", i)
			}
		}
	}
	if spec.Archive != "" && spec.Archive != protocol.ArchiveTar && spec.Archive != protocol.ArchiveZip {
		add("archive %q: tar or zip", spec.Archive)
	}
	if spec.ChunkEntries < 0 || spec.ChunkEntries > maxChunkEntries {
		add("chunk_entries: between 0 and %d", maxChunkEntries)
	}
	if spec.MaxResults < 0 || spec.MaxResults > maxMaxResults {
		add("max_results: between 0 and %d", maxMaxResults)
	}
	if spec.MaxBytes < 0 {
		add("max_bytes: may not be negative")
	}
	return errors.Join(errs...)
}

// checkSnapshotPath accepts clean absolute paths as restic shows them inside a snapshot.
func checkSnapshotPath(field, p string) error {
	if err := checkText(field, p); err != nil {
		return err
	}
	if len(p) > maxBrowsePath {
		return fmt.Errorf("%s: at most %d bytes", field, maxBrowsePath)
	}
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return fmt.Errorf("%s %q: want a clean absolute path inside the snapshot (/home/a)", field, p)
	}
	return nil
}

// validateRestore checks a restore job's RestoreSpec: a snapshot id, an absolute target
// (restic writes nowhere else), include and exclude patterns without control characters,
// a known overwrite behaviour.
func validateRestore(r *protocol.RestoreSpec) error {
	if r == nil {
		return errors.New("restore: the job carries no restore spec")
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !snapshotIDRE.MatchString(r.Snapshot) {
		add("restore.snapshot %q: want 8 to 64 hex digits", r.Snapshot)
	}
	if err := checkText("restore.target", r.Target); err != nil {
		errs = append(errs, err)
	} else if !isAbsPath(r.Target) {
		add("restore.target %q: must be an absolute path", r.Target)
	}
	if len(r.Includes) > maxRestoreLists || len(r.Excludes) > maxRestoreLists {
		add("restore: at most %d includes and %d excludes", maxRestoreLists, maxRestoreLists)
	}
	for i, p := range r.Includes {
		if err := checkText(fmt.Sprintf("restore.includes[%d]", i), p); err != nil {
			errs = append(errs, err)
		}
	}
	for i, p := range r.Excludes {
		if err := checkText(fmt.Sprintf("restore.excludes[%d]", i), p); err != nil {
			errs = append(errs, err)
		}
	}
	if r.Overwrite != "" && !slices.Contains(protocol.OverwriteModes, r.Overwrite) {
		add("restore.overwrite %q: one of %s", r.Overwrite, strings.Join(protocol.OverwriteModes, ", "))
	}
	return errors.Join(errs...)
}
