package protocol

import (
	"encoding/json"
	"time"
)

// Browsing, searching, diffing, downloading and restoring through the pull-based agent.
//
// The agent still only makes outbound requests. The server asks for a listing, a search,
// a diff or a download with a command.browse on the long poll (delivered, leased and
// acknowledged like every command). The agent runs restic for it outside its per-repository
// job queue (read-only, with --no-lock, a few at a time) and posts the outcome back:
//
//   - ls and index: directory parts to POST /browse/{id}/dirs, then POST /browse/{id}/finish.
//     A part holds at most BrowseSpec.ChunkEntries entries of one directory, in restic's
//     (name) order, and starts at a multiple of ChunkEntries: parts are idempotent
//     (the server keys them by directory and offset), so a repeated batch is harmless.
//     The last part of a directory says so and carries the directory's entry count.
//   - find and diff: the result in the finish report.
//   - dump: POST /downloads/{id}/start (what the path is), the bytes to
//     POST /downloads/{id}/chunks?offset=N (raw body, in order; a repeat of bytes the
//     server already has is answered with its offset and ignored; an offset beyond what
//     it has is answered 409 offset_mismatch and the dump fails),
//     then POST /browse/{id}/finish with the size and SHA-256 of what was sent.
//
// Every answer carries BrowseAck: Cancel tells the agent to stop (the request was
// cancelled, expired, or went over a limit). Browse reports are not spooled: their
// outcome only matters while an operator waits for it.
//
// A restore is an ordinary job (kind "restore", RunSpec.Restore) with progress and logs.

// CommandBrowse asks the agent to run one browse operation (Command.Browse).
const CommandBrowse = "command.browse"

// KindRestore restores files of a snapshot (RunSpec.Restore).
const KindRestore = "restore"

// Browse operation kinds.
const (
	BrowseLs    = "ls"    // one directory: its direct children
	BrowseIndex = "index" // the whole tree (ls --recursive), for name search without restic
	BrowseFind  = "find"  // restic find: one snapshot, or every snapshot of the repository
	BrowseDiff  = "diff"  // restic diff between Snapshot and Snapshot2
	BrowseDump  = "dump"  // restic dump: a file, or a directory as a tar or zip archive
)

// BrowseKinds lists every browse operation.
var BrowseKinds = []string{BrowseLs, BrowseIndex, BrowseFind, BrowseDiff, BrowseDump}

// Browse statuses of the finish report.
const (
	BrowseSucceeded = "succeeded"
	BrowseFailed    = "failed"
	BrowseCancelled = "cancelled"
)

// Error codes of a failed browse operation (BrowseFinish.ErrorCode).
const (
	BrowseErrNotFound = "not_found"     // the path is not in the snapshot (or the snapshot is unknown)
	BrowseErrNotDir   = "not_directory" // ls of a path that is not a directory
	BrowseErrTooLarge = "too_large"     // dump over BrowseSpec.MaxBytes
	BrowseErrRestic   = "restic_failed" // restic failed; Error says why
)

// Archive formats of a directory dump.
const (
	ArchiveTar = "tar"
	ArchiveZip = "zip"
)

// Restore overwrite behaviours. Only "always" exists before restic 0.17.
const (
	OverwriteAlways    = "always"
	OverwriteIfChanged = "if-changed"
	OverwriteIfNewer   = "if-newer"
	OverwriteNever     = "never"
)

// OverwriteModes lists the overwrite behaviours.
var OverwriteModes = []string{OverwriteAlways, OverwriteIfChanged, OverwriteIfNewer, OverwriteNever}

// BrowseSpec is one browse operation (Command.Browse). Snapshot ids are 8 to 64 hex digits;
// paths are absolute paths inside the snapshot, as restic shows them ("/home/a", "/C/Users").
type BrowseSpec struct {
	RequestID  string     `json:"request_id"`
	Kind       string     `json:"kind" enums:"ls,index,find,diff,dump"`
	Repository Repository `json:"repository"`
	// Snapshot: ls, index, dump, diff (from); find: optional (empty: every snapshot).
	Snapshot string `json:"snapshot,omitempty"`
	// Snapshot2 is the diff's second snapshot (to).
	Snapshot2 string `json:"snapshot2,omitempty"`
	// Path: ls (a directory) and dump (a file or a directory).
	Path string `json:"path,omitempty"`
	// Patterns: find (restic's glob patterns on names; several match any).
	Patterns []string `json:"patterns,omitempty"`
	// Archive: dump of a directory, tar (default) or zip.
	Archive string `json:"archive,omitempty" enums:"tar,zip"`
	// ChunkEntries: ls and index, the most entries of one directory part (default 1000).
	ChunkEntries int `json:"chunk_entries,omitempty"`
	// MaxResults: find and diff, the most matches or changes reported (the rest is counted).
	MaxResults int `json:"max_results,omitempty"`
	// MaxBytes: dump, the most bytes sent; beyond it the dump fails with too_large.
	MaxBytes int64 `json:"max_bytes,omitempty"`
}

