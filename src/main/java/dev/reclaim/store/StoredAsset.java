package dev.reclaim.store;

import java.time.Instant;

/**
 * One object or asset as a store lists it: its key (S3 key, Cloudinary public_id: what reference queries and delete
 * calls use), when it was created, its size, and its path (what a sweep's prefix, glob and the store's allowed
 * prefixes are matched against: the key itself, except where a store keeps folders apart from keys, as Cloudinary's
 * dynamic folder mode does).
 */
public record StoredAsset(String key, Instant createdAt, long bytes, String path) {

    public StoredAsset(String key, Instant createdAt, long bytes) {
        this(key, createdAt, bytes, key);
    }
}
