-- +goose Up
CREATE TABLE hosts (
    id                       TEXT PRIMARY KEY,
    name                     TEXT NOT NULL,
    hostname                 TEXT NOT NULL,
    os                       TEXT NOT NULL DEFAULT '',
    arch                     TEXT NOT NULL DEFAULT '',
    agent_version            TEXT NOT NULL DEFAULT '',
    restic_version           TEXT NOT NULL DEFAULT '',
    protocol_version         INTEGER NOT NULL DEFAULT 0,
    labels                   TEXT NOT NULL DEFAULT '{}',
    schedule_version         BIGINT NOT NULL DEFAULT 1,
    schedule_applied_version BIGINT NOT NULL DEFAULT 0,
    schedule_applied_at      DATETIME,
    config_version           BIGINT NOT NULL DEFAULT 1,
    config                   TEXT NOT NULL DEFAULT '{}',
    last_seen_at             DATETIME,
    last_hello_at            DATETIME,
    decommissioned_at        DATETIME,
    created_at               DATETIME NOT NULL,
    updated_at               DATETIME NOT NULL
);
CREATE INDEX hosts_name_idx ON hosts (name);
CREATE INDEX hosts_last_seen_idx ON hosts (last_seen_at);

CREATE TABLE agent_credentials (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id      TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   DATETIME NOT NULL,
    revoked_at   DATETIME
);
CREATE INDEX agent_credentials_host_idx ON agent_credentials (host_id);

CREATE TABLE enrollment_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    expires_at  DATETIME NOT NULL,
    max_uses    INTEGER NOT NULL,
    uses        INTEGER NOT NULL DEFAULT 0,
    revoked_at  DATETIME,
    created_at  DATETIME NOT NULL
);

CREATE TABLE repositories (
    id                TEXT PRIMARY KEY,
    host_id           TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    url               TEXT NOT NULL,
    password_enc      TEXT NOT NULL,
    rest_username     TEXT NOT NULL DEFAULT '',
    rest_password_enc TEXT NOT NULL DEFAULT '',
    env_enc           TEXT NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    UNIQUE (host_id, name)
);

CREATE TABLE schedules (
    id            TEXT PRIMARY KEY,
    host_id       TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    repository_id TEXT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    cron          TEXT NOT NULL,
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    paths         TEXT NOT NULL DEFAULT '[]',
    excludes      TEXT NOT NULL DEFAULT '[]',
    tags          TEXT NOT NULL DEFAULT '[]',
    retention     TEXT,
    options       TEXT,
    pre_hook      TEXT NOT NULL DEFAULT '',
    post_hook     TEXT NOT NULL DEFAULT '',
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    manual        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE INDEX schedules_host_idx ON schedules (host_id);

CREATE TABLE schedule_acks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id     TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    applied_at  DATETIME NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    received_at DATETIME NOT NULL
);
CREATE INDEX schedule_acks_host_idx ON schedule_acks (host_id, id);

CREATE TABLE jobs (
    id                  TEXT PRIMARY KEY,
    host_id             TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    repository_id       TEXT,
    schedule_id         TEXT,
    kind                TEXT NOT NULL,
    actor_type          TEXT NOT NULL,
    actor_id            TEXT NOT NULL DEFAULT '',
    scheduled_for       DATETIME,
    ran_offline         BOOLEAN NOT NULL DEFAULT FALSE,
    status              TEXT NOT NULL,
    exit_code           INTEGER,
    error               TEXT NOT NULL DEFAULT '',
    summary             TEXT,
    spec                TEXT NOT NULL DEFAULT '{}',
    log_lines_reported  BIGINT NOT NULL DEFAULT 0,
    cancel_requested_at DATETIME,
    created_at          DATETIME NOT NULL,
    started_at          DATETIME,
    finished_at         DATETIME,
    updated_at          DATETIME NOT NULL
);
CREATE UNIQUE INDEX jobs_schedule_tick_idx ON jobs (schedule_id, scheduled_for) WHERE schedule_id IS NOT NULL AND scheduled_for IS NOT NULL;
CREATE INDEX jobs_host_created_idx ON jobs (host_id, created_at);
CREATE INDEX jobs_status_idx ON jobs (status, created_at);

CREATE TABLE commands (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    host_id        TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    type           TEXT NOT NULL,
    job_id         TEXT NOT NULL,
    payload        TEXT NOT NULL DEFAULT '{}',
    created_at     DATETIME NOT NULL,
    delivered_at   DATETIME,
    lease_until    DATETIME,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    acked_at       DATETIME,
    ack_status     TEXT NOT NULL DEFAULT '',
    ack_reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX commands_pending_idx ON commands (host_id, id) WHERE acked_at IS NULL;

CREATE TABLE job_logs (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq    BIGINT NOT NULL,
    at     DATETIME NOT NULL,
    stream TEXT NOT NULL,
    text   TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE job_progress (
    job_id     TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    at         DATETIME NOT NULL,
    data       TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE snapshots (
    repository_id TEXT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    snapshot_id   TEXT NOT NULL,
    host_id       TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    short_id      TEXT NOT NULL,
    time          DATETIME NOT NULL,
    hostname      TEXT NOT NULL DEFAULT '',
    username      TEXT NOT NULL DEFAULT '',
    paths         TEXT NOT NULL DEFAULT '[]',
    tags          TEXT NOT NULL DEFAULT '[]',
    parent        TEXT NOT NULL DEFAULT '',
    tree          TEXT NOT NULL DEFAULT '',
    summary       TEXT,
    reported_at   DATETIME NOT NULL,
    PRIMARY KEY (repository_id, snapshot_id)
);
CREATE INDEX snapshots_host_time_idx ON snapshots (host_id, time);

CREATE TABLE repository_stats (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id           TEXT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    host_id                 TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    at                      DATETIME NOT NULL,
    total_size              BIGINT NOT NULL DEFAULT 0,
    total_uncompressed_size BIGINT NOT NULL DEFAULT 0,
    total_file_count        BIGINT NOT NULL DEFAULT 0,
    total_blob_count        BIGINT NOT NULL DEFAULT 0,
    snapshots_count         BIGINT NOT NULL DEFAULT 0,
    compression_ratio       REAL NOT NULL DEFAULT 0,
    locked                  BOOLEAN NOT NULL DEFAULT FALSE,
    lock_description        TEXT NOT NULL DEFAULT '',
    restore_size            BIGINT NOT NULL DEFAULT 0,
    restore_size_file_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX repository_stats_repo_at_idx ON repository_stats (repository_id, at);
