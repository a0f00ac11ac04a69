-- A key's attempts are spaced in time: it is tried again only once next_attempt_at has passed, never twice in one run
-- (last_run_id), and with a retry queue it leaves the outbox only after its failures have spanned the retry period
-- (first_failed_at). Without a queue it never leaves until its store confirms the delete.
ALTER TABLE pending_deletions
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN first_failed_at timestamptz,
    ADD COLUMN last_run_id     uuid;
