package state

import (
	"fmt"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/fsutil"
)

// Fires remembers, per schedule, the last tick the agent handled (or, for a schedule
// never fired, when the agent first saw it). Safe for concurrent use.
type Fires struct {
	path string
	mu   sync.Mutex
	last map[string]time.Time
}

// Fires opens the fire record.
func (s *Store) Fires() (*Fires, error) {
	f := &Fires{path: s.file("fires.json"), last: map[string]time.Time{}}
	if _, err := fsutil.ReadJSON(f.path, &f.last); err != nil {
		return nil, err
	}
	return f, nil
}

// Last returns the last recorded tick of a schedule.
func (f *Fires) Last(scheduleID string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.last[scheduleID]
	return t, ok
}

// Set records a tick if it is later than the one recorded.
func (f *Fires) Set(scheduleID string, t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if old, ok := f.last[scheduleID]; ok && !t.After(old) {
		return nil
	}
	f.last[scheduleID] = t.UTC()
	return f.save()
}

// Keep forgets the schedules not in ids.
func (f *Fires) Keep(ids map[string]bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	changed := false
	for id := range f.last {
		if !ids[id] {
			delete(f.last, id)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return f.save()
}

func (f *Fires) save() error {
	if err := fsutil.WriteJSONAtomic(f.path, f.last, 0o600); err != nil {
		return fmt.Errorf("save fire times: %w", err)
	}
	return nil
}
