-- Operator API: accounts, browser sessions, API tokens, the audit log, the one-time setup
-- token of a fresh installation, and the indexes that keep host and job listings fast.

-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE, -- stored lower-cased
    name          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,         -- argon2id, PHC string format
    disabled_at   TIMESTAMPTZ,
    last_login_at TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,   -- SHA-256 of the cookie value
    csrf_hash    TEXT NOT NULL,          -- SHA-256 of the CSRF token bound to the session
    remote_addr  TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,   -- written at most once a minute
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,            -- written at most once a minute
    last_used_addr TEXT NOT NULL DEFAULT '',
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at);

CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_type  TEXT NOT NULL,           -- user, token, system, anonymous
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_name  TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,           -- e.g. host.rename
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    remote_addr TEXT NOT NULL DEFAULT '',
    details     JSONB
);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);

-- Keyset pagination of the host list: (sort column, id).
CREATE INDEX hosts_name_id_idx ON hosts (name, id);
CREATE INDEX hosts_hostname_id_idx ON hosts (hostname, id);
CREATE INDEX hosts_created_id_idx ON hosts (created_at, id);
CREATE INDEX hosts_labels_idx ON hosts USING GIN (labels jsonb_path_ops);

-- Keyset pagination of the job list, fleet-wide and per host.
CREATE INDEX jobs_created_id_idx ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_host_created_id_idx ON jobs (host_id, created_at DESC, id DESC);
CREATE INDEX jobs_schedule_created_idx ON jobs (schedule_id, created_at DESC) WHERE schedule_id IS NOT NULL;

CREATE INDEX enrollment_tokens_created_idx ON enrollment_tokens (created_at, id);
CREATE INDEX snapshots_repo_time_idx ON snapshots (repository_id, time DESC, snapshot_id);
