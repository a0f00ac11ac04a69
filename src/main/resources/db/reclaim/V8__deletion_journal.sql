-- The deletion journal: every key a store confirmed deleted, one multi-row insert per delete batch, kept for
-- RECLAIM_JOURNAL_RETENTION (30d) so reclaim restore can bring a wrongly deleted file back where its store keeps
-- versions (version_id: the delete marker an S3 versioned bucket created). restored_at: brought back since.
CREATE TABLE deleted_keys (
    id          bigserial PRIMARY KEY,
    run_id      uuid,
    sweep       text,
    item_id     text,
    store       text        NOT NULL,
    key         text        NOT NULL,
    deleted_at  timestamptz NOT NULL DEFAULT now(),
    bytes       bigint,
    version_id  text,
    restored_at timestamptz
);
CREATE INDEX deleted_keys_run ON deleted_keys (run_id);
CREATE INDEX deleted_keys_store_key ON deleted_keys (store, key);
CREATE INDEX deleted_keys_deleted_at ON deleted_keys (deleted_at);

-- Keys an operator restored: no sweep, outbox drain or retry deletes them again until reclaim unprotect.
CREATE TABLE protected_keys (
    store       text        NOT NULL,
    key         text        NOT NULL,
    restored_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store, key)
);
