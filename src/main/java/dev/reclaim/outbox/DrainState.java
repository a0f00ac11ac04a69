package dev.reclaim.outbox;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where one run's drains are, store by store: the id the next drain resumes after, and the stores no more deletes go
 * to in this run. One per run; its counts are events, not kept here.
 */
public final class DrainState {
    private final Map<String, Long> resumeAfter = new TreeMap<>();
    private final Set<String> stopped = new HashSet<>();
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

    void stop(String store) {
        stopped.add(store);
    }

    boolean stopped(String store) {
        return stopped.contains(store);
    }
}
