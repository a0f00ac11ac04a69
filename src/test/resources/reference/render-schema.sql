-- Reference application 2: a renderer whose completed jobs leave an output object in S3; a job's output is kept
-- only while a user_assets row references it (metadata->>'render_job_id').

CREATE TABLE render_jobs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    output_key   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
CREATE INDEX render_jobs_completed ON render_jobs (completed_at) WHERE status = 'completed';
CREATE INDEX render_jobs_output_key ON render_jobs (output_key); -- the render-outputs store's reference check

CREATE TABLE user_assets (
    id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id  uuid  NOT NULL,
    name     text  NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX user_assets_render_job ON user_assets ((metadata ->> 'render_job_id'));
