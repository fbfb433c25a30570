package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/state"
)

func TestPrintStatus(t *testing.T) {
	now := time.Date(2024, 5, 10, 12, 0, 0, 0, time.UTC)
	contact := now.Add(-12 * time.Second)
	started := now.Add(-5 * time.Minute)
	next := now.Add(15 * time.Hour)
	st := &state.Status{
		PID: 42, AgentVersion: "1.0.0", ResticVersion: "0.14.0", ServerURL: "https://s", HostID: "h1",
		StartedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-2 * time.Second), State: state.StateOnline,
		LastContact: &contact, ScheduleVersion: 7, SpoolEntries: 2, SpoolBytes: 512,
		Running: []state.JobStatus{{JobID: "j1", Kind: "backup", Repository: "nas", StartedAt: &started,
			PercentDone: 0.42, LastProgress: &contact}},
		Queued:    []state.JobStatus{{JobID: "j2", Kind: "forget", Repository: "nas", QueuedAt: started}},
		Schedules: []state.ScheduleStatus{{ID: "s1", Name: "nightly", Kind: "backup", Cron: "0 3 * * *", Timezone: "UTC", NextRun: &next}},
	}
	var buf bytes.Buffer
	printStatus(&buf, st, now)
	out := buf.String()
	for _, want := range []string{"online", "12s ago", "backup of nas (job j1), started 5m0s ago, 42% done", "Queued:", "2 report(s) waiting", "nightly", "0 3 * * * (UTC)"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// A status file nobody updates means the service is not running.
	buf.Reset()
	printStatus(&buf, st, now.Add(time.Hour))
	if !strings.Contains(buf.String(), "not running?") {
		t.Errorf("stale status not flagged:\n%s", buf.String())
	}
	t.Log("\n" + out)
}
