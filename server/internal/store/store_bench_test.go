package store_test

// Micro-benchmarks of the store's hot paths on a real PostgreSQL database (each on a fresh
// one). Cheap enough for a CI smoke run with -benchtime 1x; docs/benchmarks.md has the
// numbers of a real run. The large-history benchmark seeds RM_BENCH_HOSTS hosts with
// RM_BENCH_JOBS_PER_HOST jobs each (defaults 200 and 10; scripts/bench uses 10000 × 100).

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

func benchFixture(b *testing.B) (*store.Store, store.Host, store.Repository) {
	b.Helper()
	s := storetest.Open(b, store.DialectPostgres)
	ctx := context.Background()
	tok, _, err := s.CreateEnrollmentToken(ctx, store.NewEnrollmentToken{TTL: time.Hour, MaxUses: 1})
	if err != nil {
		b.Fatal(err)
	}
	h, _, err := s.Enroll(ctx, tok, protocol.EnrollRequest{Token: tok, Hostname: "bench-1", OS: "linux", Arch: "amd64"})
	if err != nil {
		b.Fatal(err)
	}
	r, err := s.CreateRepository(ctx, h.ID, store.RepositoryInput{Name: "local", URL: "/srv/restic", Password: "pw"})
	if err != nil {
		b.Fatal(err)
	}
	return s, h, r
}

func benchJob(b *testing.B, s *store.Store, h store.Host, r store.Repository) store.Job {
	b.Helper()
	ctx := context.Background()
	j, _, err := s.EnqueueRun(ctx, h.ID, store.RunRequest{Kind: protocol.KindBackup, RepositoryID: r.ID, ActorType: store.ActorAPI, Paths: []string{"/srv"}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.StartJob(ctx, h.ID, j.ID, time.Now()); err != nil {
		b.Fatal(err)
	}
	return j
}

const benchLine = "[0:12] 45.12%  1234 files 567.890 MiB, total 2734 files 1.234 GiB, 0 errors ETA 0:15 /srv/data/file.bin"

// BenchmarkAppendLogs inserts log batches of 100 lines (the agent's steady batch: 50
// lines/s every 2 s) and of 5000 lines (the protocol's largest batch).
func BenchmarkAppendLogs(b *testing.B) {
	for _, n := range []int{100, 5000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			s, h, r := benchFixture(b)
			j := benchJob(b, s, h, r)
			ctx := context.Background()
			var seq int64
			lines := make([]protocol.LogLine, n)
			before := s.Statements()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				now := time.Now().UTC()
				for i := range lines {
					seq++
					lines[i] = protocol.LogLine{Seq: seq, At: now, Stream: "stdout", Text: benchLine}
				}
				if _, got, err := s.AppendLogs(ctx, h.ID, j.ID, lines); err != nil || got != n {
					b.Fatalf("append: %d %v", got, err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(s.Statements()-before)/float64(b.N), "stmts/op")
		})
	}
}

// BenchmarkSaveProgress is one progress report (latest wins).
func BenchmarkSaveProgress(b *testing.B) {
	s, h, r := benchFixture(b)
	j := benchJob(b, s, h, r)
	ctx := context.Background()
	var n int64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n++
		p := protocol.Progress{At: time.Now().UTC(), PercentDone: 0.5, FilesDone: n, TotalFiles: 20000, BytesDone: n << 20, TotalBytes: 20000 << 20,
			CurrentFiles: []string{"/srv/data/file.bin"}}
		if _, err := s.SaveProgress(ctx, h.ID, j.ID, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplaceSnapshots replaces a repository's snapshot list (30: a month of
// dailies; 500: a long history).
func BenchmarkReplaceSnapshots(b *testing.B) {
	for _, n := range []int{30, 500} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			s, h, r := benchFixture(b)
			ctx := context.Background()
			rep := protocol.SnapshotReport{TakenAt: time.Now().UTC()}
			base := time.Now().UTC().Add(-time.Duration(n) * time.Hour)
			for i := 0; i < n; i++ {
				id := fmt.Sprintf("%064x", i+1)
				rep.Snapshots = append(rep.Snapshots, protocol.Snapshot{ID: id, ShortID: id[:8], Time: base.Add(time.Duration(i) * time.Hour),
					Hostname: "bench-1", Paths: []string{"/srv"}, Tags: []string{"daily"}, Tree: id, Summary: []byte(`{"files_new":1,"data_added":1024}`)})
			}
			before := s.Statements()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := s.ReplaceSnapshots(ctx, h.ID, r.ID, rep); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.Statements()-before)/float64(b.N), "stmts/op")
		})
	}
}

