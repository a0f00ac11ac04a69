package dev.reclaim.store;

import java.util.List;

/**
 * One place files live in (an S3 bucket, a Cloudinary environment). Deletes in batches no larger than
 * {@link #maxBatch()} and reports every key's outcome; a key that is already gone counts as deleted.
 */
public interface Store {

    String name();

    /** The most keys one delete call may carry (S3: 1000, Cloudinary: 100). */
    int maxBatch();

    /** The prefixes this store may delete under; anything else is refused before it reaches the API. */
    PrefixGuard guard();

    /**
     * Deletes {@code keys} (at most {@link #maxBatch()}, all allowed by the guard). Throws when the whole call
     * failed; per-key failures come back in the result.
     */
    BatchResult delete(List<String> keys);
}
