package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// JobReport is one report of a running job: its latest progress or a batch of log lines.
type JobReport struct {
	HostID, JobID string
	// Progress is set for a progress report; Lines for a log batch.
	Progress *protocol.Progress
	Lines    []protocol.LogLine
}

// JobReportResult answers one JobReport.
type JobReportResult struct {
	// Job holds what the agent's answer needs: id, host, status and cancellation.
	Job Job
	// Accepted counts the log lines that were new (a resent line is not).
	Accepted int
	// Err is ErrNotFound when the job does not exist or is not the host's.
	Err error
}

// IngestReports stores many jobs' reports at once: on PostgreSQL in one statement,
// on SQLite in one transaction. Progress of a finished job is ignored; log lines are
// stored whatever the job's status (an agent sends its tail after the finish when a
// connection broke), deduplicated by (job, seq). Several log batches of one job are
// allowed; they are stored in turn so each gets its own count.
func (s *Store) IngestReports(ctx context.Context, reports []JobReport) ([]JobReportResult, error) {
	out := make([]JobReportResult, len(reports))
	for _, round := range ingestRounds(reports) {
		var err error
		if s.dialect == DialectPostgres {
			err = s.ingestPostgres(ctx, reports, round, out)
		} else {
			err = s.tx(ctx, func(tx *gorm.DB) error { return s.ingestGORM(tx, reports, round, out) })
		}
		if err != nil {
			return nil, fmt.Errorf("store: ingest reports: %w", err)
		}
	}
	return out, nil
}

// ingestRounds splits reports (by index) so that no round holds two log batches of one
// job: a line count per batch then needs no bookkeeping of which batch a row came from.
func ingestRounds(reports []JobReport) [][]int {
	var rounds [][]int
	var seen []map[string]bool
	for i, r := range reports {
		k := 0
		if r.Progress == nil {
			for k < len(seen) && seen[k][r.JobID] {
				k++
			}
		}
		if k == len(rounds) {
			rounds = append(rounds, nil)
			seen = append(seen, map[string]bool{})
		}
		rounds[k] = append(rounds[k], i)
		if r.Progress == nil {
			seen[k][r.JobID] = true
		}
	}
	return rounds
}

// ingestSQL checks every job once, inserts every line and upserts every progress in one
// statement and one commit. Rows are inserted in key order so that two concurrent
// statements never wait on each other in opposite orders. job_logs has no foreign key
// (00005_ingest.sql): the join with jobs is the check, once per statement, not per row.
const ingestSQL = `WITH j AS (
	SELECT id, host_id, status, cancel_requested_at FROM jobs WHERE id = ANY($1::text[])
), l AS (
	INSERT INTO job_logs (job_id, seq, at, stream, text)
	SELECT u.job_id, u.seq, u.at, u.stream, u.text
	FROM unnest($2::text[], $3::text[], $4::int8[], $5::timestamptz[], $6::text[], $7::text[])
		AS u(host_id, job_id, seq, at, stream, text)
	JOIN j ON j.id = u.job_id AND j.host_id = u.host_id
	ORDER BY u.job_id, u.seq
	ON CONFLICT DO NOTHING
	RETURNING job_id
), p AS (
	INSERT INTO job_progress (job_id, at, data, updated_at)
	SELECT v.job_id, v.at, v.data, $12::timestamptz
	FROM unnest($8::text[], $9::text[], $10::timestamptz[], $11::jsonb[]) AS v(host_id, job_id, at, data)
	JOIN j ON j.id = v.job_id AND j.host_id = v.host_id
	WHERE j.status NOT IN ('succeeded', 'warning', 'failed', 'cancelled')
	ORDER BY v.job_id
	ON CONFLICT (job_id) DO UPDATE SET at = EXCLUDED.at, data = EXCLUDED.data, updated_at = EXCLUDED.updated_at
)
SELECT j.id, j.host_id, j.status, j.cancel_requested_at, coalesce(c.n, 0)
FROM j LEFT JOIN (SELECT job_id, count(*) AS n FROM l GROUP BY job_id) c ON c.job_id = j.id`

