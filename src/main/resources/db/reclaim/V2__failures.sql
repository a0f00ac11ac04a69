-- Items that failed in a run, kept until the retry queue (SQS) has accepted them. A failure is only ever deleted
-- from here after SendMessageBatch reported it as sent; if SQS is unreachable it waits for the next run.
CREATE TABLE failures (
    id              bigserial PRIMARY KEY,
    sweep           text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('record', 'asset', 'deletion')),
    item_id         text,
    store           text,
    keys            text[],
    error_class     text        NOT NULL,
    error_message   text,
    run_id          uuid        NOT NULL,
    correlation_id  text        NOT NULL,
    first_failed_at timestamptz NOT NULL,
    retry_count     integer     NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now()
);
