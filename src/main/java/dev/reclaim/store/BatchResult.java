package dev.reclaim.store;

import java.util.List;
import java.util.Map;

/** What one delete call did to each key: deleted (or already gone), or failed with the store's reason. */
public record BatchResult(List<String> deleted, Map<String, String> failed) {

    public static BatchResult allFailed(List<String> keys, String reason) {
        Map<String, String> failed = new java.util.LinkedHashMap<>();
        keys.forEach(k -> failed.put(k, reason));
        return new BatchResult(List.of(), failed);
    }
}
