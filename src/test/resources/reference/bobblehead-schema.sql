-- Reference application 3: bobbleheads. Photos are uploaded to Cloudinary under users/{userId}/temp/ while the
-- user fills the form; a saved bobblehead references its photos by public_id.

CREATE TABLE bobbleheads (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bobblehead_photos (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bobblehead_id uuid NOT NULL REFERENCES bobbleheads (id) ON DELETE CASCADE,
    public_id     text NOT NULL UNIQUE,
    position      int  NOT NULL DEFAULT 0
);
