package operatorapi

import (
	"encoding/json"
	"path"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/browse"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// The wire types of browsing, searching, diffing, restoring and downloading snapshots.

// DirEntry is one node of a snapshot's tree.
type DirEntry struct {
	Name        string    `json:"name" validate:"required"`
	Path        string    `json:"path" example:"/home/ada/notes.txt" validate:"required"`
	Type        string    `json:"type" example:"file" validate:"required"` // file, dir, symlink, dev, chardev, fifo, socket
	Size        int64     `json:"size" validate:"required"`                // files only; 0 for the rest
	Mode        uint32    `json:"mode" validate:"required"`
	Permissions string    `json:"permissions" example:"-rw-r--r--" validate:"required"`
	MTime       time.Time `json:"mtime" format:"date-time" validate:"required"`
	UID         uint32    `json:"uid" validate:"required"`
	GID         uint32    `json:"gid" validate:"required"`
} //@name DirEntry

func toDirEntry(dir string, e protocol.BrowseEntry) DirEntry {
	return DirEntry{Name: e.Name, Path: path.Join(dir, e.Name), Type: e.Type, Size: e.Size, Mode: e.Mode,
		Permissions: e.Permissions, MTime: e.MTime, UID: e.UID, GID: e.GID}
}

// DirPage is a page of a directory of a snapshot, in name order.
type DirPage struct {
	Snapshot string     `json:"snapshot" validate:"required"` // the full snapshot id
	Path     string     `json:"path" example:"/home/ada" validate:"required"`
	Total    int64      `json:"total" validate:"required"` // entries in the directory
	Items    []DirEntry `json:"items" validate:"required"`
	// NextCursor continues the listing; empty on the last page.
	NextCursor string `json:"next_cursor" validate:"required"`
	// Cached: answered from the server's cache, without asking the agent.
	Cached bool `json:"cached" validate:"required"`
	// Indexed: the snapshot's whole tree is cached (search works, no directory needs the agent).
	Indexed bool `json:"indexed" validate:"required"`
} //@name DirPage

// BrowsePending answers 202: the host's agent has not answered within the wait. Ask again
// (the same question joins the same request) after retry_after_seconds; the Retry-After
// header says the same.
type BrowsePending struct {
	RequestID         string `json:"request_id" format:"uuid" validate:"required"`
	Status            string `json:"status" enums:"pending,running" validate:"required"` // running: the agent answers
	RetryAfterSeconds int    `json:"retry_after_seconds" validate:"required"`
	Message           string `json:"message" validate:"required"`
} //@name BrowsePending

func toPending(p *browse.Pending) BrowsePending {
	msg := "the host's agent has not picked the request up yet (is it online?)"
	if p.Status == store.BrowseRunning {
		msg = "the host's agent is working on it"
	}
	return BrowsePending{RequestID: p.RequestID, Status: p.Status, RetryAfterSeconds: max(int(p.RetryAfter/time.Second), 1), Message: msg}
}

// SnapshotIndex is the state of a snapshot's index: its whole tree cached on the server
// for browsing without the agent and for name search.
type SnapshotIndex struct {
	Snapshot  string     `json:"snapshot" validate:"required"`
	State     string     `json:"state" enums:"none,building,ready,failed" validate:"required"`
	Error     string     `json:"error,omitempty"`
	RequestID string     `json:"request_id,omitempty"`
	IndexedAt *time.Time `json:"indexed_at,omitempty" format:"date-time"`
	Dirs      int64      `json:"dirs" validate:"required"`
	Entries   int64      `json:"entries" validate:"required"`
} //@name SnapshotIndex

func toSnapshotIndex(snap string, st browse.IndexStatus) SnapshotIndex {
	state := st.State
	if state == "" {
		state = "none"
	}
	return SnapshotIndex{Snapshot: snap, State: state, Error: st.Error, RequestID: st.RequestID, IndexedAt: st.IndexedAt, Dirs: st.Dirs, Entries: st.Entries}
}

// SearchPage is a page of index search hits, in path order.
type SearchPage struct {
	Items      []DirEntry `json:"items" validate:"required"`
	NextCursor string     `json:"next_cursor" validate:"required"`
} //@name SearchPage

// FindMatch is a node restic find matched.
type FindMatch struct {
	Snapshot string `json:"snapshot" validate:"required"`
	DirEntry
} //@name FindMatch

// FindPage is a page of find results.
type FindPage struct {
	Items      []FindMatch `json:"items" validate:"required"`
	NextCursor string      `json:"next_cursor" validate:"required"`
	Total      int64       `json:"total" validate:"required"`     // every match restic reported
	Truncated  bool        `json:"truncated" validate:"required"` // more matched than the server keeps
	Snapshots  int         `json:"snapshots" validate:"required"` // snapshots with a match
} //@name FindPage

// SnapshotChange is a path that differs between two snapshots: + added, - removed,
// M content changed, T type changed, U metadata changed (a directory ends with "/").
type SnapshotChange struct {
	Path     string `json:"path" validate:"required"`
	Modifier string `json:"modifier" enums:"+,-,M,T,U" validate:"required"`
} //@name SnapshotChange

// DiffPage is a page of the changes between two snapshots, with restic's totals.
type DiffPage struct {
	From       string           `json:"from" validate:"required"`
	To         string           `json:"to" validate:"required"`
	Items      []SnapshotChange `json:"items" validate:"required"`
	NextCursor string           `json:"next_cursor" validate:"required"`
	Total      int64            `json:"total" validate:"required"`
	Truncated  bool             `json:"truncated" validate:"required"`
	// Stats is restic's statistics: changed_files, added and removed {files, dirs,
	// others, data_blobs, tree_blobs, bytes}.
	Stats json.RawMessage `json:"stats,omitempty" swaggertype:"object"`
} //@name DiffPage

// RestoreRequest restores files of a snapshot as a job.
type RestoreRequest struct {
	// Paths inside the snapshot to restore (files or directories); empty: everything.
	Paths    []string `json:"paths,omitempty" example:"/home/ada/projects"`
	Excludes []string `json:"excludes,omitempty"` // restic exclude patterns
	// Target is an absolute directory on the host; empty or "/" restores to the original
	// location. restic recreates the snapshot's paths below it (/home/ada/projects ends
	// up in TARGET/home/ada/projects).
	Target string `json:"target,omitempty" example:"/srv/restore"`
	// Overwrite says what happens to existing files; restic before 0.17 knows only always.
	Overwrite string `json:"overwrite,omitempty" enums:"always,if-changed,if-newer,never"`
	// TargetHostID and TargetRepositoryID restore on another host that has the same
	// repository configured (it must list the snapshot).
	TargetHostID       string `json:"target_host_id,omitempty" format:"uuid"`
	TargetRepositoryID string `json:"target_repository_id,omitempty" format:"uuid"`
} //@name RestoreRequest

// DownloadCreate asks for a file, or a directory as an archive.
type DownloadCreate struct {
	Path    string `json:"path" example:"/home/ada/notes.txt" validate:"required"`
	Archive string `json:"archive,omitempty" enums:"tar,zip"` // for a directory; default tar
} //@name DownloadCreate

// Download is a file or archive the host's agent sends through the server.
type Download struct {
	ID           string `json:"id" format:"uuid" validate:"required"`
	HostID       string `json:"host_id" format:"uuid" validate:"required"`
	RepositoryID string `json:"repository_id" format:"uuid" validate:"required"`
	Snapshot     string `json:"snapshot" validate:"required"`
	Path         string `json:"path" validate:"required"`
	Archive      string `json:"archive,omitempty"`
	// Name is the file name the browser saves (known once the agent started).
	Name   string `json:"name" validate:"required"`
	Status string `json:"status" enums:"pending,running,succeeded,failed,cancelled" validate:"required"`
	// Type is file or dir once the agent started.
	Type      string `json:"type,omitempty" enums:"file,dir"`
	ErrorCode string `json:"error_code,omitempty"`
	Error     string `json:"error,omitempty"`
	// Size is known for a file once the agent started, for an archive once complete.
	Size     *int64 `json:"size,omitempty"`
	Received int64  `json:"received" validate:"required"` // bytes the server holds
	MaxBytes int64  `json:"max_bytes" validate:"required"`
	// SHA256 of the whole download, once complete.
	SHA256    string     `json:"sha256,omitempty"`
	CreatedAt time.Time  `json:"created_at" format:"date-time" validate:"required"`
	ExpiresAt time.Time  `json:"expires_at" format:"date-time" validate:"required"` // its bytes are deleted then
	Consumed  *time.Time `json:"consumed_at,omitempty" format:"date-time"`
} //@name Download

func toDownload(d store.Download, r store.BrowseRequest) Download {
	return Download{ID: d.ID, HostID: r.HostID, RepositoryID: r.RepositoryID, Snapshot: d.SnapshotID, Path: d.Path,
		Archive: d.Archive, Name: browse.FileName(d), Status: r.Status, Type: d.NodeType, ErrorCode: r.ErrorCode, Error: r.Error,
		Size: d.TotalSize, Received: d.Received, MaxBytes: d.MaxBytes, SHA256: d.SHA256, CreatedAt: r.CreatedAt,
		ExpiresAt: d.ExpiresAt, Consumed: d.ConsumedAt}
}

// DownloadTicket authorises one GET of a download's content: the URL works once, within
// a few minutes, with no other credential (a browser can follow it). To resume an
// interrupted download, get a new ticket and send a Range header.
type DownloadTicket struct {
	Ticket    string    `json:"ticket" validate:"required"`
	URL       string    `json:"url" example:"/api/v1/downloads/6f1c…/content?ticket=rmdl_…" validate:"required"`
	ExpiresAt time.Time `json:"expires_at" format:"date-time" validate:"required"`
} //@name DownloadTicket

// DownloadCreated is a new download with its first ticket.
type DownloadCreated struct {
	Download Download       `json:"download" validate:"required"`
	Ticket   DownloadTicket `json:"ticket" validate:"required"`
} //@name DownloadCreated
