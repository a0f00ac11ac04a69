-- What a plan being applied (reclaim apply) holds: sweeps look up each page in it, so a plan of any size applies in
-- memory of one page. Rows live only while their plan is applied; store is '' for a record id.
CREATE TABLE plan_entries (
    plan_id uuid NOT NULL,
    sweep   text NOT NULL,
    store   text NOT NULL,
    value   text NOT NULL,
    PRIMARY KEY (plan_id, sweep, store, value)
);
