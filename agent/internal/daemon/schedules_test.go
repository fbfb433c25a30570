package daemon

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/fakeserver"
	"github.com/restic-manager/restic-manager/agent/internal/state"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// onceSoon returns a 6-field cron that fires once a minute, `in` from now.
func onceSoon(in time.Duration) (string, time.Time) {
	at := time.Now().Add(in).UTC().Truncate(time.Second)
	return fmt.Sprintf("%d * * * * *", at.Second()), at
}

func scheduleSet(version int64, cron string) protocol.ScheduleSet {
	return protocol.ScheduleSet{
		Version: version,
		Schedules: []protocol.Schedule{{
			ID: "s1", Name: "nightly", Kind: protocol.KindBackup, RepositoryID: "r1", Cron: cron, Timezone: "UTC",
			Paths: []string{"/data"}, Enabled: true,
		}},
		Repositories: []protocol.Repository{repo("r1", "/srv/restic/r1")},
	}
}

func scheduledJob(srv *fakeserver.Server) (fakeserver.Job, bool) {
	for _, j := range srv.Jobs() {
		if j.ScheduleID == "s1" {
			return j, true
		}
	}
	return fakeserver.Job{}, false
}

func TestScheduleFiresThroughServer(t *testing.T) {
	h := newHarness(t)
	cron, at := onceSoon(3 * time.Second)
	h.srv.SetSchedules(scheduleSet(1, cron))
	h.start()
	fakeserver.Eventually(t, 10*time.Second, "schedule ack", func() bool {
		acks := h.srv.Acks()
		return len(acks) == 1 && acks[0].Version == 1 && acks[0].Error == ""
	})
	var j fakeserver.Job
	fakeserver.Eventually(t, 15*time.Second, "scheduled job finished", func() bool {
		var ok bool
		j, ok = scheduledJob(h.srv)
		return ok && j.Finish != nil
	})
	if j.RanOffline || !j.ScheduledFor.Equal(at) || j.Finish.Status != protocol.JobSucceeded {
		t.Fatalf("job %+v scheduled_for %v want %v", j.Finish, j.ScheduledFor, at)
	}
	runs := h.fake.Runs(protocol.KindBackup)
	if len(runs) != 1 || runs[0].Spec.JobID != j.ID {
		t.Fatalf("runs %+v", runs)
	}
	// The schedule set is cached with its secrets, mode 0600, for offline runs.
	store, _ := state.Open(h.dir)
	set, err := store.ScheduleSet()
	if err != nil || set == nil || set.Repositories[0].Password != "secret-pw-r1" {
		t.Fatalf("cached set %+v %v", set, err)
	}
}

func TestScheduleRunsOfflineAndReportsLater(t *testing.T) {
	h := newHarness(t)
	cron, at := onceSoon(4 * time.Second)
	h.srv.SetSchedules(scheduleSet(1, cron))
	h.start()
	fakeserver.Eventually(t, 10*time.Second, "schedule ack", func() bool { return len(h.srv.Acks()) == 1 })
	h.srv.SetDown(true)
	fakeserver.Eventually(t, 15*time.Second, "offline run done", func() bool {
		runs := h.fake.Runs(protocol.KindBackup)
		return len(runs) == 1 && !runs[0].End.IsZero() && h.d.spool.Len() >= 3
	})
	offlineID := h.fake.Runs(protocol.KindBackup)[0].Spec.JobID
	if _, ok := scheduledJob(h.srv); ok {
		t.Fatal("server learnt of the job while down")
	}
	fakeserver.Eventually(t, 5*time.Second, "status file shows the spool", func() bool {
		st, _, _ := state.ReadStatus(h.dir)
		return st != nil && st.SpoolEntries > 0 && st.State == state.StateOffline
	})
	h.srv.SetDown(false)
	var j fakeserver.Job
	fakeserver.Eventually(t, 15*time.Second, "offline job reported", func() bool {
		var ok bool
		j, ok = scheduledJob(h.srv)
		return ok && j.Finish != nil
	})
	if j.ID != offlineID || !j.RanOffline || !j.ScheduledFor.Equal(at) || j.Finish.Status != protocol.JobSucceeded {
		t.Fatalf("job %s (agent %s) offline=%v at %v: %+v", j.ID, offlineID, j.RanOffline, j.ScheduledFor, j.Finish)
	}
	if int64(len(j.Logs)) != j.Finish.LogLines {
		t.Fatalf("%d of %d log lines", len(j.Logs), j.Finish.LogLines)
	}
	calls := h.srv.Calls()
	fire := slices.IndexFunc(calls, func(c string) bool { return strings.HasSuffix(c, "/schedules/s1/fire") })
	start := slices.Index(calls, "POST /api/v1/agent/jobs/"+offlineID+"/start")
	if fire < 0 || start < 0 || fire > start {
		t.Fatalf("fire must precede start: %v", calls)
	}
	assertJobOrder(t, calls, offlineID)
	// The job ran once: the server's copy of the command is not run again.
	time.Sleep(time.Second)
	if n := len(h.fake.Runs(protocol.KindBackup)); n != 1 {
		t.Fatalf("ran %d times", n)
	}
}

