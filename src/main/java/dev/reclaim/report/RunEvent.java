package dev.reclaim.report;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What happens in a run, as it happens: sweeps, the outbox drain, the store calls and the failure pipeline report to
 * one {@link RunEvents} sink, and the report, the progress lines, metrics and error reporting listen. Events are not
 * kept: a listener keeps counts and bounded samples. {@code sweep} is null where no sweep is concerned.
 */
public sealed interface RunEvent {

    /** Who made a store call: a sweep's own deletes, or the outbox drain deleting what a purged item's rows owned. */
    enum Source { SWEEP, OUTBOX }

    record RunStarted(UUID runId, String trigger, boolean dryRun, List<String> sweeps) implements RunEvent {
    }

    /** The last event of a run, whatever its outcome: the report is final. */
    record RunFinished(RunReport report) implements RunEvent {
    }

    /** A phase of a run began (lock, drain, publish ...), for breadcrumbs. */
    record Phase(String name, String detail) implements RunEvent {
    }

    record SweepStarted(String sweep, String kind, Instant cutoff) implements RunEvent {
    }

    /** A page listed: assets from a store (store set), or eligible ids from the database (store null). */
    record PageListed(String sweep, String store, int listed) implements RunEvent {
    }

    record ItemsEligible(String sweep, long count) implements RunEvent {
    }

    /** A record purged (in a dry run: would be), with its step counts and the keys its rows owned, by store. */
    record ItemPurged(String sweep, String item, Map<String, Long> figures, Map<String, List<String>> keys)
            implements RunEvent {
    }

    /**
     * No longer eligible when claimed (restored, locked by the application, already gone), or, applying a plan,
     * {@code changedSince}: its rows now own a file the plan does not hold.
     */
    record ItemSkipped(String sweep, String item, String reason) implements RunEvent {
        public ItemSkipped(String sweep, String item) {
            this(sweep, item, "notEligible");
        }
    }

    /** An item failed and was rolled back; {@code refused}: a guard refused it (keys outside a store's prefixes). */
    record ItemFailed(String sweep, String item, String step, String error, String errorClass, boolean refused)
            implements RunEvent {
    }

    /**
     * Keys a store confirmed deleted (in a dry run, from a sweep: would delete), and the bytes they held if known;
     * {@code sizes}: each key's bytes where the listing said (a dry run's plan lists them), else empty.
     */
    record KeysDeleted(String sweep, String store, List<String> keys, long bytes, Source source,
                       Map<String, Long> sizes) implements RunEvent {
        public KeysDeleted(String sweep, String store, List<String> keys, long bytes, Source source) {
            this(sweep, store, keys, bytes, source, Map.of());
        }
    }

    /**
     * A sweep's brake tripped ({@code rule}: {@code volume}, {@code firstRuns}, {@code collapse}; {@code detail} with
     * its figures): the sweep deletes nothing more. In a dry run ({@code wouldHold}) it only says so and goes on.
     */
    record SweepHeld(String sweep, String rule, String detail, boolean wouldHold) implements RunEvent {
    }

    /**
     * Listed assets an assets sweep leaves alone, once per page and reason: {@code tooYoung}, {@code outsideGlob},
     * {@code pendingInOutbox} (a record's file waiting in the outbox: the drain deletes and counts it),
     * {@code deletedMeanwhile} (a drain or retry elsewhere deleted it after it was listed, and counted it).
     */
    record AssetsPassedOver(String sweep, String store, String reason, List<String> keys) implements RunEvent {
    }

    /** Keys whose delete failed, each with its reason; {@code errorClass} says what kind of failure. */
    record KeysFailed(String sweep, String store, Map<String, String> reasons, String errorClass, Source source)
            implements RunEvent {
    }

    /** Keys a guard refused to delete: outside the store's allowed prefixes. */
    record KeysRefused(String sweep, String store, List<String> keys, Source source) implements RunEvent {
    }

    /** Keys kept because a reference check found them still in use. */
    record KeysKept(String sweep, String store, List<String> keys, Source source) implements RunEvent {
    }

    /** Calls made to a store's API; {@code sweep} null for the outbox drain. */
    record ApiCalls(String sweep, String store, long calls) implements RunEvent {
    }

    /** A store's API quota as its last answer reported it. */
    record QuotaSeen(String store, long remaining, long limit, Instant resetsAt) implements RunEvent {
    }

    /**
     * A sweep ended before its work was done: {@code cap}, {@code timeBudget}, {@code rateLimited},
     * {@code referenceCheckFailed}; {@code error} and {@code quotaResetsAt} when they apply.
     */
    record SweepStopped(String sweep, String reason, String error, Instant quotaResetsAt) implements RunEvent {
    }

    record SweepFinished(String sweep) implements RunEvent {
    }

    /**
     * Where an assets sweep's listing went in this run: the last key of the position it resumed from (null: the
     * start), the last key it looked at, whether it reached the end ({@code wrapped}: the next run starts over), the
     * full passes completed so far, why it started over ({@code restarted}: {@code cursorRefused},
     * {@code configurationChanged}; else null), and whether the position was kept ({@code kept} false: a dry run or
     * a plan applied leave it as it was).
     */
    record ListingProgressed(String sweep, String resumedFrom, String stoppedAt, boolean wrapped, long passes,
                             String restarted, boolean kept) implements RunEvent {
    }

    /** A records sweep split into shards on the work queue; {@code warning}: what the queue refused, purged here. */
    record SweepFannedOut(String sweep, int shards, int sent, long limit, String why, String warning)
            implements RunEvent {
    }

    /** An asset sweep listed far more than it found eligible: the warning names the remedies. */
    record ListingWarned(String sweep, String warning) implements RunEvent {
    }

    /** No more outbox deletes go to this store in this run (a reference check that cannot be trusted). */
    record DrainStopped(String store, String error) implements RunEvent {
    }

    /** A failed item recorded durably for retry. */
    record FailureRecorded(String sweep, String kind) implements RunEvent {
    }

    /** Recorded failures handed to the retry queue. */
    record FailuresSent(long count) implements RunEvent {
    }

    /** A retry-queue message processed: {@code outcome} is succeeded, failedAgain, deadLettered or deferred. */
    record RetryProcessed(String kind, String sweep, String outcome) implements RunEvent {
    }

    /** The outbox at the end of a run: keys still pending, and how long the oldest has waited (null when none). */
    record PendingDeletionsCounted(long pending, java.time.Duration oldestAge) implements RunEvent {
    }

    /** Items a records sweep still found eligible when it ended, counted up to {@code bound}. */
    record BacklogCounted(String sweep, long eligible, long bound) implements RunEvent {
    }

    /** The retry handler (or the retry command) finished a batch of retry-queue messages. */
    record RetryBatchFinished(int messages, boolean dryRun) implements RunEvent {
    }

    /** Right after {@link RunStarted}: when the run stops taking new items (null: no time budget), for time left. */
    record TimeBudget(Instant deadline) implements RunEvent {
    }

    /**
     * The run failed as a whole ({@code reason} as its report gives it), with the exception that failed it. Before
     * {@link RunFinished}; the only event after {@link RunStarted} when an exception escapes the run.
     */
    record RunFailed(String reason, Throwable error) implements RunEvent {
    }
}
