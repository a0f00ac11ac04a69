package dev.reclaim.run;

import dev.reclaim.report.RunTally;

import java.sql.SQLException;
import java.util.UUID;

/**
 * What a run's sweeps answer to while they work: the run lock, verified before each page and each drain; and the
 * run's counts in its ledger row, kept current from its tally so that a killed run's row still says what it did.
 */
final class RunControl {
    private final RunLock lock;
    private final RunLedger ledger;
    private final UUID runId;
    private final RunTally tally;
    private Counts recorded = new Counts(0, 0, 0);

    private record Counts(long purged, long failed, long keysDeleted) {
    }

    /** {@code ledger} null: no ledger row to keep current (a dry run). */
    RunControl(RunLock lock, RunLedger ledger, UUID runId, RunTally tally) {
        this.lock = lock;
        this.ledger = ledger;
        this.runId = runId;
        this.tally = tally;
    }

    /** Outside a run (retries of single items): no lock, no ledger row. */
    public static RunControl none() {
        return new RunControl(null, null, null, null);
    }

    /** Throws {@link RunLockLost} when the run no longer holds its lock; then records the counts, if they changed. */
    synchronized void check() throws SQLException { // the sweep's thread and its drain's both check
        if (lock == null) {
            return;
        }
        lock.verify();
        if (ledger == null) {
            return;
        }
        Counts now = new Counts(tally.purged(), tally.failed(), tally.keysDeleted());
        if (!now.equals(recorded)) {
            ledger.progress(lock.connection(), runId, now.purged(), now.failed(), now.keysDeleted());
            recorded = now;
        }
    }
}