func TestCatchUpMissedTick(t *testing.T) {
	for _, catchUp := range []bool{true, false} {
		t.Run(fmt.Sprint("catch_up=", catchUp), func(t *testing.T) {
			h := newHarness(t)
			set := scheduleSet(5, "0 3 * * *")
			set.Schedules[0].Options = &protocol.JobOptions{CatchUp: &catchUp}
			h.srv.SetSchedules(set)
			store, _ := state.Open(h.dir)
			if err := store.SaveScheduleSet(&set); err != nil {
				t.Fatal(err)
			}
			fires, _ := store.Fires()
			now := time.Now().UTC()
			today3 := time.Date(now.Year(), now.Month(), now.Day(), 3, 0, 0, 0, time.UTC)
			want := today3
			if now.Before(today3) {
				want = today3.AddDate(0, 0, -1)
			}
			if err := fires.Set("s1", want.AddDate(0, 0, -2)); err != nil {
				t.Fatal(err)
			}
			h.start()
			if !catchUp {
				time.Sleep(1500 * time.Millisecond)
				if _, ok := scheduledJob(h.srv); ok {
					t.Fatal("catch_up=false still caught up")
				}
				return
			}
			var j fakeserver.Job
			fakeserver.Eventually(t, 10*time.Second, "missed tick run", func() bool {
				var ok bool
				j, ok = scheduledJob(h.srv)
				return ok && j.Finish != nil
			})
			if !j.ScheduledFor.Equal(want) {
				t.Fatalf("scheduled_for %v, want %v", j.ScheduledFor, want)
			}
			if len(h.srv.Jobs()) != 1 {
				t.Fatalf("%d jobs: one catch-up per schedule", len(h.srv.Jobs()))
			}
			// Restarting does not catch the same tick up again.
			_ = h.stop()
			h.start()
			time.Sleep(1500 * time.Millisecond)
			if n := len(h.fake.Runs(protocol.KindBackup)); n != 1 {
				t.Fatalf("ran %d times", n)
			}
		})
	}
}

func TestScheduleSetUpdatesAndRemovals(t *testing.T) {
	h := newHarness(t)
	h.srv.SetSchedules(scheduleSet(1, "0 3 * * *"))
	h.start()
	fakeserver.Eventually(t, 10*time.Second, "ack v1", func() bool { return len(h.srv.Acks()) == 1 })
	bad := scheduleSet(2, "0 3 * * *")
	bad.Schedules = append(bad.Schedules, protocol.Schedule{ID: "s2", Name: "broken", Kind: protocol.KindCheck,
		RepositoryID: "r1", Cron: "not a cron", Enabled: true})
	h.srv.SetSchedules(bad)
	fakeserver.Eventually(t, 10*time.Second, "ack v2", func() bool { return len(h.srv.Acks()) == 2 })
	if a := h.srv.Acks()[1]; a.Version != 2 || !strings.Contains(a.Error, "broken") {
		t.Fatalf("ack %+v", a)
	}
	h.srv.SetSchedules(protocol.ScheduleSet{Version: 3})
	fakeserver.Eventually(t, 10*time.Second, "ack v3", func() bool { return len(h.srv.Acks()) == 3 })
	if n := h.d.sched.JobCount(); n != 0 {
		t.Fatalf("%d gocron jobs after an empty set", n)
	}
}

func TestOfflineRunAdoptsServerJobID(t *testing.T) {
	h := newHarness(t)
	cron, at := onceSoon(4 * time.Second)
	set := scheduleSet(1, cron)
	h.srv.SetSchedules(set)
	// The server already has a job for this tick (an earlier fire reached it, its answer was lost).
	if err := h.srv.PreFire("s1", at, "server-job"); err != nil {
		t.Fatal(err)
	}
	h.start()
	fakeserver.Eventually(t, 10*time.Second, "schedule ack", func() bool { return len(h.srv.Acks()) == 1 })
	h.srv.SetDown(true)
	fakeserver.Eventually(t, 15*time.Second, "offline run done", func() bool {
		runs := h.fake.Runs(protocol.KindBackup)
		return len(runs) == 1 && !runs[0].End.IsZero() && h.d.spool.Len() >= 3
	})
	agentID := h.fake.Runs(protocol.KindBackup)[0].Spec.JobID
	h.srv.SetDown(false)
	j := waitFinished(t, h.srv, "server-job", 15*time.Second)
	if !j.RanOffline || j.Finish.Status != protocol.JobSucceeded || j.Starts != 1 {
		t.Fatalf("server job: offline=%v starts=%d %+v", j.RanOffline, j.Starts, j.Finish)
	}
	if _, ok := h.srv.Job(agentID); ok {
		t.Fatalf("a second job %s was created for the tick", agentID)
	}
	assertJobOrder(t, h.srv.Calls(), "server-job")
}
