package dev.reclaim.store;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The real stores with their reference queries left to whoever wires them: tests that put a store of their own
 * between Reclaim and a real store (to slow it, fail it, count its calls) hand Reclaim the wrapper, and Reclaim puts
 * the guard and the reference check around it, as it does around the store itself.
 */
public final class ApiStores {
    private ApiStores() {
    }

    public static Map<String, Store> of(Stores built) {
        Map<String, Store> out = new LinkedHashMap<>();
        built.all().forEach((name, guarded) -> out.put(name, guarded.api()));
        return out;
    }
}
