-- Where each assets sweep's listing resumes: a run that stops before the end of its listing (time budget, cap,
-- quota reserve, maxListPagesPerRun) leaves its position here, and the next run carries on from it, wrapping around
-- at the end. fingerprint: the store, its scope (bucket, account, folder mode) and the prefix the position belongs
-- to; a position under another fingerprint is not used (the listing starts over). Dry runs never write here.
CREATE TABLE listing_positions (
    sweep          text        PRIMARY KEY,
    fingerprint    text        NOT NULL,
    cursor         text,                  -- the store's cursor to resume from; null: from the start
    last_key       text,                  -- the last key the listing looked at (what status shows)
    passes         bigint      NOT NULL DEFAULT 0, -- full passes completed under this fingerprint
    carried        boolean     NOT NULL DEFAULT false, -- the run stopped holding orphans short of a delete batch
    cursor_refused bigint      NOT NULL DEFAULT 0, -- times the store refused a kept cursor (the listing started over)
    run_id         uuid,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
