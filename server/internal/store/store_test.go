package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

// forEachDialect runs a test against PostgreSQL and the embedded SQLite.
func forEachDialect(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, storetest.Open(t, d))
		})
	}
}

type fixture struct {
	host store.Host
	repo store.Repository
}

func enrollHost(t *testing.T, s *store.Store, name string) (store.Host, string) {
	t.Helper()
	ctx := context.Background()
	tok, _, err := s.CreateEnrollmentToken(ctx, store.NewEnrollmentToken{TTL: time.Hour, MaxUses: 1})
	if err != nil {
		t.Fatal(err)
	}
	h, cred, err := s.Enroll(ctx, tok, protocol.EnrollRequest{Token: tok, Hostname: name, OS: "linux", Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	return h, cred
}

func newFixture(t *testing.T, s *store.Store) fixture {
	t.Helper()
	h, _ := enrollHost(t, s, "web-1")
	r, err := s.CreateRepository(context.Background(), h.ID, store.RepositoryInput{Name: "local", URL: "/srv/restic", Password: "s3cret-pw"})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{host: h, repo: r}
}

func TestMigrateIsIdempotent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		v, err := s.Migrate(context.Background())
		if err != nil || v < 1 {
			t.Fatalf("second migrate: v=%d err=%v", v, err)
		}
	})
}

func TestEnrollmentTokenUsesAndExpiry(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tok, _, err := s.CreateEnrollmentToken(ctx, store.NewEnrollmentToken{TTL: time.Hour, MaxUses: 2})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if _, _, err := s.Enroll(ctx, tok, protocol.EnrollRequest{Hostname: "h"}); err != nil {
				t.Fatalf("use %d: %v", i, err)
			}
		}
		if _, _, err := s.Enroll(ctx, tok, protocol.EnrollRequest{Hostname: "h"}); !errors.Is(err, store.ErrTokenInvalid) {
			t.Fatalf("third use: %v", err)
		}
		if _, _, err := s.Enroll(ctx, "rme_nonsense", protocol.EnrollRequest{Hostname: "h"}); !errors.Is(err, store.ErrTokenInvalid) {
			t.Fatalf("unknown token: %v", err)
		}
		short, _, _ := s.CreateEnrollmentToken(ctx, store.NewEnrollmentToken{TTL: time.Millisecond, MaxUses: 5})
		time.Sleep(20 * time.Millisecond)
		if _, _, err := s.Enroll(ctx, short, protocol.EnrollRequest{Hostname: "h"}); !errors.Is(err, store.ErrTokenInvalid) {
			t.Fatalf("expired token: %v", err)
		}
	})
}

func TestCredentialResolvesToItsHostOnly(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, credA := enrollHost(t, s, "a")
		b, credB := enrollHost(t, s, "b")
		if id, err := s.HostIDByCredential(ctx, credA); err != nil || id != a.ID {
			t.Fatalf("cred A -> %q, %v", id, err)
		}
		if id, err := s.HostIDByCredential(ctx, credB); err != nil || id != b.ID {
			t.Fatalf("cred B -> %q, %v", id, err)
		}
		if _, err := s.HostIDByCredential(ctx, credA+"x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("bad cred: %v", err)
		}
	})
}

func TestRepositorySecretsAreSealedAtRest(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		f := newFixture(t, s)
		db, err := s.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		var raw string
		if err := db.QueryRow("SELECT password_enc FROM repositories WHERE id = '" + f.repo.ID + "'").Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(raw, "s3cret-pw") || !strings.HasPrefix(raw, "v1:") {
			t.Fatalf("password stored as %q", raw)
		}
		set, err := s.ScheduleSet(context.Background(), f.host.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(set.Repositories) != 1 || set.Repositories[0].Password != "s3cret-pw" {
			t.Fatalf("schedule set repos: %+v", set.Repositories)
		}
	})
}

func backupSchedule(repoID string) store.ScheduleInput {
	return store.ScheduleInput{RepositoryID: repoID, Name: "nightly", Kind: protocol.KindBackup, Cron: "0 3 * * *",
		Paths: []string{"/etc"}, Enabled: true}
}

