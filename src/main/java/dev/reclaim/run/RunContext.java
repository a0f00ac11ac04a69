package dev.reclaim.run;

import dev.reclaim.failure.Failure;
import dev.reclaim.failure.FailureTally;
import dev.reclaim.failure.Failures;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.outbox.OutboxTally;
import dev.reclaim.store.Stores;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.UUID;

/**
 * What every sweep of one run shares: its id, the database's clock at the start (cutoffs are computed from it, so
 * the application server's clock never matters), dry run, the deadline, the pool, the stores and the outbox.
 */
public record RunContext(UUID runId, Instant now, boolean dryRun, Deadline deadline, DataSource dataSource,
                         Stores stores, Outbox outbox, OutboxTally outboxTally, boolean outboxReady,
                         Failures failures, FailureTally failureTally) {

    /** Deletes every pending key now (not in a dry run, nor before Reclaim's schema exists). */
    public void drainOutbox(Connection c) throws SQLException {
        if (!dryRun && outboxReady) {
            outbox.drain(c, outboxTally, runId, failureTally, deadline.at());
        }
    }

    /** Records a failed item durably ({@code c} in auto-commit); a dry run records nothing. */
    public void recordFailure(Connection c, Failure failure) throws SQLException {
        if (!dryRun && outboxReady) {
            failures.record(c, failure);
            failureTally.recorded();
        }
    }

    /** Sends recorded failures to the retry queue ({@code c} in auto-commit). */
    public void flushFailures(Connection c) throws SQLException {
        if (!dryRun && outboxReady) {
            failureTally.sent(failures.flush(c));
        }
    }
}
