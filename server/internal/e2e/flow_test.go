package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// setup enrols a running agent against a running server and gives its host a restic
// repository that has been initialised by a real init job.
type setup struct {
	server *serverProc
	op     *operator
	agent  *agentProc
	repo   store.Repository
	data   string
}

func newSetup(t *testing.T, restic string, viaProxy bool) *setup {
	t.Helper()
	serverBin, agentBin := binaries(t)
	dbURL := newDB(t)
	s := &setup{op: newOperator(t, dbURL)}
	s.server = startServer(t, serverBin, dbURL)
	serverURL := s.server.url()
	var env []string
	var px *proxy
	if viaProxy {
		const name = "restic-manager.e2e.test"
		px = startProxy(t, name, s.server.url)
		serverURL = fmt.Sprintf("http://%s:%d", name, s.server.port)
		env = []string{"HTTP_PROXY=" + px.url, "HTTPS_PROXY=" + px.url, "NO_PROXY="}
	}
	s.agent = startAgent(t, agentBin, serverURL, s.op.token(t), restic, env...)
	eventually(t, 30*time.Second, "agent hello", func() bool {
		h, err := s.op.store.Host(context.Background(), s.agent.hostID)
		return err == nil && h.ResticVersion != "" && h.LastHelloAt != nil
	})
	tmp := t.TempDir()
	s.data = filepath.Join(tmp, "data")
	writeData(t, s.data, 8, 256<<10)
	repo, err := s.op.disp.CreateRepository(context.Background(), s.agent.hostID, store.RepositoryInput{
		Name: "local", URL: filepath.Join(tmp, "repo"), Password: "correct horse battery staple",
	})
	if err != nil {
		t.Fatal(err)
	}
	s.repo = repo
	init := s.run(t, store.RunRequest{Kind: protocol.KindInit})
	if j := s.op.waitJob(t, s.agent.hostID, init.ID, 60*time.Second); j.Status != protocol.JobSucceeded {
		t.Fatalf("init: %s %q", j.Status, j.Error)
	}
	if viaProxy && px.requests.Load() == 0 {
		t.Fatal("the agent bypassed the proxy")
	}
	return s
}