func (s *Store) ingestPostgres(ctx context.Context, reports []JobReport, round []int, out []JobReportResult) error {
	now := s.now()
	var (
		jobIDs                      []string
		seenJob                     = map[string]bool{}
		lHost, lJob, lStream, lText []string
		lSeq                        []int64
		lAt                         []time.Time
		pHost, pJob, pData          []string
		pAt                         []time.Time
		progressAt                  = map[string]int{} // job → index in p*, latest report wins
	)
	for _, i := range round {
		r := reports[i]
		if !seenJob[r.JobID] {
			seenJob[r.JobID] = true
			jobIDs = append(jobIDs, r.JobID)
		}
		if r.Progress != nil {
			data, err := json.Marshal(sanitizeProgress(*r.Progress))
			if err != nil {
				return fmt.Errorf("encode progress: %w", err)
			}
			at := r.Progress.At.UTC()
			if at.IsZero() {
				at = now
			}
			if k, ok := progressAt[r.JobID]; ok { // ON CONFLICT may touch a row once per statement
				pHost[k], pAt[k], pData[k] = r.HostID, at, string(data)
				continue
			}
			progressAt[r.JobID] = len(pJob)
			pHost, pJob, pAt, pData = append(pHost, r.HostID), append(pJob, r.JobID), append(pAt, at), append(pData, string(data))
			continue
		}
		for _, l := range r.Lines {
			at := l.At.UTC()
			if at.IsZero() {
				at = now
			}
			lHost, lJob, lSeq = append(lHost, r.HostID), append(lJob, r.JobID), append(lSeq, l.Seq)
			lAt, lStream, lText = append(lAt, at), append(lStream, l.Stream), append(lText, sanitizeText(l.Text))
		}
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	s.queries.Add(1)
	rows, err := sqlDB.QueryContext(ctx, ingestSQL, jobIDs, lHost, lJob, lSeq, lAt, lStream, lText, pHost, pJob, pAt, pData, now)
	if err != nil {
		return err
	}
	defer rows.Close()
	type found struct {
		job Job
		n   int
	}
	jobs := make(map[string]found, len(jobIDs))
	for rows.Next() {
		var (
			f      found
			cancel sql.NullTime
		)
		if err := rows.Scan(&f.job.ID, &f.job.HostID, &f.job.Status, &cancel, &f.n); err != nil {
			return err
		}
		if cancel.Valid {
			t := cancel.Time
			f.job.CancelRequestedAt = &t
		}
		jobs[f.job.ID] = f
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, i := range round {
		r := reports[i]
		f, ok := jobs[r.JobID]
		if !ok || f.job.HostID != r.HostID {
			out[i] = JobReportResult{Err: ErrNotFound}
			continue
		}
		out[i] = JobReportResult{Job: f.job}
		if r.Progress == nil {
			out[i].Accepted = f.n
		}
	}
	return nil
}

// ingestGORM is the portable path (SQLite): one transaction, a few statements per report.
func (s *Store) ingestGORM(tx *gorm.DB, reports []JobReport, round []int, out []JobReportResult) error {
	now := s.now()
	for _, i := range round {
		r := reports[i]
		var j Job
		err := tx.Select("id", "host_id", "status", "cancel_requested_at").
			Where("id = ? AND host_id = ?", r.JobID, r.HostID).Take(&j).Error
		if err != nil {
			if err = notFound(err); err == ErrNotFound {
				out[i] = JobReportResult{Err: ErrNotFound}
				continue
			}
			return err
		}
		out[i] = JobReportResult{Job: j}
		if r.Progress != nil {
			if protocol.IsTerminal(j.Status) {
				continue
			}
			at := r.Progress.At.UTC()
			if at.IsZero() {
				at = now
			}
			row := JobProgress{JobID: r.JobID, At: at, Data: sanitizeProgress(*r.Progress), UpdatedAt: now}
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "job_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"at", "data", "updated_at"}),
			}).Create(&row).Error
			if err != nil {
				return fmt.Errorf("save progress: %w", err)
			}
			continue
		}
		if len(r.Lines) == 0 {
			continue
		}
		rows := make([]JobLog, len(r.Lines))
		for k, l := range r.Lines {
			at := l.At.UTC()
			if at.IsZero() {
				at = now
			}
			rows[k] = JobLog{JobID: r.JobID, Seq: l.Seq, At: at, Stream: l.Stream, Text: sanitizeText(l.Text)}
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500)
		if res.Error != nil {
			return fmt.Errorf("append logs: %w", res.Error)
		}
		out[i].Accepted = int(res.RowsAffected)
	}
	return nil
}
