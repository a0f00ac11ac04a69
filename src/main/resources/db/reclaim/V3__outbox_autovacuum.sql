-- The outbox sees a row inserted and deleted for every file Reclaim removes: vacuum it early, so its index does not
-- fill with dead entries during a long run.
ALTER TABLE pending_deletions SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
                                   autovacuum_vacuum_insert_scale_factor = 0.01);
