package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

func logLines(text string, seqs ...int64) []protocol.LogLine {
	out := make([]protocol.LogLine, len(seqs))
	for i, q := range seqs {
		out[i] = protocol.LogLine{Seq: q, Stream: "stdout", Text: text, At: time.Now()}
	}
	return out
}

// TestIngestReportsMixedBatch sends what one group commit of the ingest writer holds:
// reports of several jobs and hosts, two log batches of one job, a foreign job, an
// unknown job, progress of a finished job and text PostgreSQL would refuse.
func TestIngestReportsMixedBatch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		other, _ := enrollHost(t, s, "web-2")
		otherRepo := storetest.Must(s.CreateRepository(ctx, other.ID, store.RepositoryInput{Name: "r", URL: "/srv/r", Password: "pw"}))
		start := func(hostID, repoID string) store.Job {
			j, _, err := s.EnqueueRun(ctx, hostID, store.RunRequest{Kind: protocol.KindBackup, RepositoryID: repoID, ActorType: store.ActorAPI})
			if err != nil {
				t.Fatal(err)
			}
			storetest.Must(s.StartJob(ctx, hostID, j.ID, time.Now()))
			return j
		}
		a, b, c := start(f.host.ID, f.repo.ID), start(f.host.ID, f.repo.ID), start(other.ID, otherRepo.ID)
		done := start(f.host.ID, f.repo.ID)
		storetest.Must(s.FinishJob(ctx, f.host.ID, done.ID, protocol.JobFinish{Status: protocol.JobSucceeded, FinishedAt: time.Now()}))
		storetest.Must(s.SaveProgress(ctx, f.host.ID, a.ID, protocol.Progress{PercentDone: 0.1}))

		reports := []store.JobReport{
			{HostID: f.host.ID, JobID: a.ID, Lines: logLines("a", 1, 2, 3)},
			{HostID: f.host.ID, JobID: a.ID, Lines: logLines("a", 3, 4)}, // second batch of a: 3 is a duplicate
			{HostID: f.host.ID, JobID: a.ID, Progress: &protocol.Progress{PercentDone: 0.2}},
			{HostID: f.host.ID, JobID: a.ID, Progress: &protocol.Progress{PercentDone: 0.3, CurrentFiles: []string{"/x\x00y"}}},
			{HostID: f.host.ID, JobID: b.ID, Lines: logLines("nul\x00byte and \xff invalid", 1)},
			{HostID: other.ID, JobID: c.ID, Lines: logLines("c", 1, 2)},
			{HostID: f.host.ID, JobID: c.ID, Lines: logLines("stolen", 9)}, // another host's job
			{HostID: f.host.ID, JobID: uuid.NewString(), Lines: logLines("x", 1)},
			{HostID: f.host.ID, JobID: done.ID, Progress: &protocol.Progress{PercentDone: 0.9}},
			{HostID: f.host.ID, JobID: done.ID, Lines: logLines("tail after finish", 7)},
		}
		res, err := s.IngestReports(ctx, reports)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			accepted int
			notFound bool
			status   string
		}{{3, false, protocol.JobRunning}, {1, false, protocol.JobRunning}, {0, false, protocol.JobRunning}, {0, false, protocol.JobRunning},
			{1, false, protocol.JobRunning}, {2, false, protocol.JobRunning}, {0, true, ""}, {0, true, ""},
			{0, false, protocol.JobSucceeded}, {1, false, protocol.JobSucceeded}}
		for i, w := range want {
			r := res[i]
			if w.notFound != errors.Is(r.Err, store.ErrNotFound) || r.Accepted != w.accepted || r.Job.Status != w.status {
				t.Errorf("report %d: accepted %d err %v status %q, want %+v", i, r.Accepted, r.Err, r.Job.Status, w)
			}
		}
		if got := storetest.Must(s.Logs(ctx, a.ID, 0, 100)); len(got) != 4 {
			t.Errorf("job a has %d lines, want 4", len(got))
		}
		if got := storetest.Must(s.Logs(ctx, c.ID, 0, 100)); len(got) != 2 || got[0].Text != "c" {
			t.Errorf("job c lines %+v: another host's report reached it", got)
		}
		if got := storetest.Must(s.Logs(ctx, b.ID, 0, 100)); len(got) != 1 || strings.ContainsRune(got[0].Text, 0) || !strings.Contains(got[0].Text, "\uFFFD") {
			t.Errorf("job b lines %+v: NUL or invalid UTF-8 kept", got)
		}
		p := storetest.Must(s.Progress(ctx, a.ID))
		if p.Data.PercentDone != 0.3 || len(p.Data.CurrentFiles) != 1 || p.Data.CurrentFiles[0] != "/x\uFFFDy" {
			t.Errorf("progress of a %+v: the latest report of the batch must win, sanitized", p.Data)
		}
		if _, err := s.Progress(ctx, done.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("progress stored for a finished job: %v", err)
		}
		// A whole batch resent: nothing is new, every state comes back.
		res, err = s.IngestReports(ctx, reports[:2])
		if err != nil || res[0].Accepted != 0 || res[1].Accepted != 0 || res[0].Job.ID != a.ID {
			t.Fatalf("resent batch: %+v %v", res, err)
		}
	})
}

// TestIngestReportsCancellation: the answer to a report carries a cancellation.
func TestIngestReportsCancellation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		j, _, _ := s.EnqueueRun(ctx, f.host.ID, store.RunRequest{Kind: protocol.KindCheck, RepositoryID: f.repo.ID, ActorType: store.ActorAPI})
		storetest.Must(s.StartJob(ctx, f.host.ID, j.ID, time.Now()))
		if _, _, err := s.CancelJob(ctx, f.host.ID, j.ID, "operator"); err != nil {
			t.Fatal(err)
		}
		res, err := s.IngestReports(ctx, []store.JobReport{{HostID: f.host.ID, JobID: j.ID, Progress: &protocol.Progress{PercentDone: 0.5}}})
		if err != nil || !res[0].Job.State().CancelRequested {
			t.Fatalf("state after cancel: %+v %v", res, err)
		}
	})
}

// TestIngestReportsLarge stores the protocol's largest batch and many jobs at once.
func TestIngestReportsLarge(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		var reports []store.JobReport
		for range 20 {
			j, _, _ := s.EnqueueRun(ctx, f.host.ID, store.RunRequest{Kind: protocol.KindBackup, RepositoryID: f.repo.ID, ActorType: store.ActorAPI})
			seqs := make([]int64, 500)
			for i := range seqs {
				seqs[i] = int64(i + 1)
			}
			reports = append(reports, store.JobReport{HostID: f.host.ID, JobID: j.ID, Lines: logLines(strings.Repeat("x", 100), seqs...)},
				store.JobReport{HostID: f.host.ID, JobID: j.ID, Progress: &protocol.Progress{FilesDone: 1}})
		}
		res, err := s.IngestReports(ctx, reports)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, r := range res {
			total += r.Accepted
		}
		if total != 20*500 {
			t.Fatalf("accepted %d lines, want %d", total, 20*500)
		}
	})
}
