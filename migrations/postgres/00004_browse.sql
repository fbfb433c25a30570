-- Browsing snapshots through the agent: the requests operators wait for (ls, index,
-- find, diff, dump) with their results, the listing cache per repository, snapshot and
-- directory (snapshots are immutable, so it never goes stale), and downloads relayed
-- through the database with their short-lived, single-use tickets.

-- +goose Up
CREATE TABLE browse_requests (
    id            TEXT PRIMARY KEY,
    host_id       TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    repository_id TEXT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,               -- ls, index, find, diff, dump
    cache_key     TEXT NOT NULL,               -- what the answer depends on: dedupe and cache
    params        JSONB NOT NULL DEFAULT '{}',
    status        TEXT NOT NULL,               -- pending, running, succeeded, failed, cancelled
    error_code    TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    result        JSONB,                       -- find and diff
    actor_type    TEXT NOT NULL DEFAULT '',
    actor_id      TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    expires_at    TIMESTAMPTZ NOT NULL         -- unfinished by then: failed (no agent answered)
);
CREATE INDEX browse_requests_key_idx ON browse_requests (repository_id, cache_key, created_at DESC);
CREATE INDEX browse_requests_open_idx ON browse_requests (expires_at) WHERE finished_at IS NULL;

-- One row per snapshot that has cached listings; index_state tells whether the whole
-- tree is there (then a directory missing from browse_dirs does not exist).
CREATE TABLE browse_snapshots (
    id            BIGSERIAL PRIMARY KEY,
    repository_id TEXT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    snapshot_id   TEXT NOT NULL,               -- the full id
    index_state   TEXT NOT NULL DEFAULT '',    -- '', building, ready, failed
    index_request TEXT NOT NULL DEFAULT '',
    index_error   TEXT NOT NULL DEFAULT '',
    indexed_at    TIMESTAMPTZ,
    dirs          BIGINT NOT NULL DEFAULT 0,
    entries       BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (repository_id, snapshot_id)
);

-- A directory whose listing is complete, with its number of entries.
CREATE TABLE browse_dirs (
    snapshot_key BIGINT NOT NULL REFERENCES browse_snapshots (id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    total        BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (snapshot_key, path)
);

-- The entries of a directory in chunks of a fixed number of entries (name order), each
-- a gzip'd JSON array: compact, and a page reads only the chunks it shows.
CREATE TABLE browse_chunks (
    snapshot_key BIGINT NOT NULL REFERENCES browse_snapshots (id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    chunk        INTEGER NOT NULL,             -- offset / chunk size
    count        INTEGER NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (snapshot_key, path, chunk)
);
ALTER TABLE browse_chunks ALTER COLUMN data SET STORAGE EXTERNAL; -- already compressed

CREATE TABLE downloads (
    id          TEXT PRIMARY KEY REFERENCES browse_requests (id) ON DELETE CASCADE,
    snapshot_id TEXT NOT NULL,
    path        TEXT NOT NULL,
    archive     TEXT NOT NULL DEFAULT '',
    node_type   TEXT NOT NULL DEFAULT '',      -- file or dir, once the agent started
    total_size  BIGINT,                        -- a file's size when started; an archive's when complete
    received    BIGINT NOT NULL DEFAULT 0,
    sha256      TEXT NOT NULL DEFAULT '',
    max_bytes   BIGINT NOT NULL,
    consumed_at TIMESTAMPTZ,                   -- a browser read it to the end
    expires_at  TIMESTAMPTZ NOT NULL           -- its bytes are deleted then
);

-- The bytes of a download as the agent sent them, in order.
CREATE TABLE download_chunks (
    download_id TEXT NOT NULL REFERENCES downloads (id) ON DELETE CASCADE,
    pos         BIGINT NOT NULL,               -- byte offset of the chunk
    data        BYTEA NOT NULL,
    PRIMARY KEY (download_id, pos)
);
ALTER TABLE download_chunks ALTER COLUMN data SET STORAGE EXTERNAL; -- no pglz on file bytes

CREATE TABLE download_tickets (
    token_hash  TEXT PRIMARY KEY,              -- SHA-256 of the ticket
    download_id TEXT NOT NULL REFERENCES downloads (id) ON DELETE CASCADE,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX download_tickets_download_idx ON download_tickets (download_id);