func TestScheduleChangesBumpVersion(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		v0 := storetest.Must(s.PollState(ctx, f.host.ID)).ScheduleVersion
		sc := storetest.Must(s.CreateSchedule(ctx, f.host.ID, backupSchedule(f.repo.ID)))
		v1 := storetest.Must(s.PollState(ctx, f.host.ID)).ScheduleVersion
		in := backupSchedule(f.repo.ID)
		in.Enabled = false
		storetest.Must(s.UpdateSchedule(ctx, f.host.ID, sc.ID, in))
		v2 := storetest.Must(s.PollState(ctx, f.host.ID)).ScheduleVersion
		if err := s.DeleteSchedule(ctx, f.host.ID, sc.ID); err != nil {
			t.Fatal(err)
		}
		v3 := storetest.Must(s.PollState(ctx, f.host.ID)).ScheduleVersion
		if !(v0 < v1 && v1 < v2 && v2 < v3) {
			t.Fatalf("versions %d %d %d %d", v0, v1, v2, v3)
		}
		other, _ := enrollHost(t, s, "other")
		if _, err := s.CreateSchedule(ctx, other.ID, backupSchedule(f.repo.ID)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("schedule on another host's repository: %v", err)
		}
		if err := s.RecordScheduleAck(ctx, f.host.ID, protocol.ScheduleAck{Version: v3 + 10, AppliedAt: time.Now()}); !errors.Is(err, store.ErrInvalidArgument) {
			t.Fatalf("ack of unissued version: %v", err)
		}
		if err := s.RecordScheduleAck(ctx, f.host.ID, protocol.ScheduleAck{Version: v3, AppliedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		h := storetest.Must(s.Host(ctx, f.host.ID))
		if h.ScheduleAppliedVersion != v3 {
			t.Fatalf("applied version %d, want %d", h.ScheduleAppliedVersion, v3)
		}
	})
}

func TestCommandDeliveryLeaseAndAck(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		job, cmd, err := s.EnqueueRun(ctx, f.host.ID, store.RunRequest{Kind: protocol.KindBackup, RepositoryID: f.repo.ID, Paths: []string{"/etc"}, ActorType: store.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}
		if job.Spec.Repository.URL != "/srv/restic" || job.Spec.Repository.Password != "" {
			t.Fatalf("stored job spec must not hold the password: %+v", job.Spec.Repository)
		}
		d := storetest.Must(s.DeliverCommands(ctx, f.host.ID, 0, 50*time.Millisecond, 100))
		if len(d.Commands) != 1 || d.Commands[0].ID != cmd.ID || d.Commands[0].Run.Repository.Password != "s3cret-pw" {
			t.Fatalf("first delivery: %+v", d.Commands)
		}
		if d.NextLease.IsZero() {
			t.Fatal("no lease recorded")
		}
		// Within the lease, a poll with the cursor gets nothing.
		if d2 := storetest.Must(s.DeliverCommands(ctx, f.host.ID, cmd.ID, time.Minute, 100)); len(d2.Commands) != 0 {
			t.Fatalf("redelivered within lease: %+v", d2.Commands)
		}
		time.Sleep(80 * time.Millisecond)
		d3 := storetest.Must(s.DeliverCommands(ctx, f.host.ID, cmd.ID, time.Minute, 100))
		if len(d3.Commands) != 1 {
			t.Fatalf("not redelivered after lease: %+v", d3.Commands)
		}
		if err := s.AckCommand(ctx, f.host.ID, cmd.ID, protocol.CommandResult{Status: protocol.CommandAccepted}); err != nil {
			t.Fatal(err)
		}
		if err := s.AckCommand(ctx, f.host.ID, cmd.ID, protocol.CommandResult{Status: protocol.CommandAccepted}); err != nil {
			t.Fatalf("repeated ack: %v", err)
		}
		other, _ := enrollHost(t, s, "other")
		if err := s.AckCommand(ctx, other.ID, cmd.ID, protocol.CommandResult{Status: protocol.CommandAccepted}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ack by another host: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
		if d4 := storetest.Must(s.DeliverCommands(ctx, f.host.ID, 0, time.Minute, 100)); len(d4.Commands) != 0 || !d4.NextLease.IsZero() {
			t.Fatalf("acked command redelivered: %+v", d4)
		}
	})
}

func TestRejectedRunFailsItsJob(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		job, cmd, _ := s.EnqueueRun(ctx, f.host.ID, store.RunRequest{Kind: protocol.KindBackup, RepositoryID: f.repo.ID, ActorType: store.ActorAPI})
		if err := s.AckCommand(ctx, f.host.ID, cmd.ID, protocol.CommandResult{Status: protocol.CommandRejected, Reason: "no paths"}); err != nil {
			t.Fatal(err)
		}
		j := storetest.Must(s.Job(ctx, f.host.ID, job.ID))
		if j.Status != protocol.JobFailed || !strings.Contains(j.Error, "no paths") {
			t.Fatalf("job after reject: %s %q", j.Status, j.Error)
		}
	})
}

