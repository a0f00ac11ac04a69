package dev.reclaim.run;

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
                         Stores stores, Outbox outbox, OutboxTally outboxTally, boolean outboxReady) {

    /** Deletes every pending key now (not in a dry run, nor before Reclaim's schema exists). */
    public void drainOutbox(Connection c) throws SQLException {
        if (!dryRun && outboxReady) {
            outbox.drain(c, outboxTally);
        }
    }
}
