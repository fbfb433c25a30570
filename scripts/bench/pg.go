package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// pgCounters are the cumulative counters of pg_stat_database for one database.
type pgCounters struct {
	XactCommit, XactRollback                                     int64
	TupReturned, TupFetched, TupInserted, TupUpdated, TupDeleted int64
}

func (a pgCounters) sub(b pgCounters) pgCounters {
	return pgCounters{
		XactCommit: a.XactCommit - b.XactCommit, XactRollback: a.XactRollback - b.XactRollback,
		TupReturned: a.TupReturned - b.TupReturned, TupFetched: a.TupFetched - b.TupFetched,
		TupInserted: a.TupInserted - b.TupInserted, TupUpdated: a.TupUpdated - b.TupUpdated, TupDeleted: a.TupDeleted - b.TupDeleted,
	}
}

func (r *runner) openAdmin(ctx context.Context) error {
	cfg, err := pgxpool.ParseConfig(r.adminURL)
	if err != nil {
		return err
	}
	cfg.MaxConns = 3
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return fmt.Errorf("PostgreSQL at %s: %w", redact(r.adminURL), err)
	}
	r.admin = p
	return nil
}

// createDB creates a fresh database and returns its name and URL.
func (r *runner) createDB(ctx context.Context, label string) (string, string, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "rmbench_" + label + "_" + hex.EncodeToString(b)
	if _, err := r.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", err
	}
	r.dbs = append(r.dbs, name)
	u, err := url.Parse(r.adminURL)
	if err != nil {
		return "", "", err
	}
	u.Path = "/" + name
	return name, u.String(), nil
}

func (r *runner) dropDBs() {
	if r.keep {
		r.logf("keeping databases %v", r.dbs)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range r.dbs {
		if _, err := r.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			r.logf("drop %s: %v", name, err)
		}
	}
}

func (r *runner) counters(ctx context.Context, db string) (pgCounters, error) {
	var c pgCounters
	err := r.admin.QueryRow(ctx, `SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted
		FROM pg_stat_database WHERE datname = $1`, db).Scan(&c.XactCommit, &c.XactRollback, &c.TupReturned, &c.TupFetched, &c.TupInserted, &c.TupUpdated, &c.TupDeleted)
	return c, err
}

func (r *runner) backendPIDs(db string) []int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := r.admin.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1", db)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			out = append(out, pid)
		}
	}
	return out
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Large history (scenario 6): the same statements as server/internal/store/store_bench_test.go.
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

func (r *runner) seedLargeHistory(ctx context.Context, dbURL string, hosts, jobs int) (time.Duration, error) {
	p, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	start := time.Now()
	if _, err := p.Exec(ctx, seedHostsSQL, hosts); err != nil {
		return 0, fmt.Errorf("seed hosts: %w", err)
	}
	if _, err := p.Exec(ctx, seedJobsSQL, jobs); err != nil {
		return 0, fmt.Errorf("seed jobs: %w", err)
	}
	if _, err := p.Exec(ctx, "ANALYZE"); err != nil {
		return 0, fmt.Errorf("analyze: %w", err)
	}
	return time.Since(start), nil
}

// statementLog counts the statements PostgreSQL logs for one database while
// log_statement = 'all' is set on it (ALTER DATABASE … SET, so only new sessions of
// that database log). It reads the server's log file from where it ended at start.
type statementLog struct {
	path   string
	db     string
	offset int64
}

func (r *runner) startStatementLog(ctx context.Context, db string) *statementLog {
	if r.pgLog == "" {
		return nil
	}
	fi, err := os.Stat(r.pgLog)
	if err != nil {
		r.logf("statement log: %v (counting transactions only)", err)
		return nil
	}
	if _, err := r.admin.Exec(ctx, "ALTER DATABASE "+db+" SET log_statement = 'all'"); err != nil {
		r.logf("statement log: %v", err)
		return nil
	}
	return &statementLog{path: r.pgLog, db: db, offset: fi.Size()}
}

func (r *runner) stopStatementLog(ctx context.Context, l *statementLog) {
	if l != nil {
		_, _ = r.admin.Exec(ctx, "ALTER DATABASE "+l.db+" RESET log_statement")
	}
}

// count returns the statements logged for the database between from and to, and the
// count of each statement's first words.
func (l *statementLog) count(from, to time.Time) (int, map[string]int, error) {
	if l == nil {
		return 0, nil, errors.New("no statement log")
	}
	f, err := os.Open(l.path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	if _, err := f.Seek(l.offset, io.SeekStart); err != nil {
		return 0, nil, err
	}
	kinds := map[string]int{}
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	needle := "@" + l.db + " LOG:  "
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, needle)
		if i < 0 || len(line) < 27 {
			continue
		}
		rest := line[i+len(needle):]
		var stmt string
		switch {
		case strings.HasPrefix(rest, "statement: "):
			stmt = strings.TrimPrefix(rest, "statement: ")
		case strings.HasPrefix(rest, "execute "):
			_, stmt, _ = strings.Cut(rest, ": ")
		default:
			continue
		}
		at, err := time.Parse("2006-01-02 15:04:05.000 MST", line[:27])
		if err != nil || at.Before(from) || at.After(to) {
			continue
		}
		n++
		f := strings.Fields(stmt)
		key := strings.Join(f[:min(len(f), 4)], " ")
		if key == "" {
			key = "(text on the next log lines)"
		}
		if len(key) > 60 {
			key = key[:60]
		}
		kinds[key]++
	}
	return n, kinds, sc.Err()
}
