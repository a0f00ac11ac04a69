package dev.reclaim.report;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Map;

/**
 * One sweep's part of a run. In a dry run, {@code purged} and the figures say what would have happened.
 * {@code stoppedBy} is {@code cap}, {@code timeBudget} or {@code rateLimited} when the sweep ended early,
 * {@code stopRequested} when the run was asked to stop (SIGTERM), {@code runFailed} when the run failed during it
 * (its figures are then what it did up to the failure).
 * Asset sweeps also report {@code scanned} (listed), {@code referenced}, {@code bytesReclaimed}, the API calls made
 * per store and, when rate limited, when the quota resets; for them {@code purged} is the number of assets deleted
 * and {@code referenced} the distinct keys kept as still referenced. {@code keysKeptReferenced}: keys the stores'
 * reference checks kept out of the outbox's deletes. {@code error}: why the sweep stopped
 * ({@code referenceCheckFailed}), naming the query and a value it should not have returned.
 * {@code listingWarning}: set when an asset sweep listed more than 10 times what was eligible (from 1,000 listed),
 * naming the ratio, the store, the prefix and the remedies.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SweepReport(
        String name,
        String kind,
        String cutoff,
        long eligible,
        long purged,
        long skipped,
        long failed,
        List<Failure> failures,
        Map<String, Long> figures,
        Map<String, Long> keysCollected,
        Map<String, Long> keysDeleted,
        Map<String, Long> keysFailed,
        long keysRefused,
        List<String> sampleIds,
        Map<String, List<String>> sampleKeys,
        boolean complete,
        String stoppedBy,
        long durationMs,
        Long scanned,
        Long referenced,
        Long bytesReclaimed,
        Map<String, Long> apiCalls,
        String quotaResetsAt,
        Map<String, Long> keysKeptReferenced,
        String error,
        String listingWarning) {

    /** A failed item: its id, the step that failed (if any) and the error. */
    public record Failure(String item, String step, String error) {
    }
}
