package state

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

func TestCommandsPersist(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Commands()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetCursor(42); err != nil {
		t.Fatal(err)
	}
	if err := c.Record(CommandRecord{ID: 7, JobID: "j7", Status: protocol.CommandAccepted}, true); err != nil {
		t.Fatal(err)
	}
	if err := c.Record(CommandRecord{ID: 8, JobID: "j8", Status: protocol.CommandRejected, Reason: "bad"}, false); err != nil {
		t.Fatal(err)
	}
	if err := c.TakeJob("offline-1"); err != nil {
		t.Fatal(err)
	}
	c, err = s.Commands()
	if err != nil {
		t.Fatal(err)
	}
	if c.Cursor() != 42 {
		t.Fatalf("cursor %d", c.Cursor())
	}
	if r, ok := c.Seen(8); !ok || r.Reason != "bad" {
		t.Fatalf("seen 8: %+v %v", r, ok)
	}
	if _, ok := c.Seen(9); ok {
		t.Fatal("seen 9")
	}
	if !c.KnowsJob("j7") || c.KnowsJob("j8") || !c.KnowsJob("offline-1") {
		t.Fatal("jobs")
	}
	// Bounded: old records fall off.
	for i := int64(100); i < 100+maxRecentCommands+10; i++ {
		c.data.Commands = append(c.data.Commands, CommandRecord{ID: i})
	}
	if err := c.Record(CommandRecord{ID: 99999}, false); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Seen(7); ok || len(c.data.Commands) != maxRecentCommands {
		t.Fatalf("not bounded: %d", len(c.data.Commands))
	}
}

func TestMarkers(t *testing.T) {
	s, _ := Open(t.TempDir())
	now := time.Now().UTC()
	for _, id := range []string{"plain-id", "weird/../id:1"} {
		if err := s.PutMarker(Marker{JobID: id, Kind: "backup", Phase: MarkerRunning, QueuedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := s.Markers()
	if err != nil || len(ms) != 2 {
		t.Fatalf("markers %+v %v", ms, err)
	}
	for _, m := range ms {
		if err := s.DeleteMarker(m.JobID); err != nil {
			t.Fatal(err)
		}
	}
	if ms, _ := s.Markers(); len(ms) != 0 {
		t.Fatalf("left %+v", ms)
	}
	if err := s.DeleteMarker("absent"); err != nil {
		t.Fatal(err)
	}
}

func TestFiresAndScheduleCache(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	f, _ := s.Fires()
	t1 := time.Date(2024, 1, 1, 3, 0, 0, 0, time.UTC)
	_ = f.Set("a", t1)
	_ = f.Set("a", t1.Add(-time.Hour)) // older: ignored
	_ = f.Set("b", t1)
	_ = f.Keep(map[string]bool{"a": true})
	f, _ = s.Fires()
	if got, ok := f.Last("a"); !ok || !got.Equal(t1) {
		t.Fatalf("a: %v", got)
	}
	if _, ok := f.Last("b"); ok {
		t.Fatal("b kept")
	}
	set := &protocol.ScheduleSet{Version: 3, Repositories: []protocol.Repository{{ID: "r", Password: "pw"}}}
	if err := s.SaveScheduleSet(set); err != nil {
		t.Fatal(err)
	}
	got, err := s.ScheduleSet()
	if err != nil || got.Version != 3 || got.Repositories[0].Password != "pw" {
		t.Fatalf("set %+v %v", got, err)
	}
	if runtime.GOOS != "windows" {
		st, _ := os.Stat(filepath.Join(dir, "schedules.json"))
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("schedules.json mode %v", st.Mode().Perm())
		}
		st, _ = os.Stat(dir)
		if st.Mode().Perm() != 0o700 {
			t.Fatalf("state dir mode %v", st.Mode().Perm())
		}
	}
}
