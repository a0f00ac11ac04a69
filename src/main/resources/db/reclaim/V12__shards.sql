-- A run that fans a sweep out: its shards, each one message on the work queue, purged by one worker at a time.
-- after_id / up_to_id: the shard's range of eligible ids as text (null: open); after_id moves on page by page, so a
-- redelivered shard resumes where its last worker stopped. status: waiting | running | done | held | failed | parked.
CREATE TABLE shards (
    run_id       uuid        NOT NULL,
    sweep        text        NOT NULL,
    shard        integer     NOT NULL,
    shards       integer     NOT NULL,
    after_id     text,
    up_to_id     text,
    fingerprint  text        NOT NULL,
    status       text        NOT NULL DEFAULT 'waiting',
    attempts     integer     NOT NULL DEFAULT 0,
    purged       bigint      NOT NULL DEFAULT 0,
    failed       bigint      NOT NULL DEFAULT 0,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, sweep, shard)
);
CREATE INDEX shards_open ON shards (sweep, status) WHERE status IN ('waiting', 'running');

-- What a fanned-out run may delete across all its shards (the per-run cap and the brake, counted once for the run):
-- workers take from it a page at a time and give back what they did not use.
CREATE TABLE fanouts (
    run_id  uuid   NOT NULL,
    sweep   text   NOT NULL,
    budget  bigint NOT NULL,
    used    bigint NOT NULL DEFAULT 0,
    rule    text   NOT NULL,   -- cap, or the brake's rule (firstRuns, volume, approved, off)
    basis   text   NOT NULL,
    PRIMARY KEY (run_id, sweep)
);
