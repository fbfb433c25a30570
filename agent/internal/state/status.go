package state

import (
	"path/filepath"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/fsutil"
)

// Daemon states shown by "agent status".
const (
	StateStarting   = "starting"
	StateConnecting = "connecting"
	StateOnline     = "online"
	StateOffline    = "offline"
	StateRevoked    = "credential_revoked"
	StateMismatch   = "protocol_mismatch"
	StateStopped    = "stopped"
)

// JobStatus is one job in the status file.
type JobStatus struct {
	JobID        string     `json:"job_id"`
	Kind         string     `json:"kind"`
	Repository   string     `json:"repository"`
	ScheduleID   string     `json:"schedule_id,omitempty"`
	Offline      bool       `json:"offline,omitempty"`
	QueuedAt     time.Time  `json:"queued_at"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
	PercentDone  float64    `json:"percent_done,omitempty"`
	BytesDone    int64      `json:"bytes_done,omitempty"`
	FilesDone    int64      `json:"files_done,omitempty"`
	LastProgress *time.Time `json:"last_progress,omitempty"`
}

// ScheduleStatus is one schedule in the status file.
type ScheduleStatus struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Kind     string     `json:"kind"`
	Cron     string     `json:"cron"`
	Timezone string     `json:"timezone,omitempty"`
	NextRun  *time.Time `json:"next_run,omitempty"`
	LastFire *time.Time `json:"last_fire,omitempty"`
}

// Status is what the daemon writes for "agent status".
type Status struct {
	PID             int              `json:"pid"`
	AgentVersion    string           `json:"agent_version"`
	ResticVersion   string           `json:"restic_version,omitempty"`
	ServerURL       string           `json:"server_url"`
	HostID          string           `json:"host_id"`
	StartedAt       time.Time        `json:"started_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
	State           string           `json:"state"`
	LastContact     *time.Time       `json:"last_contact,omitempty"`
	LastError       string           `json:"last_error,omitempty"`
	LastErrorAt     *time.Time       `json:"last_error_at,omitempty"`
	ScheduleVersion int64            `json:"schedule_version"`
	Schedules       []ScheduleStatus `json:"schedules,omitempty"`
	Running         []JobStatus      `json:"running,omitempty"`
	Queued          []JobStatus      `json:"queued,omitempty"`
	SpoolEntries    int              `json:"spool_entries"`
	SpoolBytes      int64            `json:"spool_bytes"`
}

// StatusPath is the status file of a state folder.
func StatusPath(stateDir string) string { return filepath.Join(stateDir, "status.json") }

// WriteStatus writes the status file (mode 0644: it holds no secret).
func (s *Store) WriteStatus(st *Status) error {
	return fsutil.WriteJSONAtomic(StatusPath(s.dir), st, 0o644)
}

// ReadStatus reads the status file of a state folder; false when there is none.
func ReadStatus(stateDir string) (*Status, bool, error) {
	var st Status
	ok, err := fsutil.ReadJSON(StatusPath(stateDir), &st)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &st, true, nil
}
