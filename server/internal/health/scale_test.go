package health_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/server/internal/health"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

const fleetSize = 10000

// seedFleet writes a fleet with SQL that both dialects run: fleetSize hosts, each with
// a repository, a daily backup schedule, ten days of backup jobs, four check jobs and
// five stats samples. Every tenth host's backups stopped three days ago.
func seedFleet(t *testing.T, s *store.Store, now time.Time) {
	t.Helper()
	db, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	ts := func(d time.Duration) string { return "'" + now.Add(d).UTC().Format("2006-01-02 15:04:05-07:00") + "'" }
	seq := fmt.Sprintf("WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d) ", fleetSize)
	stmts := []string{
		`INSERT INTO hosts (id, name, hostname, restic_version, labels, last_seen_at, created_at, updated_at) ` + seq +
			`SELECT 'h-' || i, 'host-' || i, 'host-' || i || '.example', '0.18.0', '{"env":"prod"}', ` + ts(-time.Minute) + `, ` + ts(-90*24*time.Hour) + `, ` + ts(0) + ` FROM seq`,
		`INSERT INTO repositories (id, host_id, name, url, password_enc, created_at, updated_at) ` + seq +
			`SELECT 'r-' || i, 'h-' || i, 'main', '/srv/restic', 'x', ` + ts(-90*24*time.Hour) + `, ` + ts(0) + ` FROM seq`,
		`INSERT INTO schedules (id, host_id, repository_id, name, kind, cron, timezone, enabled, manual, created_at, updated_at) ` + seq +
			`SELECT 's-' || i, 'h-' || i, 'r-' || i, 'nightly', 'backup', '0 3 * * *', 'UTC', TRUE, FALSE, ` + ts(-60*24*time.Hour) + `, ` + ts(0) + ` FROM seq`,
	}
	for d := range 10 {
		day := time.Duration(d) * 24 * time.Hour
		for _, c := range []struct {
			where string
			ago   time.Duration
		}{{"i % 10 <> 0", day + time.Hour}, {"i % 10 = 0", day + 72*time.Hour}} {
			stmts = append(stmts, `INSERT INTO jobs (id, host_id, repository_id, kind, actor_type, status, created_at, started_at, finished_at, updated_at) `+seq+
				fmt.Sprintf(`SELECT 'jb-%d-' || i, 'h-' || i, 'r-' || i, 'backup', 'schedule', 'succeeded', %s, %s, %s, %s FROM seq WHERE %s`,
					d, ts(-c.ago-time.Hour), ts(-c.ago-time.Hour), ts(-c.ago), ts(-c.ago), c.where))
		}
	}
	for w := range 4 {
		week := time.Duration(w) * 7 * 24 * time.Hour
		stmts = append(stmts, `INSERT INTO jobs (id, host_id, repository_id, kind, actor_type, status, created_at, started_at, finished_at, updated_at) `+seq+
			fmt.Sprintf(`SELECT 'jc-%d-' || i, 'h-' || i, 'r-' || i, 'check', 'schedule', 'succeeded', %s, %s, %s, %s FROM seq`,
				w, ts(-week-5*time.Hour), ts(-week-5*time.Hour), ts(-week-4*time.Hour), ts(-week-4*time.Hour)))
	}
	for k := range 5 {
		stmts = append(stmts, `INSERT INTO repository_stats (repository_id, host_id, at, total_size, snapshots_count, locked) `+seq+
			fmt.Sprintf(`SELECT 'r-' || i, 'h-' || i, %s, 1000000 * CAST(i AS BIGINT), 10 + %d, FALSE FROM seq`, ts(-time.Duration(k)*24*time.Hour), k))
	}
	if s.Dialect() == store.DialectPostgres {
		stmts = append(stmts, "ANALYZE") // what autovacuum does after a bulk load
	}
	start := time.Now()
	for _, q := range stmts {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
	t.Logf("seeded %d hosts, %d jobs, %d stats samples in %s", fleetSize, 14*fleetSize, 5*fleetSize, time.Since(start).Round(time.Millisecond))
}

// TestEvaluationScales evaluates a fleet of 10,000 hosts and reports how long a round
// takes: the first (every state written, a thousand alerts opened) and a steady one.
// Each round runs a constant number of statements, whatever the fleet's size.
func TestEvaluationScales(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 hosts")
	}
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, dialect)
			now := time.Now().UTC().Truncate(time.Second)
			seedFleet(t, s, now)
			ev, err := health.New(health.Config{Now: func() time.Time { return now }}, s, slog.New(slog.NewTextHandler(io.Discard, nil)), health.Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for round := 1; round <= 3; round++ {
				before := s.Statements()
				start := time.Now()
				out, err := ev.RunOnce(ctx)
				if err != nil {
					t.Fatal(err)
				}
				took := time.Since(start)
				stmts := s.Statements() - before
				t.Logf("%s round %d: %d hosts in %s, %d statements, %d states written, %d alerts opened",
					dialect, round, out.Hosts, took.Round(time.Millisecond), stmts, out.HealthWritten, len(out.Opened))
				switch round {
				case 1:
					if out.Hosts != fleetSize || out.HealthWritten != fleetSize || len(out.Opened) != fleetSize/10 {
						t.Fatalf("first round: %d hosts, %d written, %d opened", out.Hosts, out.HealthWritten, len(out.Opened))
					}
				default:
					if out.HealthWritten != 0 || len(out.Opened) != 0 || stmts > 12 {
						t.Fatalf("steady round: %d written, %d opened, %d statements", out.HealthWritten, len(out.Opened), stmts)
					}
				}
				if took > 30*time.Second {
					t.Fatalf("round %d took %s", round, took)
				}
			}
			sum, err := s.HealthSummary(ctx)
			if err != nil || sum.States[store.ObjectiveViolated] != fleetSize/10 || sum.States[store.ObjectiveOK] != fleetSize-fleetSize/10 {
				t.Fatalf("summary: %+v %v", sum.States, err)
			}
		})
	}
}
