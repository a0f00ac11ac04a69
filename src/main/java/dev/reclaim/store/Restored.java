package dev.reclaim.store;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one restore call did to each key: brought back, already present (nothing to do), or not restorable with the
 * store's reason (an unversioned bucket, no backup, a version already expired).
 */
public record Restored(List<String> restored, List<String> alreadyPresent, Map<String, String> notRestorable) {

    public static Restored none(List<String> keys, String reason) {
        Map<String, String> why = new LinkedHashMap<>();
        keys.forEach(k -> why.put(k, reason));
        return new Restored(List.of(), List.of(), why);
    }
}