func TestJobLifecycle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		job, _, _ := s.EnqueueRun(ctx, f.host.ID, store.RunRequest{Kind: protocol.KindBackup, RepositoryID: f.repo.ID, ActorType: store.ActorAPI})
		other, _ := enrollHost(t, s, "other")
		if _, err := s.StartJob(ctx, other.ID, job.ID, time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("start by another host: %v", err)
		}
		if j, err := s.StartJob(ctx, f.host.ID, job.ID, time.Now()); err != nil || j.Status != protocol.JobRunning {
			t.Fatalf("start: %v %v", j.Status, err)
		}
		if _, err := s.StartJob(ctx, f.host.ID, job.ID, time.Now()); err != nil {
			t.Fatalf("repeated start: %v", err)
		}
		storetest.Must(s.SaveProgress(ctx, f.host.ID, job.ID, protocol.Progress{PercentDone: 0.25, FilesDone: 3}))
		storetest.Must(s.SaveProgress(ctx, f.host.ID, job.ID, protocol.Progress{PercentDone: 0.5, FilesDone: 6}))
		p := storetest.Must(s.Progress(ctx, job.ID))
		if p.Data.PercentDone != 0.5 {
			t.Fatalf("latest progress %v", p.Data.PercentDone)
		}
		lines := func(seqs ...int64) []protocol.LogLine {
			var out []protocol.LogLine
			for _, q := range seqs {
				out = append(out, protocol.LogLine{Seq: q, Stream: "stdout", Text: "line", At: time.Now()})
			}
			return out
		}
		_, n, err := s.AppendLogs(ctx, f.host.ID, job.ID, lines(3, 4))
		if err != nil || n != 2 {
			t.Fatalf("append 3,4: %d %v", n, err)
		}
		_, n, _ = s.AppendLogs(ctx, f.host.ID, job.ID, lines(1, 2, 3, 4))
		if n != 2 {
			t.Fatalf("append 1..4 accepted %d, want 2", n)
		}
		got := storetest.Must(s.Logs(ctx, job.ID, 0, 100))
		if len(got) != 4 || got[0].Seq != 1 || got[3].Seq != 4 {
			t.Fatalf("logs %+v", got)
		}
		fin := protocol.JobFinish{Status: protocol.JobSucceeded, ExitCode: 0, Summary: []byte(`{"files_new":3}`), FinishedAt: time.Now(), LogLines: 4}
		j1 := storetest.Must(s.FinishJob(ctx, f.host.ID, job.ID, fin))
		fin2 := fin
		fin2.Status = protocol.JobFailed
		j2 := storetest.Must(s.FinishJob(ctx, f.host.ID, job.ID, fin2))
		if j1.Status != protocol.JobSucceeded || j2.Status != protocol.JobSucceeded || !strings.Contains(strings.ReplaceAll(string(j2.Summary), " ", ""), `"files_new":3`) {
			t.Fatalf("finish: %s then %s, summary %s", j1.Status, j2.Status, j2.Summary)
		}
		if _, err := s.StartJob(ctx, f.host.ID, job.ID, time.Now()); !errors.Is(err, store.ErrJobFinished) {
			t.Fatalf("start after finish: %v", err)
		}
	})
}

func TestCancel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		queued, _, _ := s.EnqueueRun(ctx, f.host.ID, store.RunRequest{Kind: protocol.KindCheck, RepositoryID: f.repo.ID, ActorType: store.ActorAPI})
		j, cmd, err := s.CancelJob(ctx, f.host.ID, queued.ID, "operator")
		if err != nil || j.Status != protocol.JobCancelled || cmd == nil || cmd.Type != protocol.CommandCancel {
			t.Fatalf("cancel queued: %+v %v", j.Status, err)
		}
		if _, err := s.StartJob(ctx, f.host.ID, queued.ID, time.Now()); !errors.Is(err, store.ErrJobFinished) {
			t.Fatalf("start after cancel: %v", err)
		}
		running, _, _ := s.EnqueueRun(ctx, f.host.ID, store.RunRequest{Kind: protocol.KindCheck, RepositoryID: f.repo.ID, ActorType: store.ActorAPI})
		storetest.Must(s.StartJob(ctx, f.host.ID, running.ID, time.Now()))
		j, _, _ = s.CancelJob(ctx, f.host.ID, running.ID, "operator")
		if j.Status != protocol.JobRunning || !j.State().CancelRequested {
			t.Fatalf("cancel running: %+v", j.State())
		}
		st := storetest.Must(s.SaveProgress(ctx, f.host.ID, running.ID, protocol.Progress{}))
		if !st.State().CancelRequested {
			t.Fatal("progress answer lacks cancel_requested")
		}
		if _, _, err := s.CancelJob(ctx, f.host.ID, queued.ID, "again"); !errors.Is(err, store.ErrJobFinished) {
			t.Fatalf("cancel finished: %v", err)
		}
	})
}

