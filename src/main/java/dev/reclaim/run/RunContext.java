package dev.reclaim.run;

import dev.reclaim.failure.Failure;
import dev.reclaim.failure.Failures;
import dev.reclaim.outbox.DrainState;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.Stores;
import dev.reclaim.sweep.SweepContext;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.UUID;

/**
 * What every sweep of one run shares: its id, the database's clock at the start (cutoffs are computed from it, so
 * the application server's clock never matters), dry run, the deadline, the pool, the stores and the outbox, and
 * where the drains are, the run's events, and its {@link RunControl} (its lock and its ledger row).
 */
record RunContext(UUID runId, Instant now, boolean dryRun, Deadline deadline, DataSource dataSource,
                         Stores stores, Outbox outbox, DrainState drains, boolean outboxReady,
                         Failures failures, RunEvents events, RunControl control)
        implements SweepContext {

    /** Outside a run (no lock, no ledger row). */
    public RunContext(UUID runId, Instant now, boolean dryRun, Deadline deadline, DataSource dataSource,
                      Stores stores, Outbox outbox, boolean outboxReady, Failures failures, RunEvents events) {
        this(runId, now, dryRun, deadline, dataSource, stores, outbox, new DrainState(), outboxReady, failures,
                events, RunControl.none());
    }

    @Override
    public boolean deadlinePassed() {
        return deadline.passed();
    }

    @Override
    public Instant deadlineAt() {
        return deadline.at();
    }

    /**
     * Call before each page and each drain: throws {@link RunLockLost} (the run must end) when the run no longer
     * holds its lock, and keeps the ledger row's counts current. One query; nothing outside a run.
     */
    public void checkRunLock() throws SQLException {
        control.check();
    }

    /**
     * The deadline of an outbox drain: the run's, or after a stop was requested (SIGTERM), a few seconds' grace so
     * the keys of the items already purged are deleted if they can be.
     */
    public Deadline drainDeadline() {
        return deadline.grace();
    }

    /** Deletes every pending key now (not in a dry run, nor before Reclaim's schema exists); checks the lock first. */
    public void drainOutbox(Connection c) throws SQLException {
        checkRunLock();
        if (!dryRun && outboxReady) {
            events.emit(new RunEvent.Phase("drain", null));
            outbox.drain(c, drains, runId, events, drainDeadline().at());
        }
    }

    /** Records a failed item durably ({@code c} in auto-commit); a dry run records nothing. */
    public void recordFailure(Connection c, Failure failure) throws SQLException {
        if (!dryRun && outboxReady) {
            failures.record(c, failure);
            events.emit(new RunEvent.FailureRecorded(failure.sweep(), failure.kind()));
        }
    }

    /** Sends recorded failures to the retry queue ({@code c} in auto-commit). */
    public void flushFailures(Connection c) throws SQLException {
        if (!dryRun && outboxReady) {
            long sent = failures.flush(c);
            if (sent > 0) {
                events.emit(new RunEvent.FailuresSent(sent));
            }
        }
    }
}