// BenchmarkDeliverCommands leases one new command (the database part of a poll with news).
func BenchmarkDeliverCommands(b *testing.B) {
	s, h, r := benchFixture(b)
	ctx := context.Background()
	var cursor int64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		_, c, err := s.EnqueueRun(ctx, h.ID, store.RunRequest{Kind: protocol.KindSnapshots, RepositoryID: r.ID, ActorType: store.ActorAPI})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		d, err := s.DeliverCommands(ctx, h.ID, cursor, time.Minute, 100)
		if err != nil || len(d.Commands) != 1 {
			b.Fatalf("deliver: %d %v", len(d.Commands), err)
		}
		b.StopTimer()
		cursor = c.ID
		if err := s.AckCommand(ctx, h.ID, c.ID, protocol.CommandResult{Status: protocol.CommandAccepted}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// SeedLargeHistorySQL inserts $1 hosts with $2 finished jobs each (PostgreSQL). The
// runner in scripts/bench uses the same statements (keep them in step).
const seedHostsSQL = `
INSERT INTO hosts (id, name, hostname, os, arch, agent_version, restic_version, protocol_version, labels,
                   schedule_version, config_version, last_seen_at, created_at, updated_at)
SELECT gen_random_uuid()::text, 'host-' || lpad(i::text, 6, '0'), 'host-' || lpad(i::text, 6, '0') || '.example.com',
       'linux', 'amd64', '1.0.0', '0.18.0', 1,
       jsonb_build_object('env', CASE WHEN i % 3 = 0 THEN 'prod' ELSE 'staging' END, 'team', 'team' || (i % 20)),
       1, 1,
       CASE WHEN i % 10 = 0 THEN now() - interval '3 days' ELSE now() - (i % 60) * interval '1 second' END,
       now() - interval '90 days', now()
FROM generate_series(1, $1::int) AS i`

const seedJobsSQL = `
INSERT INTO jobs (id, host_id, kind, actor_type, actor_id, status, exit_code, summary, spec, log_lines_reported,
                  created_at, started_at, finished_at, updated_at)
SELECT gen_random_uuid()::text, h.id,
       CASE WHEN j % 10 = 0 THEN 'forget' ELSE 'backup' END, 'schedule', '',
       CASE WHEN j % 50 = 0 THEN 'failed' WHEN j % 25 = 0 THEN 'warning' ELSE 'succeeded' END,
       CASE WHEN j % 50 = 0 THEN 1 WHEN j % 25 = 0 THEN 3 ELSE 0 END,
       '{"files_new":12,"files_changed":3,"files_unmodified":19985,"data_added":1048576,"total_files_processed":20000}'::jsonb,
       '{"kind":"backup","paths":["/srv/data"],"tags":["daily"]}'::jsonb, 120,
       t.ts, t.ts, t.ts + interval '5 minutes', t.ts + interval '5 minutes'
FROM hosts h CROSS JOIN generate_series(1, $1::int) AS j
CROSS JOIN LATERAL (SELECT now() - j * interval '6 hours' - (hashtext(h.id) % 3600) * interval '1 second' AS ts) t`

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkLargeHistory times the operator's fleet views on a large fleet: the first
// host page, a page deep in the list, the host summary (dashboard) and the first page of
// the fleet-wide job list. It reports p50 and p95 in milliseconds.
func BenchmarkLargeHistory(b *testing.B) {
	hosts, jobs := benchEnvInt("RM_BENCH_HOSTS", 200), benchEnvInt("RM_BENCH_JOBS_PER_HOST", 10)
	s := storetest.Open(b, store.DialectPostgres)
	ctx := context.Background()
	db, err := s.SQLDB()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := db.ExecContext(ctx, seedHostsSQL, hosts); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, seedJobsSQL, jobs); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d hosts × %d jobs in %s", hosts, jobs, time.Since(start).Round(time.Millisecond))
	onlineSince := time.Now().Add(-2 * time.Minute)
	// A cursor deep in the list: walk to the middle once.
	var deep string
	for p := 0; p < max(1, hosts/50/2); p++ {
		_, next, err := s.ListHosts(ctx, store.HostFilter{OnlineSince: onlineSince}, store.PageRequest{Limit: 50, Cursor: deep})
		if err != nil {
			b.Fatal(err)
		}
		if next == "" {
			break
		}
		deep = next
	}
	cases := []struct {
		name string
		fn   func() error
	}{
		{"HostsFirstPage", func() error {
			_, _, err := s.ListHosts(ctx, store.HostFilter{OnlineSince: onlineSince}, store.PageRequest{Limit: 50})
			return err
		}},
		{"HostsDeepPage", func() error {
			_, _, err := s.ListHosts(ctx, store.HostFilter{OnlineSince: onlineSince}, store.PageRequest{Limit: 50, Cursor: deep})
			return err
		}},
		{"HostsByLastSeen", func() error {
			_, _, err := s.ListHosts(ctx, store.HostFilter{OnlineSince: onlineSince, Sort: store.HostSortLastSeen, Desc: true}, store.PageRequest{Limit: 50})
			return err
		}},
		{"HostsOffline", func() error {
			_, _, err := s.ListHosts(ctx, store.HostFilter{OnlineSince: onlineSince, Status: store.HostOffline}, store.PageRequest{Limit: 50})
			return err
		}},
		{"HostSummary", func() error {
			_, err := s.CountHosts(ctx, onlineSince)
			return err
		}},
		{"JobsFirstPage", func() error {
			_, _, err := s.ListJobs(ctx, store.JobFilter{}, store.PageRequest{Limit: 50})
			return err
		}},
		{"JobsFailedFirstPage", func() error {
			_, _, err := s.ListJobs(ctx, store.JobFilter{Statuses: []string{protocol.JobFailed}}, store.PageRequest{Limit: 50})
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var d []float64
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				if err := c.fn(); err != nil {
					b.Fatal(err)
				}
				d = append(d, float64(time.Since(t0).Microseconds())/1000)
			}
			slices.Sort(d)
			b.ReportMetric(d[len(d)/2], "p50-ms")
			b.ReportMetric(d[min(len(d)-1, len(d)*95/100)], "p95-ms")
		})
	}
}

