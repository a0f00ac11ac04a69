-- Reference application 1: LEGO MOC instructions (soft-deleted MOCs, their files, parts lists and gallery images).

CREATE TABLE moc_instructions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid        NOT NULL,
    title         text        NOT NULL,
    thumbnail_key text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);
CREATE INDEX moc_instructions_deleted ON moc_instructions (deleted_at) WHERE deleted_at IS NOT NULL;
-- The moc-files store's reference check asks "does any row still hold this key?" before every delete.
CREATE INDEX moc_instructions_thumbnail_key ON moc_instructions (thumbnail_key);

-- Instruction PDFs, parts-list exports: S3 objects owned by the MOC.
CREATE TABLE moc_files (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    moc_id    uuid NOT NULL REFERENCES moc_instructions (id) ON DELETE CASCADE,
    file_type text NOT NULL,
    s3_key    text NOT NULL
);
CREATE INDEX moc_files_moc ON moc_files (moc_id);
CREATE INDEX moc_files_key ON moc_files (s3_key); -- the upload-temp sweep asks "is this key referenced?"

CREATE TABLE moc_parts_lists (
    id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    moc_id uuid NOT NULL REFERENCES moc_instructions (id) ON DELETE CASCADE,
    name   text NOT NULL
);
CREATE INDEX moc_parts_lists_moc ON moc_parts_lists (moc_id);

-- The user's bricks. Allocated to a parts list while a MOC uses them; deleting a parts list would delete them
-- (ON DELETE CASCADE), which is why a purge returns them to 'available' first.
CREATE TABLE moc_parts (
    id            bigserial PRIMARY KEY,
    user_id       uuid NOT NULL,
    part_number   text NOT NULL,
    color         text NOT NULL,
    parts_list_id uuid REFERENCES moc_parts_lists (id) ON DELETE CASCADE,
    status        text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'allocated', 'missing'))
);
CREATE INDEX moc_parts_list ON moc_parts (parts_list_id);

CREATE TABLE gallery_images (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid        NOT NULL,
    s3_key        text        NOT NULL,
    thumbnail_key text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gallery_images_s3_key ON gallery_images (s3_key);               -- the moc-files store's reference check
CREATE INDEX gallery_images_thumbnail_key ON gallery_images (thumbnail_key); -- likewise

-- A gallery image may be linked to several MOCs.
CREATE TABLE moc_gallery_images (
    moc_id           uuid NOT NULL REFERENCES moc_instructions (id) ON DELETE CASCADE,
    gallery_image_id uuid NOT NULL REFERENCES gallery_images (id) ON DELETE CASCADE,
    PRIMARY KEY (moc_id, gallery_image_id)
);
CREATE INDEX moc_gallery_images_image ON moc_gallery_images (gallery_image_id);
