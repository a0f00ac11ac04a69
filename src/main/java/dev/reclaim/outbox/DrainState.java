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
    private boolean runOnly;

    /** A drain that takes only the keys the running run put in the outbox (a plan being applied). */
    public static DrainState thisRunOnly() {
        DrainState state = new DrainState();
        state.runOnly = true;
        return state;
    }

    boolean runOnly() {
        return runOnly;
    }

    /**
     * One drain of one store: the batches it read, and the first one it read but did not try (quota spent, deadline,
     * reference check), before which the next drain must resume, so that no key is ever passed over.
     */
    static final class Cursor {
        private long after;
        private long firstUntried = Long.MAX_VALUE;
        private long readFrom;

        private Cursor(long after) {
            this.after = after;
        }

        /** Where the next batch starts: after the last id read. */
        long after() {
            return after;
        }

        /** A batch read, ids {@code first} to {@code last}: untried until {@link #tried()}. */
        void read(long first, long last) {
            readFrom = first;
            firstUntried = Math.min(firstUntried, first);
            after = last;
        }

        /** The batch last read was tried: each of its keys deleted, kept, refused or marked failed. */
        void tried() {
            if (firstUntried == readFrom) {
                firstUntried = Long.MAX_VALUE;
            }
        }

        long resumePoint() {
            return Math.max(0, Math.min(after, firstUntried - 1));
        }
    }

    /** Where this run's last drain of {@code store} left off (nothing before it is due again in this run). */
    Cursor cursor(String store) {
        return new Cursor(resumeAfter.getOrDefault(store, 0L));
    }

    void save(String store, Cursor cursor) {
        resumeAfter.put(store, cursor.resumePoint());
    }

    /** True for the run's first drain only. */
    boolean firstDrain() {
        boolean first = !storesChecked;
        storesChecked = true;
        return first;
    }

    void stop(String store) {
        stopped.add(store);
    }

    boolean stopped(String store) {
        return stopped.contains(store);
    }
}
