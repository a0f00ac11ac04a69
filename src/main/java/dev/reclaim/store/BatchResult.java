package dev.reclaim.store;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one delete call did to each key: deleted (or already gone), failed with the store's reason, kept because the
 * store's reference check found a row that still holds it, or refused as outside the store's allowed prefixes (those
 * two never sent to the store's API).
 */
public record BatchResult(List<String> deleted, Map<String, String> failed, List<String> kept,
                          Map<String, String> versions, List<String> refused) {

    /** {@code versions}: for an S3 versioned bucket, the version id of the delete marker each deleted key got. */
    public BatchResult(List<String> deleted, Map<String, String> failed, List<String> kept, Map<String, String> versions) {
        this(deleted, failed, kept, versions, List.of());
    }

    public BatchResult(List<String> deleted, Map<String, String> failed, List<String> kept) {
        this(deleted, failed, kept, Map.of());
    }

    /** The same, with {@code refused} refused by the prefix guard. */
    BatchResult refusing(List<String> refused) {
        return refused.isEmpty() ? this : new BatchResult(deleted, failed, kept, versions, List.copyOf(refused));
    }

    public BatchResult(List<String> deleted, Map<String, String> failed) {
        this(deleted, failed, List.of());
    }

    public static BatchResult allFailed(List<String> keys, String reason) {
        Map<String, String> failed = new LinkedHashMap<>();
        keys.forEach(k -> failed.put(k, reason));
        return new BatchResult(List.of(), failed);
    }
}
