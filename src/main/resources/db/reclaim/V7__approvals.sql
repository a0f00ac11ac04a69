-- reclaim approve: lets the next real run of a sweep past its brake once (max_items: its limit then; null: none).
-- A run that uses an approval records itself in used_by_run, so it is never used twice.
CREATE TABLE approvals (
    id          bigserial PRIMARY KEY,
    sweep       text        NOT NULL,
    max_items   bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_by_run uuid,
    used_at     timestamptz
);
CREATE INDEX approvals_pending ON approvals (sweep) WHERE used_by_run IS NULL;
