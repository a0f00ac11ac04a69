package dev.reclaim.config;

import com.fasterxml.jackson.annotation.JsonValue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A named place files live in. Every store declares the prefixes it may delete under (the prefix guard). */
public sealed interface StoreConfig permits StoreConfig.S3, StoreConfig.Cloudinary {

    String name();

    List<String> allowedPrefixes();

    /**
     * Optional: of {@code :keys}, those some row of the application still holds. Run right before every delete call
     * against this store (assets sweeps, outbox drains, retries); a key it returns is never deleted. Null when unset.
     */
    SqlTemplate referenced();

    /**
     * An S3 bucket. Region and endpoint default to the SDK's own chain ({@code AWS_REGION}, {@code AWS_ENDPOINT_URL_S3});
     * {@code credentials} null: the process's AWS credentials. {@code batchDelete} false: one DeleteObject call per key,
     * for a service that does not implement DeleteObjects.
     */
    record S3(String name, String bucket, String region, String endpoint, boolean pathStyle,
              List<String> allowedPrefixes, SqlTemplate referenced, Credentials credentials, boolean batchDelete)
            implements StoreConfig {

        /** A bucket signed with the process's AWS credentials, deleted from in batches. */
        public S3(String name, String bucket, String region, String endpoint, boolean pathStyle,
                  List<String> allowedPrefixes, SqlTemplate referenced) {
            this(name, bucket, region, endpoint, pathStyle, allowedPrefixes, referenced, null, true);
        }
    }

    /**
     * A store's own key pair (an S3-compatible service's), each read from the environment variable the file names;
     * logs, reports and the configuration in force show only those names.
     */
    record Credentials(String accessKeyIdVariable, String accessKeyId, String secretAccessKeyVariable,
                       String secretAccessKey) {

        /** What the configuration in force shows (and hashes): the variables, never their values. */
        @JsonValue
        public Map<String, String> shown() {
            return new TreeMap<>(Map.of("accessKeyId", "${" + accessKeyIdVariable + "}",
                    "secretAccessKey", "${" + secretAccessKeyVariable + "}"));
        }

        @Override
        public String toString() {
            return "keys from ${" + accessKeyIdVariable + "} and ${" + secretAccessKeyVariable + "}";
        }
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