func TestFireScheduleIsIdempotent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		sc := storetest.Must(s.CreateSchedule(ctx, f.host.ID, backupSchedule(f.repo.ID)))
		tick := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			ids = map[string]int{}
			n   int
		)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				job, cmd, created, err := s.FireSchedule(ctx, f.host.ID, sc.ID, protocol.ScheduleFire{JobID: uuid.NewString(), ScheduledFor: tick})
				if err != nil {
					t.Error(err)
					return
				}
				if cmd.Run == nil || cmd.Run.JobID != job.ID || cmd.Run.Repository.Password != "s3cret-pw" || cmd.Run.Paths[0] != "/etc" {
					t.Errorf("fire command: %+v", cmd.Run)
				}
				mu.Lock()
				ids[job.ID]++
				if created {
					n++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(ids) != 1 || n != 1 {
			t.Fatalf("8 fires of one tick gave jobs %v, %d created", ids, n)
		}
		_, _, created, err := s.FireSchedule(ctx, f.host.ID, sc.ID, protocol.ScheduleFire{JobID: uuid.NewString(), ScheduledFor: tick.Add(time.Hour)})
		if err != nil || !created {
			t.Fatalf("next tick: created=%v err=%v", created, err)
		}
		other, _ := enrollHost(t, s, "other")
		if _, _, _, err := s.FireSchedule(ctx, other.ID, sc.ID, protocol.ScheduleFire{JobID: uuid.NewString(), ScheduledFor: tick}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("fire of another host's schedule: %v", err)
		}
	})
}

func TestSnapshotsReplaceAndStats(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		snap := func(id string, at time.Time) protocol.Snapshot {
			return protocol.Snapshot{ID: id, Time: at, Hostname: "web-1", Paths: []string{"/etc"}}
		}
		now := time.Now().UTC()
		first := protocol.SnapshotReport{Snapshots: []protocol.Snapshot{snap("aaaaaaaa11", now.Add(-time.Hour)), snap("bbbbbbbb22", now)}}
		if err := s.ReplaceSnapshots(ctx, f.host.ID, f.repo.ID, first); err != nil {
			t.Fatal(err)
		}
		second := protocol.SnapshotReport{Snapshots: []protocol.Snapshot{snap("bbbbbbbb22", now), snap("cccccccc33", now.Add(time.Minute))}}
		if err := s.ReplaceSnapshots(ctx, f.host.ID, f.repo.ID, second); err != nil {
			t.Fatal(err)
		}
		got := storetest.Must(s.Snapshots(ctx, f.host.ID, f.repo.ID))
		if len(got) != 2 || got[0].SnapshotID != "cccccccc33" || got[1].ShortID != "bbbbbbbb" {
			t.Fatalf("snapshots after replace: %+v", got)
		}
		dup := protocol.SnapshotReport{Snapshots: []protocol.Snapshot{snap("x", now), snap("x", now)}}
		if err := s.ReplaceSnapshots(ctx, f.host.ID, f.repo.ID, dup); !errors.Is(err, store.ErrInvalidArgument) {
			t.Fatalf("duplicate ids: %v", err)
		}
		if got := storetest.Must(s.Snapshots(ctx, f.host.ID, f.repo.ID)); len(got) != 2 {
			t.Fatalf("rejected report changed the projection: %d", len(got))
		}
		for i := 1; i <= 3; i++ {
			if err := s.AddRepoStats(ctx, f.host.ID, f.repo.ID, protocol.RepoStats{At: now.Add(time.Duration(i) * time.Minute), TotalSize: int64(i * 100)}); err != nil {
				t.Fatal(err)
			}
		}
		hist := storetest.Must(s.RepoStatsHistory(ctx, f.repo.ID, now))
		if len(hist) != 3 || hist[2].TotalSize != 300 {
			t.Fatalf("stats history %+v", hist)
		}
		other, _ := enrollHost(t, s, "other")
		if err := s.AddRepoStats(ctx, other.ID, f.repo.ID, protocol.RepoStats{}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("stats for another host's repository: %v", err)
		}
	})
}

func TestTouchLastSeen(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, _ := enrollHost(t, s, "a")
		b, _ := enrollHost(t, s, "b")
		at := time.Now().UTC().Truncate(time.Millisecond)
		if err := s.TouchLastSeen(ctx, map[string]time.Time{a.ID: at, b.ID: at.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchLastSeen(ctx, map[string]time.Time{a.ID: at.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ha := storetest.Must(s.Host(ctx, a.ID))
		hb := storetest.Must(s.Host(ctx, b.ID))
		if ha.LastSeenAt == nil || !ha.LastSeenAt.Equal(at) || hb.LastSeenAt == nil || !hb.LastSeenAt.Equal(at.Add(time.Second)) {
			t.Fatalf("last seen a=%v b=%v want %v", ha.LastSeenAt, hb.LastSeenAt, at)
		}
	})
}
