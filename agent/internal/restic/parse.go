package restic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// maxLineBytes bounds one line of restic output; longer lines are cut (and logged as cut).
const maxLineBytes = 10 << 20

// message is one JSON line of restic's --json output, any version from 0.14 on.
type message struct {
	Type string `json:"message_type"`
	// status (backup, restore). 0.14/0.15 also send the verbose scan_finished message as
	// a "status" line; it has an action field and is not progress.
	Action           string   `json:"action"`
	PercentDone      float64  `json:"percent_done"`
	SecondsElapsed   int64    `json:"seconds_elapsed"`
	SecondsRemaining int64    `json:"seconds_remaining"`
	TotalFiles       int64    `json:"total_files"`
	FilesDone        int64    `json:"files_done"`
	TotalBytes       int64    `json:"total_bytes"`
	BytesDone        int64    `json:"bytes_done"`
	ErrorCount       int64    `json:"error_count"`
	CurrentFiles     []string `json:"current_files"`
	// restore's status and summary (0.16+) count restored files and bytes
	FilesRestored int64 `json:"files_restored"`
	BytesRestored int64 `json:"bytes_restored"`
	// error: backup's {"error": {}|{"message": …}|<serialised Go error>, "during", "item"};
	// check (0.18) uses a top-level "message".
	Error  json.RawMessage `json:"error"`
	During string          `json:"during"`
	Item   string          `json:"item"`
	// exit_error (0.18+, stderr) and error (check) carry Message; exit_error a Code.
	Code    int    `json:"code"`
	Message string `json:"message"`
	// initialized (init, 0.15+)
	ID string `json:"id"`
}

// parseMessage decodes a restic JSON line; ok is false for anything that is not a JSON
// object with a message_type (plain text, or JSON of another shape).
func parseMessage(line []byte) (message, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return message{}, false
	}
	var m message
	if err := json.Unmarshal(line, &m); err != nil || m.Type == "" {
		return message{}, false
	}
	return m, true
}

// isProgress reports whether the message is a real progress status line.
func (m message) isProgress() bool { return m.Type == "status" && m.Action == "" }

// errorText renders an error message of any version as one line of text.
func (m message) errorText() string {
	text := m.Message
	if text == "" {
		text = rawErrorText(m.Error)
	}
	text = strings.TrimSpace(text)
	switch {
	case m.Item != "" && text != "" && !strings.Contains(text, m.Item):
		text = fmt.Sprintf("%s: %s", m.Item, text)
	case m.Item != "" && text == "":
		text = m.Item
	}
	if m.During != "" {
		text = fmt.Sprintf("error during %s: %s", m.During, text)
	}
	if text == "" {
		text = "error"
	}
	return text
}

// rawErrorText reads restic's "error" field: {"message": …} from 0.17.1, a string, or a
// Go error serialised field by field before that ({} or {"Op":"read","Path":…,"Err":5}).
func rawErrorText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || len(obj) == 0 {
		return ""
	}
	if msg, ok := obj["message"]; ok && json.Unmarshal(msg, &s) == nil {
		return s
	}
	var op, path string
	_ = json.Unmarshal(obj["Op"], &op)
	_ = json.Unmarshal(obj["Path"], &path)
	if op != "" {
		// A *fs.PathError: Err is a syscall.Errno of this host's OS when it is a number.
		var errno uintptr
		if json.Unmarshal(obj["Err"], &errno) == nil && errno != 0 {
			return fmt.Sprintf("%s %s: %v", op, path, syscall.Errno(errno))
		}
		return fmt.Sprintf("%s %s failed", op, path)
	}
	return string(raw)
}

// toProgress converts a status line. BytesPerSecond is the average since restic started
// the backup; elapsed is the best lower bound we have of that time.
func toProgress(m message, now time.Time, elapsed time.Duration) protocol.Progress {
	secs := float64(m.SecondsElapsed)
	if e := elapsed.Seconds(); e > secs {
		secs = e
	}
	p := protocol.Progress{
		At:               now.UTC(),
		PercentDone:      m.PercentDone,
		FilesDone:        m.FilesDone,
		TotalFiles:       m.TotalFiles,
		BytesDone:        m.BytesDone,
		TotalBytes:       m.TotalBytes,
		SecondsElapsed:   m.SecondsElapsed,
		SecondsRemaining: m.SecondsRemaining,
		ErrorCount:       m.ErrorCount,
		CurrentFiles:     m.CurrentFiles,
	}
	p.FilesDone = max(p.FilesDone, m.FilesRestored)
	p.BytesDone = max(p.BytesDone, m.BytesRestored)
	if secs > 0 {
		p.BytesPerSecond = float64(p.BytesDone) / secs
	}
	return p
}

// snapshotJSON is one element of `snapshots --json` (and of forget's keep/remove lists).
type snapshotJSON struct {
	ID       string          `json:"id"`
	ShortID  string          `json:"short_id"`
	Time     time.Time       `json:"time"`
	Hostname string          `json:"hostname"`
	Username string          `json:"username"`
	Paths    []string        `json:"paths"`
	Tags     []string        `json:"tags"`
	Parent   string          `json:"parent"`
	Tree     string          `json:"tree"`
	Summary  json.RawMessage `json:"summary"`
}

