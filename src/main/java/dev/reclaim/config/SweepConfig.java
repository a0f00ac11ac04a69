package dev.reclaim.config;

import java.time.Duration;
import java.util.List;

/** A named unit of cleanup work. Each kind has one sweep class in {@code dev.reclaim.sweep}. */
public sealed interface SweepConfig permits SweepConfig.Records, SweepConfig.Assets {

    String name();

    Duration olderThan();

    /** Upper bound on deletions in one run; reaching it ends the sweep cleanly. */
    long maxDeletesPerRun();

    /** When a run that looks nothing like the sweep's history stops itself. */
    Brake brake();

    /**
     * The brake: a run stops before its deletions pass {@code max(minItems, factor × median of the last 7 completed
     * runs)}, or {@code firstRunLimit} while the sweep has fewer than 3 completed runs; an assets page with at least
     * 100 candidates of which none is referenced, for a sweep whose recent runs found 10% or more referenced, stops
     * the sweep before it is deleted. {@code on} false only when the configuration says {@code brake: off}.
     */
    record Brake(boolean on, long minItems, double factor, long firstRunLimit) {
        public static final Brake DEFAULT = new Brake(true, 100, 3, 1_000);
        public static final Brake OFF = new Brake(false, 100, 3, 1_000);
    }

    /**
     * Expired soft-deleted rows: the user says which rows are eligible (given {@code :cutoff}); the engine pages
     * through them by key, claims each in its own transaction and runs the steps in order.
     */
    record Records(String name, Duration olderThan, int pageSize, long maxDeletesPerRun,
                   SqlTemplate eligible, SqlTemplate claim, List<Step> steps, Brake brake, FanOut fanOut)
            implements SweepConfig {
    }

    /**
     * When a scheduled run splits a records sweep into shards of {@code shardSize} eligible ids on the work queue:
     * {@code never}; {@code auto} (the default) when its backlog is more than the run can purge in its time, at the
     * sweep's measured rate; {@code always}. Only with a work queue ({@code RECLAIM_WORK_QUEUE_URL}).
     */
    record FanOut(Mode mode, long shardSize) {
        public static final FanOut DEFAULT = new FanOut(Mode.AUTO, 10_000);
        /** An S3 assets sweep's default: shards of 1,000 folders (or keys) one level under its prefix. */
        public static final FanOut ASSETS_DEFAULT = new FanOut(Mode.AUTO, 1_000);
        /** Cloudinary: the account's hourly Admin API quota binds, and more workers would only share it. */
        public static final FanOut NEVER_FOR_ASSETS = new FanOut(Mode.NEVER, 1_000);

        public enum Mode { NEVER, AUTO, ALWAYS }
    }

    /**
     * Abandoned uploads: storage-driven. Pages through {@code prefix} in {@code store}; what matches the {@code match}
     * glob and is older than the retention is checked against the database ({@code referenced} gets the page's keys
     * as {@code :keys} and returns those still referenced; optional when the store declares its own, null when
     * unset); the rest is deleted in batches at the store's limit. At most {@code maxListPagesPerRun} pages are listed
     * a run; the next run carries on where it stopped ({@code dev.reclaim.sweep.ListingPosition}). On an S3 store
     * {@code fanOut} splits the prefix into key ranges of {@code shardSize} entries of its first level (a folder or a
     * key) on the work queue; a Cloudinary sweep stays on one worker ({@link FanOut#NEVER_FOR_ASSETS}).
     */
    record Assets(String name, String store, String prefix, String match, Duration olderThan, long maxDeletesPerRun,
                  long maxListPagesPerRun, SqlTemplate referenced, Brake brake, FanOut fanOut) implements SweepConfig {
    }

    /**
     * One statement of an item's purge. It may collect storage keys (every non-null value of every returned column)
     * into a store, count its rows into a figure, and keep its first column as an array for later steps.
     */
    record Step(String name, SqlTemplate sql, String collect, String count, String keep) {
    }
}
