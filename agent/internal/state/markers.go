package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/fsutil"
)

// Marker phases.
const (
	MarkerQueued  = "queued"
	MarkerRunning = "running"
)

// Marker says that a job was accepted and has not finished yet. A marker found at
// start-up belongs to a job interrupted by an agent restart.
type Marker struct {
	JobID        string     `json:"job_id"`
	Kind         string     `json:"kind"`
	RepositoryID string     `json:"repository_id"`
	ScheduleID   string     `json:"schedule_id,omitempty"`
	Phase        string     `json:"phase"`
	QueuedAt     time.Time  `json:"queued_at"`
	StartedAt    *time.Time `json:"started_at,omitempty"`
	// LogLines is how many log lines the job had produced when the marker was last written.
	LogLines int64 `json:"log_lines,omitempty"`
}

func (s *Store) markerPath(jobID string) string {
	return filepath.Join(s.dir, "jobs", fileID(jobID)+".json")
}

// PutMarker writes or updates a job's marker.
func (s *Store) PutMarker(m Marker) error {
	if err := fsutil.WriteJSONAtomic(s.markerPath(m.JobID), m, 0o600); err != nil {
		return fmt.Errorf("write job marker: %w", err)
	}
	return nil
}

// DeleteMarker removes a job's marker once its finish is delivered or spooled.
func (s *Store) DeleteMarker(jobID string) error {
	err := os.Remove(s.markerPath(jobID))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove job marker: %w", err)
	}
	return nil
}

// Markers lists the markers on disk.
func (s *Store) Markers() ([]Marker, error) {
	dir := filepath.Join(s.dir, "jobs")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read job markers: %w", err)
	}
	var out []Marker
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read job marker: %w", err)
		}
		var m Marker
		if err := json.Unmarshal(data, &m); err != nil || m.JobID == "" {
			_ = os.Rename(filepath.Join(dir, e.Name()), filepath.Join(dir, e.Name()+".corrupt"))
			continue
		}
		out = append(out, m)
	}
	return out, nil
}
