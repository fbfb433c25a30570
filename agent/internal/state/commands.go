package state

import (
	"fmt"
	"sync"

	"github.com/restic-manager/restic-manager/agent/internal/fsutil"
)

// How many command and job ids the dedupe file remembers.
const (
	maxRecentCommands = 2000
	maxRecentJobs     = 2000
)

// CommandRecord is what the agent answered to a command, so a redelivered duplicate
// gets the same answer.
type CommandRecord struct {
	ID     int64  `json:"id"`
	JobID  string `json:"job_id,omitempty"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

type commandsFile struct {
	Cursor   int64           `json:"cursor"`
	Commands []CommandRecord `json:"commands"`
	Jobs     []string        `json:"jobs"`
}

// Commands remembers the poll cursor, the commands already handled and the jobs
// already taken, across restarts. Safe for concurrent use.
type Commands struct {
	path string

	mu   sync.Mutex
	data commandsFile
	byID map[int64]int
	jobs map[string]bool
}

// Commands opens the dedupe record.
func (s *Store) Commands() (*Commands, error) {
	c := &Commands{path: s.file("commands.json"), byID: map[int64]int{}, jobs: map[string]bool{}}
	if _, err := fsutil.ReadJSON(c.path, &c.data); err != nil {
		return nil, err
	}
	c.index()
	return c, nil
}

func (c *Commands) index() {
	c.byID = make(map[int64]int, len(c.data.Commands))
	for i, r := range c.data.Commands {
		c.byID[r.ID] = i
	}
	c.jobs = make(map[string]bool, len(c.data.Jobs))
	for _, j := range c.data.Jobs {
		c.jobs[j] = true
	}
}

// Cursor is the last cursor the server sent.
func (c *Commands) Cursor() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.data.Cursor
}

// SetCursor stores the cursor.
func (c *Commands) SetCursor(cursor int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data.Cursor == cursor {
		return nil
	}
	c.data.Cursor = cursor
	return c.save()
}

// Seen returns the record of a command already handled.
func (c *Commands) Seen(id int64) (CommandRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.byID[id]
	if !ok {
		return CommandRecord{}, false
	}
	return c.data.Commands[i], true
}

// KnowsJob reports whether the agent has already taken this job (from a command or a
// schedule fire), so a second command.run for it is a duplicate.
func (c *Commands) KnowsJob(jobID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jobs[jobID]
}

// Record stores the answer to a command (and its job id as taken when accepted)
// durably, before the agent acts on it.
func (c *Commands) Record(r CommandRecord, takeJob bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.byID[r.ID]; ok {
		c.data.Commands[i] = r
	} else {
		c.data.Commands = append(c.data.Commands, r)
	}
	if takeJob && r.JobID != "" && !c.jobs[r.JobID] {
		c.data.Jobs = append(c.data.Jobs, r.JobID)
	}
	c.trim()
	return c.save()
}

// TakeJob marks a job as taken (a schedule fire's job).
func (c *Commands) TakeJob(jobID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.jobs[jobID] {
		return nil
	}
	c.data.Jobs = append(c.data.Jobs, jobID)
	c.trim()
	return c.save()
}

func (c *Commands) trim() {
	if n := len(c.data.Commands) - maxRecentCommands; n > 0 {
		c.data.Commands = append([]CommandRecord(nil), c.data.Commands[n:]...)
	}
	if n := len(c.data.Jobs) - maxRecentJobs; n > 0 {
		c.data.Jobs = append([]string(nil), c.data.Jobs[n:]...)
	}
	c.index()
}

func (c *Commands) save() error {
	if err := fsutil.WriteJSONAtomic(c.path, &c.data, 0o600); err != nil {
		return fmt.Errorf("save commands: %w", err)
	}
	return nil
}