func (s *setup) run(t *testing.T, req store.RunRequest) store.Job {
	t.Helper()
	req.RepositoryID = s.repo.ID
	req.ActorType = store.ActorAPI
	j, err := s.op.disp.EnqueueRun(context.Background(), s.agent.hostID, req)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// checkLogs verifies that a finished job's log lines are 1..n, each once, and that n is
// what the agent said it produced.
func (s *setup) checkLogs(t *testing.T, j store.Job) []store.JobLog {
	t.Helper()
	lines, err := s.op.store.Logs(context.Background(), j.ID, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		if l.Seq != int64(i+1) {
			t.Fatalf("log of job %s: line %d has seq %d (gap or duplicate)", j.ID, i, l.Seq)
		}
	}
	if int64(len(lines)) != j.LogLinesReported {
		t.Fatalf("job %s: %d lines stored, agent reported %d", j.ID, len(lines), j.LogLinesReported)
	}
	for _, l := range lines {
		if strings.Contains(l.Text, "correct horse battery staple") {
			t.Fatal("the repository password reached the job log")
		}
	}
	return lines
}

// TestBackupFlow: enrol, get a schedule set, back up from a command.run and from a cron
// tick, and see the jobs, snapshots and stats — for each restic version, directly and
// through a forward proxy.
func TestBackupFlow(t *testing.T) {
	for name, restic := range resticBinaries(t) {
		for _, viaProxy := range []bool{false, true} {
			t.Run(fmt.Sprintf("restic-%s/proxy=%t", name, viaProxy), func(t *testing.T) {
				t.Parallel()
				s := newSetup(t, restic, viaProxy)
				ctx := context.Background()
				hostID := s.agent.hostID

				backup := s.run(t, store.RunRequest{Kind: protocol.KindBackup, Paths: []string{s.data}, Tags: []string{"manual"}})
				j := s.op.waitJob(t, hostID, backup.ID, 90*time.Second)
				if j.Status != protocol.JobSucceeded || j.ExitCode == nil || *j.ExitCode != 0 || !strings.Contains(string(j.Summary), "snapshot_id") {
					t.Fatalf("backup: %s %q summary %s", j.Status, j.Error, j.Summary)
				}
				s.checkLogs(t, j)

				// A schedule firing every 3 seconds: the agent applies the set, acks it, and
				// a tick becomes a job through schedule.fire.
				sc, err := s.op.disp.CreateSchedule(ctx, hostID, store.ScheduleInput{
					RepositoryID: s.repo.ID, Name: "every-3s", Kind: protocol.KindBackup, Cron: "*/3 * * * * *",
					Paths: []string{s.data}, Tags: []string{"cron"}, Enabled: true,
				})
				if err != nil {
					t.Fatal(err)
				}
				var fired jobRow
				eventually(t, 60*time.Second, "a scheduled backup to succeed", func() bool {
					for _, r := range s.op.jobs(t, hostID) {
						if r.Actor == store.ActorSchedule && r.Status == protocol.JobSucceeded {
							fired = r
							return true
						}
					}
					return false
				})
				if !fired.ScheduledFor.Valid || fired.RanOffline {
					t.Fatalf("fired job: %+v", fired)
				}
				h, _ := s.op.store.Host(ctx, hostID)
				if h.ScheduleAppliedVersion < 2 {
					t.Fatalf("schedule set not acknowledged: applied %d of %d", h.ScheduleAppliedVersion, h.ScheduleVersion)
				}
				// Disable the schedule; the agent stops firing it.
				in := store.ScheduleInput{RepositoryID: s.repo.ID, Name: "every-3s", Kind: protocol.KindBackup, Cron: "*/3 * * * * *", Paths: []string{s.data}, Enabled: false}
				if _, err := s.op.disp.UpdateSchedule(ctx, hostID, sc.ID, in); err != nil {
					t.Fatal(err)
				}
				eventually(t, 30*time.Second, "disabled set applied", func() bool {
					h, _ := s.op.store.Host(ctx, hostID)
					return h.ScheduleAppliedVersion == h.ScheduleVersion
				})
				time.Sleep(4 * time.Second) // let a tick that was already running finish
				before := len(s.op.jobs(t, hostID))
				time.Sleep(7 * time.Second)
				if after := len(s.op.jobs(t, hostID)); after != before {
					t.Fatalf("disabled schedule still fired: %d jobs, then %d", before, after)
				}

				// Snapshots and stats reached the server.
				var snaps []store.Snapshot
				eventually(t, 30*time.Second, "snapshot report", func() bool {
					snaps, _ = s.op.store.Snapshots(ctx, hostID, s.repo.ID)
					return len(snaps) >= 2
				})
				tags := map[string]bool{}
				for _, sn := range snaps {
					for _, tg := range sn.Tags {
						tags[tg] = true
					}
					if len(sn.SnapshotID) != 64 || len(sn.Paths) != 1 || sn.Paths[0] != s.data {
						t.Fatalf("snapshot %+v", sn)
					}
				}
				if !tags["manual"] || !tags["cron"] {
					t.Fatalf("snapshot tags %v", tags)
				}
				stats, _ := s.op.store.RepoStatsHistory(ctx, s.repo.ID, time.Time{})
				if len(stats) == 0 || stats[len(stats)-1].TotalSize <= 0 || stats[len(stats)-1].SnapshotsCount < 2 {
					t.Fatalf("stats %+v", stats)
				}
				if h, _ := s.op.store.Host(ctx, hostID); h.LastSeenAt == nil {
					t.Fatal("host never seen")
				}
			})
		}
	}
}

// TestServerKilledMidBackup: the server dies (SIGKILL) while a backup runs and comes
// back; the job ends succeeded exactly once, with every log line exactly once.
func TestServerKilledMidBackup(t *testing.T) {
	t.Parallel()
	s := newSetup(t, resticBinaries(t)["system"], false)
	big := filepath.Join(t.TempDir(), "big")
	writeData(t, big, 12, 40<<20) // 480 MiB of random data: a backup of several seconds
	job := s.run(t, store.RunRequest{Kind: protocol.KindBackup, Paths: []string{big}})
	eventually(t, 60*time.Second, "backup progress", func() bool {
		p, err := s.op.store.Progress(context.Background(), job.ID)
		return err == nil && p.Data.BytesDone > 0
	})
	s.server.kill()
	killedAt := time.Now()
	time.Sleep(3 * time.Second)
	s.server.start()
	j := s.op.waitJob(t, s.agent.hostID, job.ID, 3*time.Minute)
	if j.Status != protocol.JobSucceeded {
		t.Fatalf("job after the server's death: %s %q", j.Status, j.Error)
	}
	if j.FinishedAt.Before(killedAt) {
		t.Fatal("the backup finished before the server was killed: the test proved nothing")
	}
	lines := s.checkLogs(t, j)
	var backups int
	for _, r := range s.op.jobs(t, s.agent.hostID) {
		if r.Kind == protocol.KindBackup {
			backups++
		}
	}
	if backups != 1 {
		t.Fatalf("%d backup jobs, want 1", backups)
	}
	t.Logf("backup finished %s after the kill, %d log lines, each once", j.FinishedAt.Sub(killedAt).Round(time.Millisecond), len(lines))
}

// TestScheduledBackupWhileServerDown: the server is down when a tick is due; the agent
// runs the backup anyway and reports it when the server returns.
func TestScheduledBackupWhileServerDown(t *testing.T) {
	t.Parallel()
	s := newSetup(t, resticBinaries(t)["system"], false)
	ctx := context.Background()
	hostID := s.agent.hostID
	// Every 20 s, at seconds 0, 20, 40.
	sc, err := s.op.disp.CreateSchedule(ctx, hostID, store.ScheduleInput{
		RepositoryID: s.repo.ID, Name: "offline", Kind: protocol.KindBackup, Cron: "*/20 * * * * *",
		Paths: []string{s.data}, Tags: []string{"offline"}, Enabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "schedule applied", func() bool {
		h, _ := s.op.store.Host(ctx, hostID)
		return h.ScheduleAppliedVersion == h.ScheduleVersion
	})
	// Stop the server right after a tick so the next one (20 s later) falls in the outage.
	for time.Now().Second()%20 > 2 {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	s.server.stop()
	down := time.Now()
	nextTick := down.Truncate(20 * time.Second).Add(20 * time.Second)
	// Leave the server down until well after the tick, so the agent must run it alone.
	time.Sleep(time.Until(nextTick) + 25*time.Second)
	s.server.start()
	var offline jobRow
	eventually(t, 90*time.Second, "the offline run to be reported", func() bool {
		for _, r := range s.op.jobs(t, hostID) {
			if r.RanOffline && r.ScheduledFor.Valid && !r.ScheduledFor.Time.Before(down) && r.ScheduledFor.Time.Before(down.Add(50*time.Second)) && protocol.IsTerminal(r.Status) {
				offline = r
				return true
			}
		}
		return false
	})
	if offline.Status != protocol.JobSucceeded {
		t.Fatalf("offline run: %+v", offline)
	}
	j, _ := s.op.store.Job(ctx, hostID, offline.ID)
	if j.StartedAt == nil || j.StartedAt.Before(down) || j.StartedAt.After(down.Add(50*time.Second)) {
		t.Fatalf("offline run started at %v; server was down from %v", j.StartedAt, down)
	}
	s.checkLogs(t, j)
	// The tick ran once, not again after the server came back.
	ticks := map[time.Time]int{}
	for _, r := range s.op.jobs(t, hostID) {
		if r.Actor == store.ActorSchedule && r.ScheduledFor.Valid {
			ticks[r.ScheduledFor.Time]++
		}
	}
	var dup []string
	for tk, n := range ticks {
		if n > 1 {
			dup = append(dup, tk.String())
		}
	}
	sort.Strings(dup)
	if len(dup) > 0 {
		t.Fatalf("ticks run twice: %v", dup)
	}
	_ = sc
}
