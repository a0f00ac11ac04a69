package dev.reclaim.store;

import java.time.Instant;

/** One object or asset as a store lists it: its key (S3 key, Cloudinary public_id), when it was created, its size. */
public record StoredAsset(String key, Instant createdAt, long bytes) {
}