func (s snapshotJSON) toProtocol() protocol.Snapshot {
	short := s.ShortID
	if short == "" && len(s.ID) >= 8 {
		short = s.ID[:8]
	}
	var summary json.RawMessage
	if len(s.Summary) > 0 && !bytes.Equal(s.Summary, []byte("null")) {
		summary = s.Summary
	}
	return protocol.Snapshot{
		ID: s.ID, ShortID: short, Time: s.Time, Hostname: s.Hostname, Username: s.Username,
		Paths: s.Paths, Tags: s.Tags, Parent: s.Parent, Tree: s.Tree, Summary: summary,
	}
}

// parseSnapshots reads `snapshots --json` of any version: 64-hex ids with 8-hex short
// ids; program_version (0.16+) and summary (0.17+) when present.
func parseSnapshots(out []byte) ([]protocol.Snapshot, error) {
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("parse snapshots --json: no JSON output")
	}
	var raw []snapshotJSON
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("parse snapshots --json: %w", err)
	}
	snaps := make([]protocol.Snapshot, 0, len(raw))
	for _, s := range raw {
		if s.ID == "" {
			return nil, fmt.Errorf("parse snapshots --json: a snapshot without an id")
		}
		snaps = append(snaps, s.toProtocol())
	}
	return snaps, nil
}

// forgetGroup is one element of `forget --json`.
type forgetGroup struct {
	Tags   []string       `json:"tags"`
	Host   string         `json:"host"`
	Paths  []string       `json:"paths"`
	Keep   []snapshotJSON `json:"keep"`
	Remove []snapshotJSON `json:"remove"`
}

// forgetSummary is the Result.Summary of a forget run.
type forgetSummary struct {
	Groups     int             `json:"groups"`
	Kept       int             `json:"kept"`
	Removed    int             `json:"removed"`
	KeptIDs    []string        `json:"kept_ids"`
	RemovedIDs []string        `json:"removed_ids"`
	Prune      json.RawMessage `json:"prune,omitempty"`
}

func parseForget(out []byte) (forgetSummary, error) {
	sum := forgetSummary{KeptIDs: []string{}, RemovedIDs: []string{}}
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return sum, nil
	}
	var groups []forgetGroup
	if err := json.Unmarshal(out, &groups); err != nil {
		return sum, fmt.Errorf("parse forget --json: %w", err)
	}
	sum.Groups = len(groups)
	for _, g := range groups {
		for _, s := range g.Keep {
			sum.KeptIDs = append(sum.KeptIDs, s.ID)
		}
		for _, s := range g.Remove {
			sum.RemovedIDs = append(sum.RemovedIDs, s.ID)
		}
	}
	sum.Kept, sum.Removed = len(sum.KeptIDs), len(sum.RemovedIDs)
	return sum, nil
}

// statsJSON is `stats --json` in any mode; the compression fields exist from 0.15 on
// (raw-data mode only).
type statsJSON struct {
	TotalSize              int64   `json:"total_size"`
	TotalUncompressedSize  int64   `json:"total_uncompressed_size"`
	CompressionRatio       float64 `json:"compression_ratio"`
	CompressionProgress    float64 `json:"compression_progress"`
	CompressionSpaceSaving float64 `json:"compression_space_saving"`
	TotalFileCount         int64   `json:"total_file_count"`
	TotalBlobCount         int64   `json:"total_blob_count"`
	SnapshotsCount         int64   `json:"snapshots_count"`
}

func parseStats(out []byte) (statsJSON, error) {
	var s statsJSON
	if len(out) == 0 {
		return s, fmt.Errorf("parse stats --json: no JSON output")
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &s); err != nil {
		return s, fmt.Errorf("parse stats --json: %w", err)
	}
	return s, nil
}

// lockJSON is the content of a lock file (`cat lock ID`).
type lockJSON struct {
	Time      time.Time `json:"time"`
	Exclusive bool      `json:"exclusive"`
	Hostname  string    `json:"hostname"`
	Username  string    `json:"username"`
	PID       int       `json:"pid"`
}

func (l lockJSON) describe() string {
	kind := "non-exclusive"
	if l.Exclusive {
		kind = "exclusive"
	}
	return fmt.Sprintf("%s lock by %s on host %s (pid %d) since %s", kind, l.Username, l.Hostname, l.PID, l.Time.UTC().Format(time.RFC3339))
}

var lockIDRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// parseLockIDs reads `list locks`: one 64-hex id a line.
func parseLockIDs(lines []string) []string {
	var ids []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); lockIDRE.MatchString(l) {
			ids = append(ids, l)
		}
	}
	return ids
}

var (
	// 0.14 text: "created restic repository 108a5ebc5e at /repo"
	initTextRE = regexp.MustCompile(`created restic repository ([0-9a-f]+) at`)
	// prune's statistics: "to repack:   0 blobs / 0 B", "unused size after prune: 0 B (…)"
	pruneStatRE = regexp.MustCompile(`^([a-z][a-z ]*[a-z]):\s+(\S.*)$`)
	// unlock: "successfully removed 1 locks" (0.14 prints no number)
	unlockRE = regexp.MustCompile(`successfully removed (\d+ )?locks`)
)

// parsePruneStats collects prune's "name: value" statistics lines.
func parsePruneStats(lines []string) map[string]string {
	stats := map[string]string{}
	for _, l := range lines {
		if m := pruneStatRE.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			stats[strings.ReplaceAll(m[1], " ", "_")] = strings.TrimSpace(m[2])
		}
	}
	return stats
}
