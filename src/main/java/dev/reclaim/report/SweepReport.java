package dev.reclaim.report;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/**
 * One sweep's part of a run. In a dry run ({@code dryRun}, not in the JSON) the figures say what would have happened,
 * and the JSON names them so: {@code wouldPurge} (records), {@code wouldDelete} (assets), {@code wouldDeleteKeys},
 * {@code bytesWouldReclaim} in place of {@code purged}, {@code keysCollected}, {@code bytesReclaimed}; and
 * {@code brakeWouldHold} in place of {@code brake} (why the sweep's brake held it, {@code stoppedBy: brake}).
 * {@code stoppedBy} is {@code cap}, {@code timeBudget} or {@code rateLimited} when the sweep ended early,
 * {@code stopRequested} when the run was asked to stop (SIGTERM), {@code runFailed} when the run failed during it
 * (its figures are then what it did up to the failure).
 * Asset sweeps also report {@code scanned} (listed), {@code referenced}, {@code bytesReclaimed}, the API calls made
 * per store and, when rate limited, when the quota resets; for them {@code purged} is the number of assets deleted
 * and {@code referenced} the distinct keys kept as still referenced. {@code keysKeptReferenced}: keys the stores'
 * reference checks kept out of the outbox's deletes. {@code error}: why the sweep stopped
 * ({@code referenceCheckFailed}), naming the query and a value it should not have returned.
 * {@code listingWarning}: set when an asset sweep listed more than 10 times what was eligible (from 1,000 listed),
 * naming the ratio, the store, the prefix and the remedies. {@code listing}: where an assets sweep's listing resumed
 * and stopped, and its passes ({@link Listing}). {@code fannedOut}: the run split the sweep into shards on
 * the work queue (its figures are then the shards' work, in {@code reclaim status}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SweepReport(
        String name,
        String kind,
        String cutoff,
        long eligible,
        @JsonIgnore long purged,
        long skipped,
        long failed,
        List<Failure> failures,
        Map<String, Long> figures,
        @JsonIgnore Map<String, Long> keysCollected,
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
        @JsonIgnore Long bytesReclaimed,
        Map<String, Long> apiCalls,
        String quotaResetsAt,
        Map<String, Long> keysKeptReferenced,
        String error,
        String listingWarning,
        Listing listing,
        FannedOut fannedOut,
        @JsonIgnore String brake,
        @JsonIgnore boolean dryRun) {

    // A dry run's JSON names its figures as what would happen: a records sweep would purge, an assets sweep would
    // delete (never "purge"); a real run's say what happened.

    @JsonProperty("purged")
    Long purgedDone() {
        return dryRun ? null : purged;
    }

    @JsonProperty("wouldPurge")
    Long wouldPurge() {
        return dryRun && !"assets".equals(kind) ? purged : null;
    }

    @JsonProperty("wouldDelete")
    Long wouldDelete() {
        return dryRun && "assets".equals(kind) ? purged : null;
    }

    @JsonProperty("keysCollected")
    Map<String, Long> keysCollectedDone() {
        return dryRun ? null : keysCollected;
    }

    @JsonProperty("wouldDeleteKeys")
    Map<String, Long> wouldDeleteKeys() {
        return dryRun ? keysCollected : null;
    }

    /** Why the brake held the sweep (a real run), with the rule and its figures. */
    @JsonProperty("brake")
    String brakeHeld() {
        return dryRun ? null : brake;
    }

    /** A dry run: why the brake would hold the real run. */
    @JsonProperty("brakeWouldHold")
    String brakeWouldHold() {
        return dryRun ? brake : null;
    }

    @JsonProperty("bytesReclaimed")
    Long bytesReclaimedDone() {
        return dryRun ? null : bytesReclaimed;
    }

    @JsonProperty("bytesWouldReclaim")
    Long bytesWouldReclaim() {
        return dryRun ? bytesReclaimed : null;
    }

    /**
     * An assets sweep's listing in this run: the last key before where it resumed ({@code resumedFrom}, null: the
     * start), the last key it looked at ({@code stoppedAt}), {@code wrapped} when it reached the end (the next run
     * starts over), the full passes completed, why it started over ({@code restarted}) if it did, and
     * {@code positionKept} (false in a dry run or a plan applied: the next run resumes where this one did).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Listing(String resumedFrom, String stoppedAt, boolean wrapped, long passes, String restarted,
                          boolean positionKept) {
    }

    /** A failed item: its id, the step that failed (if any) and the error. */
    public record Failure(String item, String step, String error) {
    }

    /**
     * A sweep this run split into {@code shards} shards on the work queue ({@code sent} of them accepted; the run purged
     * the others itself, {@code warning} says why), with {@code limit} deletions across them and {@code why}.
     */
    public record FannedOut(int shards, int sent, long limit, String why, String warning) {
    }
}
