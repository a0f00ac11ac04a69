-- A record failure the retry queue accepted stays here, marked sent_at, until its retry settles it (succeeds, or finds
-- the item no longer eligible): meanwhile a records sweep leaves the item out, as its message waits on the queue. A
-- row sent longer ago than SQS keeps a message (14 days at most: parked in the dead-letter queue, or lost) no longer
-- holds the item back, and goes.
ALTER TABLE failures ADD COLUMN sent_at timestamptz;
