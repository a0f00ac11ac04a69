package dev.reclaim.outbox;

import dev.reclaim.Reclaim;
import dev.reclaim.db.Database;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The outbox is a queue: once it has held a large backlog, its heap keeps that size while it holds a few rows, and
 * PostgreSQL's planner, costing each page as a read from disk, then reads the whole heap for each batch (three times:
 * the batch, the journal's lookup of each key's sweep, the removal). A drain's cost must follow the keys it drains,
 * not the largest backlog the table ever held. Counted from PostgreSQL's own statistics (pg_stat_user_tables).
 */
class OutboxPlansIT {
    private static final int BATCHES = 5; // S3's 1,000 keys a batch

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();

    @Test
    void aDrainsBatches_shouldReadTheOutboxByItsIndexes_afterItOnceHeldALargeBacklog() throws Exception {
        try (Connection c = DriverManager.getConnection(fx.jdbcUrl + "&ApplicationName=outbox-plans-test");
             Statement s = c.createStatement()) {
            Database.migrate(fx.db);
            // 200,000 keys drained long ago, then the keys of today at the end of the heap: vacuum cannot truncate it.
            s.execute("INSERT INTO reclaim.pending_deletions (store, key, sweep, run_id) SELECT 'moc-files',"
                    + " 'mocs/old/' || g, 'moc-purge', gen_random_uuid() FROM generate_series(1, 200000) g");
            s.execute("INSERT INTO reclaim.pending_deletions (store, key, sweep, run_id) SELECT 'moc-files',"
                    + " 'mocs/now/' || g || '.pdf', 'moc-purge', gen_random_uuid() FROM generate_series(1, "
                    + BATCHES * 1000 + ") g");
            s.execute("DELETE FROM reclaim.pending_deletions WHERE key LIKE 'mocs/old/%'");
            s.execute("VACUUM ANALYZE reclaim.pending_deletions");
            Set<Integer> before = reclaimBackends(s);
            long[] scansBefore = scans(s);

            try (Reclaim reclaim = fx.reclaim()) {
                RunReport report = reclaim.run(new RunRequest("test", false, List.of(), Deadline.none(), null));
                assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
                assertThat(report.keysDeleted()).isEqualTo(BATCHES * 1000);
            }
            // A backend's statistics reach the shared counters by the time it has exited (the pool closed them).
            Instant until = Instant.now().plus(Duration.ofSeconds(20));
            while (!before.containsAll(reclaimBackends(s)) && Instant.now().isBefore(until)) {
                Thread.sleep(50);
            }
            assertThat(reclaimBackends(s)).isSubsetOf(before);
            long[] scansAfter = scans(s);

            assertThat(scansAfter[1] - scansBefore[1]).as("index scans of reclaim.pending_deletions").isPositive();
            // A run reads the whole table a fixed number of times (which stores have keys, the report's count per
            // store), never once per batch.
            assertThat(scansAfter[0] - scansBefore[0]).as("sequential scans of reclaim.pending_deletions")
                    .isLessThan(BATCHES);
        }
    }

    /** Sequential and index scans of the outbox so far. */
    private static long[] scans(Statement s) throws SQLException {
        s.execute("SELECT pg_stat_clear_snapshot()");
        try (ResultSet rs = s.executeQuery("SELECT seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables"
                + " WHERE schemaname = 'reclaim' AND relname = 'pending_deletions'")) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2)};
        }
    }

    private static Set<Integer> reclaimBackends(Statement s) throws SQLException {
        Set<Integer> pids = new HashSet<>();
        try (ResultSet rs = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                + " AND application_name = 'reclaim'")) {
            while (rs.next()) {
                pids.add(rs.getInt(1));
            }
        }
        return pids;
    }
}
