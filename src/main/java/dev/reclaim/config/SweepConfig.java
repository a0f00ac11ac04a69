package dev.reclaim.config;

import java.time.Duration;
import java.util.List;

/** A named unit of cleanup work. Each kind has one sweep class in {@code dev.reclaim.sweep}. */
public sealed interface SweepConfig permits SweepConfig.Records, SweepConfig.Assets {

    String name();

    Duration olderThan();

    /** Upper bound on deletions in one run; reaching it ends the sweep cleanly. */
    long maxDeletesPerRun();

    /**
     * Expired soft-deleted rows: the user says which rows are eligible (given {@code :cutoff}); the engine pages
     * through them by key, claims each in its own transaction and runs the steps in order.
     */
    record Records(String name, Duration olderThan, int pageSize, long maxDeletesPerRun,
                   SqlTemplate eligible, SqlTemplate claim, List<Step> steps) implements SweepConfig {
    }

    /**
     * Abandoned uploads: storage-driven. Pages through {@code prefix} in {@code store}; what matches the {@code match}
     * glob and is older than the retention is checked against the database ({@code referenced} gets the page's keys
     * as {@code :keys} and returns those still referenced; optional when the store declares its own, null when
     * unset); the rest is deleted in batches at the store's limit.
     */
    record Assets(String name, String store, String prefix, String match, Duration olderThan, long maxDeletesPerRun,
                  SqlTemplate referenced) implements SweepConfig {
    }

    /**
     * One statement of an item's purge. It may collect storage keys (every non-null value of every returned column)
     * into a store, count its rows into a figure, and keep its first column as an array for later steps.
     */
    record Step(String name, SqlTemplate sql, String collect, String count, String keep) {
    }
}
