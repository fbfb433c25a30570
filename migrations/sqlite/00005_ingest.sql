-- Log ingest without a per-row foreign key check, as on PostgreSQL (see
-- migrations/postgres/00005_ingest.sql): store.IngestReports checks the job once per
-- report. SQLite cannot drop a constraint, so the table is rebuilt.

-- +goose Up
CREATE TABLE job_logs_new (
    job_id TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    at     DATETIME NOT NULL,
    stream TEXT NOT NULL,
    text   TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
INSERT INTO job_logs_new (job_id, seq, at, stream, text) SELECT job_id, seq, at, stream, text FROM job_logs;
DROP TABLE job_logs;
ALTER TABLE job_logs_new RENAME TO job_logs;
