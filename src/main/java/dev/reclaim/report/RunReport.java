package dev.reclaim.report;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What a run did, returned by the handler and the CLI and stored in the run ledger. {@code folderModes}: the folder
 * mode each Cloudinary store's account reported ({@code fixed} or {@code dynamic}). {@code apiCalls}: every call made
 * to each store's API in the run, the set-up (a Cloudinary account's folder mode), the sweeps and the outbox drain
 * alike, per store: what the run spent of a Cloudinary account's hourly quota. {@code undoable}: per store,
 * {@code yes} when its deletions can be restored, else why not.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunReport(
        String runId,
        String trigger,
        boolean dryRun,
        Outcome outcome,
        String reason,
        Instant startedAt,
        Instant finishedAt,
        long durationMs,
        List<SweepReport> sweeps,
        OutboxReport outbox,
        FailureReport failures,
        Map<String, String> folderModes,
        Map<String, Long> apiCalls,
        Map<String, String> undoable) {

    /**
     * The outbox over the whole run: keys deleted and failed per store, keys refused by a guard, keys still pending
     * ({@code pendingUnknown} is true when a failed run could not count them: the database was unreachable), keys kept
     * because a store's reference check found them still in use (they left the outbox undeleted), and why a store's
     * drains stopped (a reference check that cannot be trusted).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record OutboxReport(Map<String, Long> deleted, Map<String, Long> failed, long refused, long pending,
                               Boolean pendingUnknown, Map<String, Long> keptReferenced, List<String> errors) {
        public OutboxReport(Map<String, Long> deleted, Map<String, Long> failed, long refused, long pending) {
            this(deleted, failed, refused, pending, null, Map.of(), List.of());
        }
    }

    /**
     * Failed items over the run: recorded (durably, in reclaim.failures), sent to the retry queue, and still waiting
     * in the table (SQS unreachable: they go out with the next run; no queue configured: each run retries them
     * itself, {@code retried} of them this run, {@code retriedOk} with success).
     */
    public record FailureReport(long recorded, long sent, long pending, boolean queueConfigured, long retried,
                                long retriedOk) {
    }

    public long purged() {
        return sweeps.stream().mapToLong(SweepReport::purged).sum();
    }

    public long failed() {
        return sweeps.stream().mapToLong(SweepReport::failed).sum();
    }

    public long keysDeleted() {
        return outbox == null ? 0 : outbox.deleted().values().stream().mapToLong(Long::longValue).sum();
    }
}
