// Package spool keeps the reports the agent could not deliver on disk, one file per
// report, named by a monotonically increasing sequence number, written with fsync, so
// that they survive a restart and are flushed in the order they were made.
//
// Every entry has an ordering key (a job id, "repo:<id>", ...). The daemon sends a new
// report directly only when no entry with its key is spooled, so the reports of one
// job (fire, start, logs, finish) always reach the server in order.
//
// The spool is bounded: once it holds MaxBytes, droppable entries (log batches) are
// refused; terminal reports are always accepted.
package spool

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/fsutil"
)

// ErrFull is returned when a droppable entry does not fit.
var ErrFull = errors.New("spool is full")

// Entry kinds.
const (
	KindScheduleFire = "schedule_fire"
	KindScheduleAck  = "schedule_ack"
	KindJobStart     = "job_start"
	KindJobLogs      = "job_logs"
	KindJobFinish    = "job_finish"
	KindSnapshots    = "repo_snapshots"
	KindStats        = "repo_stats"
)

// Entry is one undelivered report.
type Entry struct {
	Seq       int64           `json:"seq"`
	Kind      string          `json:"kind"`
	Key       string          `json:"key"`          // ordering key
	ID        string          `json:"id,omitempty"` // path parameter: job, schedule or repository id
	Body      json.RawMessage `json:"body"`         // the request body
	CreatedAt time.Time       `json:"created_at"`   // when it was spooled
	Droppable bool            `json:"droppable"`    // may be refused when the spool is full
	Replaces  bool            `json:"replaces"`     // a newer entry of the same kind and key makes it obsolete
}

// Options bound the spool.
type Options struct {
	MaxBytes int64 // default 256 MiB
}

type meta struct {
	seq  int64
	key  string
	kind string
	size int64
	repl bool
}

// Spool is safe for concurrent use.
type Spool struct {
	dir      string
	maxBytes int64

	mu    sync.Mutex
	next  int64
	metas []meta // ordered by seq
	bytes int64
}

const suffix = ".json"

// Open opens (creating) the spool folder and indexes the entries in it.
func Open(dir string, opts Options) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool: %w", err)
	}
	s := &Spool{dir: dir, maxBytes: opts.MaxBytes, next: 1}
	if s.maxBytes <= 0 {
		s.maxBytes = 256 << 20
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read spool: %w", err)
	}
	for _, de := range names {
		name := de.Name()
		if strings.HasPrefix(name, ".") {
			_ = os.Remove(filepath.Join(dir, name)) // a temporary file left by a crash
			continue
		}
		seq, err := strconv.ParseInt(strings.TrimSuffix(name, suffix), 10, 64)
		if err != nil || !strings.HasSuffix(name, suffix) {
			continue
		}
		e, err := s.read(seq)
		if err != nil {
			// A corrupt entry cannot be sent; keep it aside for a human.
			_ = os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+".corrupt"))
			continue
		}
		info, _ := de.Info()
		size := int64(0)
		if info != nil {
			size = info.Size()
		}
		s.metas = append(s.metas, meta{seq: seq, key: e.Key, kind: e.Kind, size: size, repl: e.Replaces})
		s.bytes += size
		if seq >= s.next {
			s.next = seq + 1
		}
	}
	sort.Slice(s.metas, func(i, j int) bool { return s.metas[i].seq < s.metas[j].seq })
	return s, nil
}

func (s *Spool) path(seq int64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, suffix))
}

// Append stores e durably and returns it with its sequence number. A Replaces entry
// removes older entries of the same kind and key.
func (s *Spool) Append(e Entry) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	e.Seq = s.next
	data, err := json.Marshal(e)
	if err != nil {
		return e, fmt.Errorf("encode spool entry: %w", err)
	}
	if e.Droppable && s.bytes+int64(len(data)) > s.maxBytes {
		return e, ErrFull
	}
	if err := fsutil.WriteFileAtomic(s.path(e.Seq), data, 0o600); err != nil {
		return e, fmt.Errorf("spool %s: %w", e.Kind, err)
	}
	s.next++
	if e.Replaces {
		kept := s.metas[:0]
		for _, m := range s.metas {
			if m.repl && m.kind == e.Kind && m.key == e.Key {
				_ = os.Remove(s.path(m.seq))
				s.bytes -= m.size
				continue
			}
			kept = append(kept, m)
		}
		s.metas = kept
	}
	s.metas = append(s.metas, meta{seq: e.Seq, key: e.Key, kind: e.Kind, size: int64(len(data)), repl: e.Replaces})
	s.bytes += int64(len(data))
	return e, nil
}

// HasKey reports whether an entry with this ordering key is spooled.
func (s *Spool) HasKey(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.metas {
		if m.key == key {
			return true
		}
	}
	return false
}

// Len is the number of spooled entries.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.metas)
}

// Bytes is the spooled size.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// First returns the oldest entry, or false when the spool is empty.
func (s *Spool) First() (Entry, bool, error) {
	s.mu.Lock()
	if len(s.metas) == 0 {
		s.mu.Unlock()
		return Entry{}, false, nil
	}
	seq := s.metas[0].seq
	s.mu.Unlock()
	e, err := s.read(seq)
	if err != nil {
		return Entry{}, false, err
	}
	return e, true, nil
}

// Entries returns all entries in order.
func (s *Spool) Entries() ([]Entry, error) {
	s.mu.Lock()
	seqs := make([]int64, len(s.metas))
	for i, m := range s.metas {
		seqs[i] = m.seq
	}
	s.mu.Unlock()
	out := make([]Entry, 0, len(seqs))
	for _, seq := range seqs {
		e, err := s.read(seq)
		if errors.Is(err, os.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Remove deletes a delivered (or undeliverable) entry.
func (s *Spool) Remove(seq int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.metas {
		if m.seq != seq {
			continue
		}
		if err := os.Remove(s.path(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove spool entry: %w", err)
		}
		s.bytes -= m.size
		s.metas = append(s.metas[:i], s.metas[i+1:]...)
		return nil
	}
	return nil
}

// Rewrite replaces the stored content of an entry (same seq), e.g. to give the
// reports of a job the job id the server answered with.
func (s *Spool) Rewrite(e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.metas {
		if m.seq != e.Seq {
			continue
		}
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode spool entry: %w", err)
		}
		if err := fsutil.WriteFileAtomic(s.path(e.Seq), data, 0o600); err != nil {
			return fmt.Errorf("rewrite spool entry: %w", err)
		}
		s.bytes += int64(len(data)) - m.size
		s.metas[i] = meta{seq: e.Seq, key: e.Key, kind: e.Kind, size: int64(len(data)), repl: e.Replaces}
		return nil
	}
	return os.ErrNotExist
}

func (s *Spool) read(seq int64) (Entry, error) {
	data, err := os.ReadFile(s.path(seq))
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("decode spool entry %d: %w", seq, err)
	}
	e.Seq = seq
	return e, nil
}
