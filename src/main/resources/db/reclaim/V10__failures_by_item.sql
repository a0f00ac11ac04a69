-- A records sweep leaves out the items waiting in the failure table (the failure pipeline retries them): one lookup
-- per page by sweep and item.
CREATE INDEX failures_record_item ON failures (sweep, item_id) WHERE kind = 'record';
