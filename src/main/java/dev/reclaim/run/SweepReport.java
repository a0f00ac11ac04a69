package dev.reclaim.run;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Map;

/**
 * One sweep's part of a run. In a dry run, {@code purged} and the figures say what would have happened.
 * {@code stoppedBy} is {@code cap} or {@code timeBudget} when the sweep ended early.
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
        long durationMs) {

    /** A failed item: its id, the step that failed (if any) and the error. */
    public record Failure(String item, String step, String error) {
    }
}
