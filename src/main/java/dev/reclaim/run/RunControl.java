package dev.reclaim.run;

import dev.reclaim.sweep.SweepTally;
import dev.reclaim.outbox.OutboxTally;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What a run's sweeps answer to while they work: the run lock, verified before each page and each drain; the
 * tallies of the sweeps started so far, so that a run that fails still reports what they did; and the run's counts
 * in its ledger row, kept current so that a killed run's row still says what it did.
 */
public final class RunControl {
    private final RunLock lock;
    private final RunLedger ledger;
    private final UUID runId;
    private final OutboxTally outboxTally;
    private final List<SweepTally> tallies = new ArrayList<>();
    private long purgedRecorded;
    private long failedRecorded;
    private long keysDeletedRecorded;

    /** {@code ledger} null: no ledger row to keep current (a dry run). */
    RunControl(RunLock lock, RunLedger ledger, UUID runId, OutboxTally outboxTally) {
        this.lock = lock;
        this.ledger = ledger;
        this.runId = runId;
        this.outboxTally = outboxTally;
    }

    /** Outside a run (retries of single items): no lock, no ledger row. */
    public static RunControl none() {
        return new RunControl(null, null, null, null);
    }

    void register(SweepTally tally) {
        tallies.add(tally);
    }

    /** The tallies of the sweeps started so far, in the order they started. */
    List<SweepTally> tallies() {
        return List.copyOf(tallies);
    }

    /** Throws {@link RunLockLost} when the run no longer holds its lock; then records the counts, if they changed. */
    void check() throws SQLException {
        if (lock == null) {
            return;
        }
        lock.verify();
        if (ledger == null) {
            return;
        }
        long purged = tallies.stream().mapToLong(SweepTally::purged).sum();
        long failed = tallies.stream().mapToLong(SweepTally::failedCount).sum();
        long keysDeleted = outboxTally.deletedPerStore().values().stream().mapToLong(Long::longValue).sum();
        if (purged != purgedRecorded || failed != failedRecorded || keysDeleted != keysDeletedRecorded) {
            ledger.progress(lock.connection(), runId, purged, failed, keysDeleted);
            purgedRecorded = purged;
            failedRecorded = failed;
            keysDeletedRecorded = keysDeleted;
        }
    }
}
