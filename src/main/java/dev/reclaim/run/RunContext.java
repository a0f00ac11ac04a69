package dev.reclaim.run;

import dev.reclaim.failure.Failure;
import dev.reclaim.failure.Failures;
import dev.reclaim.outbox.DrainState;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.Stores;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.sweep.Brake;
import dev.reclaim.sweep.PlanScope;
import dev.reclaim.sweep.SweepContext;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.UUID;

/**
 * What every sweep of one run shares. {@code now} is the database's clock at the start: cutoffs are computed from it,
 * so the application server's clock never matters.
 */
record RunContext(UUID runId, Instant now, boolean dryRun, Deadline deadline, DataSource dataSource,
                         Stores stores, Outbox outbox, DrainState drains, boolean outboxReady,
                         Failures failures, RunEvents events, RunControl control, PlanScope plan, boolean braked)
        implements SweepContext {

    /** A run's sweeps are braked by their history; a retried item, or a plan applied (its own approval), is not. */
    @Override
    public Brake brake(SweepConfig sweep) throws SQLException {
        if (!braked || plan != null) {
            return Brake.none(sweep.name(), plan != null ? "a reviewed plan is its own approval" : "a retried item");
        }
        try (Connection c = dataSource.getConnection()) {
            return BrakeHistory.of(c, sweep, runId, dryRun);
        }
    }

    @Override
    public boolean deadlinePassed() {
        return deadline.passed();
    }

    @Override
    public Instant deadlineAt() {
        return deadline.at();
    }

    @Override
    public void checkRunLock() throws SQLException {
        control.check();
    }

    /** Deletes every pending key now (not in a dry run, nor before Reclaim's schema exists); checks the lock first. */
    public void drainOutbox(Connection c) throws SQLException {
        checkRunLock();
        if (!dryRun && outboxReady) {
            events.emit(new RunEvent.Phase("drain", null));
            // After a stop was requested (SIGTERM), a few seconds' grace: the keys of the items purged go if they can.
            outbox.drain(c, drains, runId, events, deadline.grace().at());
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
