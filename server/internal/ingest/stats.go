package ingest

import (
	"sync"
	"time"
)

// Stats counts what the writer did, for /metrics and the benchmarks.
type Stats struct {
	mu   sync.Mutex
	snap StatsSnapshot
}

// StatsSnapshot is a copy of the counters.
type StatsSnapshot struct {
	Groups, Reports, Lines, Failures int64
	// FlushSeconds is the time spent writing groups, summed.
	FlushSeconds float64
	// LargestGroup is the most reports written in one group.
	LargestGroup int
}

func (s *Stats) record(reports, lines int, took time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.Groups++
	if err != nil {
		s.snap.Failures++
	} else {
		s.snap.Reports += int64(reports)
		s.snap.Lines += int64(lines)
	}
	s.snap.FlushSeconds += took.Seconds()
	s.snap.LargestGroup = max(s.snap.LargestGroup, reports)
}

func (s *Stats) snapshot() StatsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap
}