// BenchmarkLogInsertCandidates compares, below GORM, ways of inserting one batch of 5000
// log lines into PostgreSQL: 500-row multi-VALUES statements each in its own transaction
// (what AppendLogs did before store.IngestReports), the same in one transaction, and one
// INSERT … SELECT FROM unnest($arrays) statement (the shape IngestReports uses). It backs
// the choice recorded in docs/benchmarks.md (scenario 3).
func BenchmarkLogInsertCandidates(b *testing.B) {
	const n = 5000
	values := func(rows int) string {
		var sb strings.Builder
		sb.WriteString("INSERT INTO job_logs (job_id, seq, at, stream, text) VALUES ")
		for i := 0; i < rows; i++ {
			if i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d)", i*5+1, i*5+2, i*5+3, i*5+4, i*5+5)
		}
		sb.WriteString(" ON CONFLICT DO NOTHING")
		return sb.String()
	}
	values500 := values(500)
	const unnest = `INSERT INTO job_logs (job_id, seq, at, stream, text)
		SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`
	type batch struct {
		seq    []int64
		at     []time.Time
		stream []string
		text   []string
	}
	cases := []struct {
		name string
		fn   func(ctx context.Context, db *sql.DB, job string, bt batch) error
	}{
		{"values500_autocommit", func(ctx context.Context, db *sql.DB, job string, bt batch) error {
			for i := 0; i < n; i += 500 {
				args := make([]any, 0, 2500)
				for j := i; j < i+500; j++ {
					args = append(args, job, bt.seq[j], bt.at[j], bt.stream[j], bt.text[j])
				}
				if _, err := db.ExecContext(ctx, values500, args...); err != nil {
					return err
				}
			}
			return nil
		}},
		{"values500_one_tx", func(ctx context.Context, db *sql.DB, job string, bt batch) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			for i := 0; i < n; i += 500 {
				args := make([]any, 0, 2500)
				for j := i; j < i+500; j++ {
					args = append(args, job, bt.seq[j], bt.at[j], bt.stream[j], bt.text[j])
				}
				if _, err := tx.ExecContext(ctx, values500, args...); err != nil {
					return err
				}
			}
			return tx.Commit()
		}},
		{"unnest_one_statement", func(ctx context.Context, db *sql.DB, job string, bt batch) error {
			_, err := db.ExecContext(ctx, unnest, job, bt.seq, bt.at, bt.stream, bt.text)
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s, h, r := benchFixture(b)
			j := benchJob(b, s, h, r)
			db, err := s.SQLDB()
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var seq int64
			b.ResetTimer()
			for b.Loop() {
				bt := batch{seq: make([]int64, n), at: make([]time.Time, n), stream: make([]string, n), text: make([]string, n)}
				now := time.Now().UTC()
				for i := 0; i < n; i++ {
					seq++
					bt.seq[i], bt.at[i], bt.stream[i], bt.text[i] = seq, now, "stdout", benchLine
				}
				if err := c.fn(ctx, db, j.ID, bt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
