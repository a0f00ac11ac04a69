package dev.reclaim.run;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** What a run did, returned by the handler and the CLI and stored in the run ledger. */
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
        FailureReport failures) {

    /**
     * The outbox over the whole run: keys deleted and failed per store, keys refused by a guard, keys still pending.
     * {@code pendingUnknown} is true when a failed run could not count them (the database was unreachable).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record OutboxReport(Map<String, Long> deleted, Map<String, Long> failed, long refused, long pending,
                               Boolean pendingUnknown) {
        public OutboxReport(Map<String, Long> deleted, Map<String, Long> failed, long refused, long pending) {
            this(deleted, failed, refused, pending, null);
        }
    }

    /**
     * Failed items over the run: recorded (durably, in reclaim.failures), sent to the retry queue, and still waiting
     * in the table (no queue configured, or SQS unreachable: they go out with the next run).
     */
    public record FailureReport(long recorded, long sent, long pending, boolean queueConfigured) {
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
