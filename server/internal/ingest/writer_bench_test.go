package ingest_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/ingest"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

const benchLine = "[0:12] 45.12%  1234 files 567.890 MiB, total 2734 files 1.234 GiB, 0 errors ETA 0:15 /srv/data/file.bin"

// BenchmarkIngestConcurrentJobs is the writer on a real PostgreSQL database with many
// jobs reporting at once, as scenario 3 of docs/benchmarks.md does over HTTP: each of
// the jobs sends a log batch of 100 lines and a progress report per op, concurrently.
// It reports lines/s, reports/s and the average group (reports per statement).
func BenchmarkIngestConcurrentJobs(b *testing.B) {
	for _, jobs := range []int{1, 100, 1000} {
		b.Run(strconv.Itoa(jobs), func(b *testing.B) {
			s := storetest.Open(b, store.DialectPostgres)
			ctx := context.Background()
			tok, _, err := s.CreateEnrollmentToken(ctx, store.NewEnrollmentToken{TTL: time.Hour, MaxUses: 1})
			if err != nil {
				b.Fatal(err)
			}
			h, _, err := s.Enroll(ctx, tok, protocol.EnrollRequest{Token: tok, Hostname: "bench", OS: "linux", Arch: "amd64"})
			if err != nil {
				b.Fatal(err)
			}
			r, err := s.CreateRepository(ctx, h.ID, store.RepositoryInput{Name: "local", URL: "/srv/restic", Password: "pw"})
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]string, jobs)
			for i := range ids {
				j, _, err := s.EnqueueRun(ctx, h.ID, store.RunRequest{Kind: protocol.KindBackup, RepositoryID: r.ID, ActorType: store.ActorAPI})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.StartJob(ctx, h.ID, j.ID, time.Now()); err != nil {
					b.Fatal(err)
				}
				ids[i] = j.ID
			}
			w := ingest.New(ingest.Config{}, s, slog.New(slog.DiscardHandler))
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); w.Run(runCtx) }()
			defer func() { stop(); <-done }()

			const perBatch = 100
			seqs := make([]int64, jobs)
			b.ResetTimer()
			for b.Loop() {
				var wg sync.WaitGroup
				for k, id := range ids {
					wg.Go(func() {
						lines := make([]protocol.LogLine, perBatch)
						now := time.Now().UTC()
						for i := range lines {
							seqs[k]++
							lines[i] = protocol.LogLine{Seq: seqs[k], At: now, Stream: "stdout", Text: benchLine}
						}
						res, err := w.Submit(ctx, store.JobReport{HostID: h.ID, JobID: id, Lines: lines})
						if err != nil || res.Accepted != perBatch {
							b.Error(fmt.Sprintf("logs: %d %v", res.Accepted, err))
						}
						p := protocol.Progress{At: now, PercentDone: 0.5, FilesDone: seqs[k], CurrentFiles: []string{"/srv/data/file.bin"}}
						if _, err := w.Submit(ctx, store.JobReport{HostID: h.ID, JobID: id, Progress: &p}); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			}
			st := w.Stats()
			b.ReportMetric(float64(st.Lines)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(st.Reports)/b.Elapsed().Seconds(), "reports/s")
			b.ReportMetric(float64(st.Reports)/float64(max(st.Groups, 1)), "reports/group")
		})
	}
}
