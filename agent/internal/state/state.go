// Package state keeps the agent's durable state in its state folder:
//
//	commands.json       poll cursor, recently seen command ids (dedupe), recent job ids
//	schedules.json      the last applied schedule set (mode 0600: it holds repository secrets)
//	fires.json          the last fire time of each schedule (for anacron-like catch-up)
//	agent-config.json   the last applied server-side agent config
//	jobs/<id>.json      a marker per accepted job that has not finished yet
//	status.json         what the daemon is doing, read by "agent status"
//	spool/              undelivered reports (package spool)
//
// Every file is written atomically (temporary file, fsync, rename).
package state

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/restic-manager/restic-manager/agent/internal/fsutil"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// Store is the state folder.
type Store struct {
	dir string
}

// Open creates the state folder and its sub-folders, and makes them mode 0700: they
// hold repository secrets.
func Open(dir string) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "jobs"), filepath.Join(dir, "spool")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create state folder: %w", err)
		}
	}
	// The folder holds repository secrets: owner (root / SYSTEM and Administrators) only.
	if err := fsutil.RestrictToAdmins(dir); err != nil {
		return nil, fmt.Errorf("state folder: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the state folder.
func (s *Store) Dir() string { return s.dir }

// SpoolDir is where the spool lives.
func (s *Store) SpoolDir() string { return filepath.Join(s.dir, "spool") }

func (s *Store) file(name string) string { return filepath.Join(s.dir, name) }

// ScheduleSet returns the cached schedule set, or nil when none was applied yet.
func (s *Store) ScheduleSet() (*protocol.ScheduleSet, error) {
	var set protocol.ScheduleSet
	ok, err := fsutil.ReadJSON(s.file("schedules.json"), &set)
	if err != nil || !ok {
		return nil, err
	}
	return &set, nil
}

// SaveScheduleSet caches a schedule set (mode 0600).
func (s *Store) SaveScheduleSet(set *protocol.ScheduleSet) error {
	return fsutil.WriteJSONAtomic(s.file("schedules.json"), set, 0o600)
}

// AgentConfig returns the cached server-side config, or nil.
func (s *Store) AgentConfig() (*protocol.AgentConfig, error) {
	var c protocol.AgentConfig
	ok, err := fsutil.ReadJSON(s.file("agent-config.json"), &c)
	if err != nil || !ok {
		return nil, err
	}
	return &c, nil
}

// SaveAgentConfig caches the server-side config.
func (s *Store) SaveAgentConfig(c *protocol.AgentConfig) error {
	return fsutil.WriteJSONAtomic(s.file("agent-config.json"), c, 0o600)
}

var plainID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// fileID makes an id safe as a file name on every platform.
func fileID(id string) string {
	if plainID.MatchString(id) {
		return id
	}
	return "x" + hex.EncodeToString([]byte(id))
}
