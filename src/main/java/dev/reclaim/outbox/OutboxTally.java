package dev.reclaim.outbox;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Keys deleted, kept (still referenced), failed and refused, by sweep and store, over one or more drains. */
public final class OutboxTally {
    private final Map<String, Map<String, Long>> deleted = new TreeMap<>();
    private final Map<String, Map<String, Long>> failed = new TreeMap<>();
    private final Map<String, Long> refused = new TreeMap<>();
    private final Map<String, Map<String, Long>> kept = new TreeMap<>();
    private final Map<String, String> stopped = new TreeMap<>();
    private final Map<String, Long> resumeAfter = new TreeMap<>();
    private boolean storesChecked;

    long resumeAfter(String store) {
        return resumeAfter.getOrDefault(store, 0L);
    }

    void resumeAfter(String store, long id) {
        resumeAfter.put(store, Math.max(0, id));
    }

    boolean storesChecked() {
        return storesChecked;
    }

    void storesChecked(boolean checked) {
        storesChecked = checked;
    }

    void deleted(String sweep, String store, long n) {
        add(deleted, sweep, store, n);
    }

    void failed(String sweep, String store, long n) {
        add(failed, sweep, store, n);
    }

    void kept(String sweep, String store, long n) {
        add(kept, sweep, store, n);
    }

    /** No more deletes go to this store in this run, and why. */
    void stop(String store, String why) {
        stopped.putIfAbsent(store, why);
    }

    boolean stopped(String store) {
        return stopped.containsKey(store);
    }

    /** Why stores' drains stopped in this run (a reference check that cannot be trusted). */
    public List<String> errors() {
        return List.copyOf(stopped.values());
    }

    public Map<String, Long> keptBy(String sweep) {
        return kept.getOrDefault(sweep, Map.of());
    }

    public Map<String, Long> keptPerStore() {
        return perStore(kept);
    }

    void refused(String sweep, long n) {
        refused.merge(sweep, n, Long::sum);
    }

    public Map<String, Long> deletedBy(String sweep) {
        return deleted.getOrDefault(sweep, Map.of());
    }

    public Map<String, Long> failedBy(String sweep) {
        return failed.getOrDefault(sweep, Map.of());
    }

    public long refusedBy(String sweep) {
        return refused.getOrDefault(sweep, 0L);
    }

    public Map<String, Long> deletedPerStore() {
        return perStore(deleted);
    }

    public Map<String, Long> failedPerStore() {
        return perStore(failed);
    }

    public long refused() {
        return refused.values().stream().mapToLong(Long::longValue).sum();
    }

    private static void add(Map<String, Map<String, Long>> m, String sweep, String store, long n) {
        if (n > 0) {
            m.computeIfAbsent(sweep, s -> new TreeMap<>()).merge(store, n, Long::sum);
        }
    }

    private static Map<String, Long> perStore(Map<String, Map<String, Long>> m) {
        Map<String, Long> out = new TreeMap<>();
        m.values().forEach(byStore -> byStore.forEach((store, n) -> out.merge(store, n, Long::sum)));
        return out;
    }
}
