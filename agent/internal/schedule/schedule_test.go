package schedule

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

func TestParseCron(t *testing.T) {
	tests := []struct {
		expr, tz string
		ok       bool
	}{
		{"0 3 * * *", "", true},
		{"*/5 0 3 * * *", "UTC", true},
		{"@daily", "Europe/Berlin", true},
		{"0 3 * * *", "Mars/Olympus", false},
		{"0 3 * *", "", false},
		{"61 * * * *", "", false},
		{"CRON_TZ=UTC 0 3 * * *", "", false},
		{"1 2 3 4 5 6 7", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.expr+"/"+tt.tz, func(t *testing.T) {
			_, err := ParseCron(tt.expr, tt.tz)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestTimezone(t *testing.T) {
	c, err := ParseCron("0 3 * * *", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)
	next := c.Next(from)
	if got := next.UTC(); !got.Equal(time.Date(2024, 1, 10, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("next %v", got)
	}
}

func TestLatest(t *testing.T) {
	c, _ := ParseCron("0 3 * * *", "UTC")
	now := time.Date(2024, 5, 10, 12, 0, 0, 0, time.UTC)
	// Last handled tick two days ago: the missed one to run is today's.
	got, ok := c.Latest(time.Date(2024, 5, 8, 3, 0, 0, 0, time.UTC), now)
	if !ok || !got.Equal(time.Date(2024, 5, 10, 3, 0, 0, 0, time.UTC)) {
		t.Fatalf("latest %v %v", got, ok)
	}
	// Nothing missed since this morning's tick.
	if _, ok := c.Latest(time.Date(2024, 5, 10, 3, 0, 0, 0, time.UTC), now); ok {
		t.Fatal("found a tick that was handled")
	}
	s, _ := ParseCron("* * * * * *", "UTC")
	got, ok = s.Latest(now.Add(-48*time.Hour), now.Add(300*time.Millisecond))
	if !ok || !got.Equal(now) {
		t.Fatalf("per-second latest %v", got)
	}
}

type recorder struct {
	mu    sync.Mutex
	ticks []Tick
}

func (r *recorder) fire(_ context.Context, t Tick) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ticks = append(r.ticks, t)
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, t := range r.ticks {
		if t.Schedule.ID == id {
			n++
		}
	}
	return n
}

func TestReconcile(t *testing.T) {
	var rec recorder
	s, err := New(context.Background(), rec.fire, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	every := func(id, cron string, enabled, manual bool) protocol.Schedule {
		return protocol.Schedule{ID: id, Name: "n-" + id, Kind: protocol.KindBackup, RepositoryID: "r", Cron: cron,
			Timezone: "UTC", Enabled: enabled, Manual: manual}
	}
	set := &protocol.ScheduleSet{Version: 1, Schedules: []protocol.Schedule{
		every("a", "* * * * * *", true, false),
		every("b", "0 0 1 1 *", true, false),
		every("off", "* * * * * *", false, false),
		every("manual", "* * * * * *", true, true),
		every("bad", "nope", true, false),
	}}
	if err := s.Apply(set); err == nil {
		t.Fatal("bad cron not reported")
	}
	if s.JobCount() != 2 {
		t.Fatalf("jobs %d, want 2", s.JobCount())
	}
	time.Sleep(2200 * time.Millisecond)
	if n := rec.count("a"); n < 1 || n > 3 {
		t.Fatalf("a fired %d times", n)
	}
	if rec.count("off")+rec.count("manual")+rec.count("b") != 0 {
		t.Fatal("disabled, manual or yearly schedule fired")
	}
	rec.mu.Lock()
	first := rec.ticks[0]
	rec.mu.Unlock()
	if first.ScheduledFor.Nanosecond() != 0 || time.Since(first.ScheduledFor) > 5*time.Second {
		t.Fatalf("scheduled_for %v", first.ScheduledFor)
	}

	// Version 2: a removed, b changed to every second, c added with the same cron as a.
	set2 := &protocol.ScheduleSet{Version: 2, Schedules: []protocol.Schedule{
		every("b", "* * * * * *", true, false),
		every("c", "* * * * * *", true, false),
	}}
	if err := s.Apply(set2); err != nil {
		t.Fatal(err)
	}
	if s.JobCount() != 2 {
		t.Fatalf("jobs %d, want 2", s.JobCount())
	}
	aBefore := rec.count("a")
	time.Sleep(2200 * time.Millisecond)
	if rec.count("a") != aBefore {
		t.Fatal("removed schedule still fires")
	}
	if rec.count("b") < 1 || rec.count("c") < 1 {
		t.Fatalf("b %d c %d", rec.count("b"), rec.count("c"))
	}
	if err := s.Apply(&protocol.ScheduleSet{Version: 3}); err != nil {
		t.Fatal(err)
	}
	if s.JobCount() != 0 {
		t.Fatalf("jobs %d after empty set", s.JobCount())
	}
}

func TestMissed(t *testing.T) {
	s, err := New(context.Background(), func(context.Context, Tick) {}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	no := false
	set := &protocol.ScheduleSet{Version: 1, Schedules: []protocol.Schedule{
		{ID: "daily", Name: "d", Cron: "0 3 * * *", Timezone: "UTC", Enabled: true},
		{ID: "nocatch", Name: "n", Cron: "0 3 * * *", Timezone: "UTC", Enabled: true, Options: &protocol.JobOptions{CatchUp: &no}},
		{ID: "fresh", Name: "f", Cron: "0 3 * * *", Timezone: "UTC", Enabled: true},
	}}
	if err := s.Apply(set); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 10, 12, 0, 0, 0, time.UTC)
	last := map[string]time.Time{
		"daily":   time.Date(2024, 5, 7, 3, 0, 0, 0, time.UTC),
		"nocatch": time.Date(2024, 5, 7, 3, 0, 0, 0, time.UTC),
	}
	missed := s.Missed(func(id string) (time.Time, bool) { v, ok := last[id]; return v, ok }, now)
	if len(missed) != 1 || missed[0].Schedule.ID != "daily" || !missed[0].CatchUp ||
		!missed[0].ScheduledFor.Equal(time.Date(2024, 5, 10, 3, 0, 0, 0, time.UTC)) {
		t.Fatalf("missed %+v", missed)
	}
}