// BrowseEntry is one node of a snapshot's tree.
type BrowseEntry struct {
	Name        string    `json:"name"`
	Type        string    `json:"type" example:"file"` // file, dir, symlink, dev, chardev, fifo, socket
	Size        int64     `json:"size,omitempty"`
	Mode        uint32    `json:"mode,omitempty"`
	Permissions string    `json:"permissions,omitempty" example:"-rw-r--r--"`
	MTime       time.Time `json:"mtime"`
	UID         uint32    `json:"uid,omitempty"`
	GID         uint32    `json:"gid,omitempty"`
}

// BrowseDirPart is a run of entries of one directory, starting at Offset.
type BrowseDirPart struct {
	Path    string        `json:"path"`
	Offset  int64         `json:"offset"`
	Entries []BrowseEntry `json:"entries"`
	// Last marks the directory's final part; Total is then its number of entries.
	Last  bool  `json:"last,omitempty"`
	Total int64 `json:"total,omitempty"`
}

// BrowseDirBatch carries directory parts. POST /api/v1/agent/browse/{id}/dirs.
type BrowseDirBatch struct {
	Dirs []BrowseDirPart `json:"dirs"`
}

// BrowseAck answers every browse report.
type BrowseAck struct {
	// Cancel asks the agent to stop the operation.
	Cancel bool `json:"cancel"`
}

// BrowseMatch is a node found by find, with its full path and snapshot.
type BrowseMatch struct {
	Snapshot string `json:"snapshot"`
	Path     string `json:"path"`
	BrowseEntry
}

// FindResult is the outcome of a find.
type FindResult struct {
	Matches []BrowseMatch `json:"matches"`
	// Total counts every match; more than len(Matches) when MaxResults cut the list.
	Total     int64 `json:"total"`
	Truncated bool  `json:"truncated"`
	// Snapshots is how many snapshots had a match.
	Snapshots int `json:"snapshots"`
}

// DiffChange is one changed path: + added, - removed, M content changed, T type changed,
// U metadata changed (restic's modifiers; a directory path ends with "/").
type DiffChange struct {
	Path     string `json:"path"`
	Modifier string `json:"modifier" example:"M"`
}

// DiffResult is the outcome of a diff.
type DiffResult struct {
	Changes   []DiffChange `json:"changes"`
	Total     int64        `json:"total"`
	Truncated bool         `json:"truncated"`
	// Stats is restic's statistics line (changed_files, added and removed counts and
	// bytes), as printed.
	Stats json.RawMessage `json:"stats,omitempty" swaggertype:"object"`
}

// BrowseFinish ends a browse operation. POST /api/v1/agent/browse/{id}/finish. The first
// finish wins; a repeat is harmless.
type BrowseFinish struct {
	Status    string `json:"status" enums:"succeeded,failed,cancelled"`
	ErrorCode string `json:"error_code,omitempty"`
	Error     string `json:"error,omitempty"`
	ExitCode  int    `json:"exit_code"`
	// ls and index: what was sent.
	Dirs    int64       `json:"dirs,omitempty"`
	Entries int64       `json:"entries,omitempty"`
	Find    *FindResult `json:"find,omitempty"`
	Diff    *DiffResult `json:"diff,omitempty"`
	// dump: bytes sent and their SHA-256 (hex).
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// DownloadStart says what a dump is about to send. POST /api/v1/agent/downloads/{id}/start.
type DownloadStart struct {
	// Type is the node's type: file (raw bytes) or dir (an archive).
	Type string `json:"type" enums:"file,dir"`
	// Size is the file's size (a directory's archive size is not known in advance: 0).
	Size int64 `json:"size"`
}

// DownloadChunkAck answers a chunk: Offset is how many bytes the server holds.
type DownloadChunkAck struct {
	BrowseAck
	Offset int64 `json:"offset"`
}

// RestoreSpec is what a restore job restores (RunSpec.Restore).
type RestoreSpec struct {
	Snapshot string `json:"snapshot"`
	// Target is an absolute directory; "/" restores to the original location.
	Target string `json:"target"`
	// Includes are absolute paths (or restic include patterns) to restore; empty: all.
	Includes []string `json:"includes,omitempty"`
	Excludes []string `json:"excludes,omitempty"`
	// Overwrite is one of OverwriteModes; empty means always.
	Overwrite string `json:"overwrite,omitempty" enums:"always,if-changed,if-newer,never"`
}

// Paths of the browse endpoints of the agent API.
const (
	PathBrowseDirs     = "/api/v1/agent/browse/{id}/dirs"
	PathBrowseFinish   = "/api/v1/agent/browse/{id}/finish"
	PathDownloadStart  = "/api/v1/agent/downloads/{id}/start"
	PathDownloadChunks = "/api/v1/agent/downloads/{id}/chunks"
)

// QueryOffset is the byte offset of a download chunk.
const QueryOffset = "offset"

// CodeOffsetMismatch answers a download chunk that does not continue what the server holds.
const CodeOffsetMismatch = "offset_mismatch"
