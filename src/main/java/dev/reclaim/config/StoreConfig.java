package dev.reclaim.config;

import java.time.Duration;
import java.util.List;

/** A named place files live in. Every store declares the prefixes it may delete under (the prefix guard). */
public sealed interface StoreConfig permits StoreConfig.S3, StoreConfig.Cloudinary {

    String name();

    List<String> allowedPrefixes();

    /**
     * Optional: of {@code :keys}, those some row of the application still holds. Run right before every delete call
     * against this store (assets sweeps, outbox drains, retries); a key it returns is never deleted. Null when unset.
     */
    SqlTemplate referenced();

    /** An S3 bucket. Region and endpoint default to the SDK's own chain ({@code AWS_REGION}, {@code AWS_ENDPOINT_URL_S3}). */
    record S3(String name, String bucket, String region, String endpoint, boolean pathStyle,
              List<String> allowedPrefixes, SqlTemplate referenced) implements StoreConfig {
    }

    /**
     * A Cloudinary product environment, credentials from {@code CLOUDINARY_URL}. {@code backups}: the account backs up
     * its assets (automatic backup on), so what Reclaim deletes can be restored; the Admin API does not report it.
     */
    record Cloudinary(String name, String resourceType, String deliveryType, double quotaReserve,
                      Duration timeout, int maxAttempts, Duration retryDelay,
                      List<String> allowedPrefixes, SqlTemplate referenced, FolderMode folderMode, boolean backups)
            implements StoreConfig {

        /** An account without backups. */
        public Cloudinary(String name, String resourceType, String deliveryType, double quotaReserve,
                          Duration timeout, int maxAttempts, Duration retryDelay,
                          List<String> allowedPrefixes, SqlTemplate referenced, FolderMode folderMode) {
            this(name, resourceType, deliveryType, quotaReserve, timeout, maxAttempts, retryDelay, allowedPrefixes,
                    referenced, folderMode, false);
        }
    }

    /**
     * How a Cloudinary account keeps folders: {@code fixed} (legacy: the folder is the start of the public id) or
     * {@code dynamic} (accounts since June 2024: the asset folder is apart from the public id); {@code auto} asks the
     * account. An explicit mode is checked against the account too: a mismatch is a configuration error.
     */
    enum FolderMode {
        FIXED, DYNAMIC, AUTO;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
