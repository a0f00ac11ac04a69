package dev.reclaim.store;

import java.util.List;

/** The key prefixes a store may delete under. Reclaim never sends a key outside them to a store's API. */
public record PrefixGuard(List<String> prefixes) {

    public boolean allows(String key) {
        if (key == null || key.isEmpty()) {
            return false;
        }
        for (String p : prefixes) {
            if (key.startsWith(p)) {
                return true;
            }
        }
        return false;
    }
}
