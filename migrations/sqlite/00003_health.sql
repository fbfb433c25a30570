-- Fleet health (SQLite flavour of ../postgres/00003_health.sql): per-host backup objectives and their evaluated state, alerts with their
-- history, notification channels, routing rules, per-schedule ping URLs, and the
-- delivery log with every attempt.

-- +goose Up
-- An operator's override of a host's backup objective (the maximum age of its last
-- successful backup). Without one the objective is derived from its backup schedules.
CREATE TABLE host_objectives (
    host_id         TEXT PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
    max_age_seconds BIGINT NOT NULL,
    updated_by      TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);

-- The objective state of each host as last evaluated; written only when it changes.
CREATE TABLE host_health (
    host_id           TEXT PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
    objective_state   TEXT NOT NULL,                -- ok, at_risk, violated, none
    objective_seconds BIGINT NOT NULL DEFAULT 0,    -- 0: no objective
    objective_source  TEXT NOT NULL DEFAULT '',     -- schedules, override, default
    last_backup_at    DATETIME,
    state_since       DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
CREATE INDEX host_health_state_idx ON host_health (objective_state);

-- Alerts: one open alert per host and condition at most, enforced by the database so
-- that replicas evaluating at the same time cannot open it twice. Resolved alerts stay
-- as history.
CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    host_id     TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    condition   TEXT NOT NULL,   -- backup_objective, agent_offline, repository_locked, check_failed, restic_outdated
    severity    TEXT NOT NULL,   -- info, warning, critical (the highest reached while open)
    message     TEXT NOT NULL DEFAULT '',
    details     TEXT,
    opened_at   DATETIME NOT NULL,
    resolved_at DATETIME,
    resolution  TEXT NOT NULL DEFAULT '',
    updated_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX alerts_open_idx ON alerts (host_id, condition) WHERE resolved_at IS NULL;
CREATE INDEX alerts_opened_idx ON alerts (opened_at, id);
CREATE INDEX alerts_host_opened_idx ON alerts (host_id, opened_at);

CREATE TABLE notification_channels (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,               -- webhook, email, chat
    config_enc TEXT NOT NULL,               -- sealed JSON: URLs, secrets, SMTP settings
    summary    TEXT NOT NULL DEFAULT '',    -- what may be shown: URL host, recipients
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE notification_rules (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    channel_id   TEXT NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    events       TEXT NOT NULL DEFAULT '[]',   -- empty: alert.opened, alert.escalated, alert.resolved
    conditions   TEXT NOT NULL DEFAULT '[]',   -- empty: every condition
    min_severity TEXT NOT NULL DEFAULT '',
    job_kinds    TEXT NOT NULL DEFAULT '[]',   -- empty: every kind
    host_ids     TEXT NOT NULL DEFAULT '[]',   -- empty: every host
    labels       TEXT NOT NULL DEFAULT '{}',   -- all must match
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);
CREATE INDEX notification_rules_channel_idx ON notification_rules (channel_id);

-- Healthchecks-style ping URL of a schedule: /start when its job starts, the URL itself
-- on success, /fail on failure.
CREATE TABLE schedule_pings (
    schedule_id TEXT PRIMARY KEY REFERENCES schedules (id) ON DELETE CASCADE,
    host_id     TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    url_enc     TEXT NOT NULL,
    url_host    TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);

-- The delivery log and queue. (target, event_key) is unique: an event reaches a channel
-- once, whichever replica noticed it. Workers claim due rows with a conditional update
-- (FOR UPDATE SKIP LOCKED on PostgreSQL).
CREATE TABLE notification_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    target_type     TEXT NOT NULL,               -- channel, ping
    target_id       TEXT NOT NULL,               -- channel id or schedule id
    target_name     TEXT NOT NULL DEFAULT '',
    rule_id         TEXT NOT NULL DEFAULT '',
    event_type      TEXT NOT NULL,
    event_key       TEXT NOT NULL,
    host_id         TEXT NOT NULL DEFAULT '',
    alert_id        TEXT NOT NULL DEFAULT '',
    job_id          TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,               -- pending, sending, delivered, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    claimed_until   DATETIME,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    delivered_at    DATETIME
);
CREATE UNIQUE INDEX notification_deliveries_event_idx ON notification_deliveries (target_type, target_id, event_key);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX notification_deliveries_alert_idx ON notification_deliveries (alert_id) WHERE alert_id <> '';

CREATE TABLE notification_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id BIGINT NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          DATETIME NOT NULL,
    ok          BOOLEAN NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX notification_attempts_delivery_idx ON notification_attempts (delivery_id, id);

-- Marks of the evaluator: the last round, and how far finished jobs were scanned.
CREATE TABLE health_meta (
    name TEXT PRIMARY KEY,
    at   DATETIME NOT NULL
);

-- The evaluator's per-host lookups (last successful backup, last check) and its scan of
-- jobs that changed since the previous round.
CREATE INDEX jobs_host_kind_finished_idx ON jobs (host_id, kind, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_updated_idx ON jobs (updated_at);
