-- Reclaim's own tables. Reclaim never alters the application's schema.

-- One row per run (dry runs write nothing).
CREATE TABLE runs (
    id            uuid PRIMARY KEY,
    trigger       text        NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    outcome       text        NOT NULL,   -- running | completed | incomplete | failed | skipped
    reason        text,
    purged        bigint      NOT NULL DEFAULT 0,
    failed        bigint      NOT NULL DEFAULT 0,
    keys_deleted  bigint      NOT NULL DEFAULT 0,
    report        jsonb
);
CREATE INDEX runs_started_at ON runs (started_at);

-- The outbox: keys whose rows are gone (committed) but whose files may still exist.
-- Written in the same transaction that deletes the rows; a row leaves only when its store confirmed the delete.
CREATE TABLE pending_deletions (
    id              bigserial PRIMARY KEY,
    store           text        NOT NULL,
    key             text        NOT NULL,
    sweep           text        NOT NULL,
    item_id         text,
    run_id          uuid        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    UNIQUE (store, key)
);
CREATE INDEX pending_deletions_store_id ON pending_deletions (store, id);
