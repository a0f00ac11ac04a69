package dev.reclaim.run;

import dev.reclaim.Reclaim;
import dev.reclaim.report.RunReport;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A records sweep drains the outbox after each page beside its next page (a thread and connection of its own), when
 * the pool has a connection to spare: the store calls no longer stop the sweep, and still no file goes before its rows
 * and no key is lost, whatever the drain beside does.
 */
class DrainBesideIT {
    private static final String EXPIRED = "deleted_at < now() - interval '30 days'";
    private static final String EXPIRED_FILES = "SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id"
            + " WHERE m." + EXPIRED;

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 0);

    @BeforeEach
    void smallPages() {
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2"); // 6 expired MOCs: three pages, so drains follow pages 1 and 2
    }

    private RunReport run(Reclaim reclaim) {
        try (reclaim) {
            return reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }
    }

    private Stores with(Store mocFiles) {
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        stores.put("moc-files", mocFiles);
        return new Stores(stores, real);
    }

    @Test
    void shouldPurgeTheNextPageWhileTheDrainOfTheLastOneCallsTheStore_onAThreadOfItsOwn() throws Exception {
        fx.env().put("RECLAIM_DB_POOL_SIZE", "4");
        Thread sweeping = Thread.currentThread();
        List<String> threads = new CopyOnWriteArrayList<>();
        List<Long> leftDuringFirstCall = new CopyOnWriteArrayList<>();
        Store files = ReclaimFixture.stores(fx.config(), fx.env()).get("moc-files");
        Store observing = new ForwardingStore(files) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                threads.add(caller().equals(sweeping.getName()) ? "sweep" : caller());
                if (threads.size() == 1) {
                    // Held until the sweep has purged the next page: only a drain beside the sweep lets it.
                    long deadlineNanos = System.nanoTime() + 10_000_000_000L;
                    long left = 6;
                    while (left > 2 && System.nanoTime() < deadlineNanos) {
                        left = count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED);
                        sleep();
                    }
                    leftDuringFirstCall.add(left);
                }
                return super.delete(keys, deadline);
            }
        };
        List<String> expiredFiles = fx.strings(EXPIRED_FILES);

        RunReport report = run(fx.reclaim(with(observing)));

        assertThat(report.sweeps().get(0).purged()).isEqualTo(6);
        assertThat(leftDuringFirstCall).containsExactly(2L); // pages 2 and 3 purged while page 1's files were deleted
        assertThat(threads).hasSizeGreaterThanOrEqualTo(2).containsOnly("reclaim-drain");
        assertThat(TestS3.keys(fx.mocBucket)).doesNotContainAnyElementsOf(expiredFiles);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(report.outbox().deleted().get("moc-files")).isGreaterThanOrEqualTo(expiredFiles.size());
    }

    @Test
    void shouldDrainOnTheSweepsOwnThread_whenThePoolHasNoConnectionToSpare() throws Exception {
        fx.env().put("RECLAIM_DB_POOL_SIZE", "3"); // run lock, sweep, reference checks: none left for a drain beside
        Thread sweeping = Thread.currentThread();
        List<Boolean> onSweep = new CopyOnWriteArrayList<>();
        Store files = ReclaimFixture.stores(fx.config(), fx.env()).get("moc-files");
        Store observing = new ForwardingStore(files) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                onSweep.add(caller().equals(sweeping.getName()));
                return super.delete(keys, deadline);
            }
        };
        List<String> expiredFiles = fx.strings(EXPIRED_FILES);

        RunReport report = run(fx.reclaim(with(observing)));

        assertThat(report.sweeps().get(0).purged()).isEqualTo(6);
        assertThat(onSweep).hasSize(3).containsOnly(true);
        assertThat(TestS3.keys(fx.mocBucket)).doesNotContainAnyElementsOf(expiredFiles);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
    }

    @Test
    void shouldEndTheSweepWithTheDrainsCrash_leavingNothingRunning_andLoseNoKey() throws Exception {
        fx.env().put("RECLAIM_DB_POOL_SIZE", "4");
        AtomicInteger calls = new AtomicInteger();
        Store files = ReclaimFixture.stores(fx.config(), fx.env()).get("moc-files");
        Store crashing = new ForwardingStore(files) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                calls.incrementAndGet();
                throw new OutOfMemoryError("simulated crash in the drain beside the sweep");
            }
        };
        List<String> expiredFiles = fx.strings(EXPIRED_FILES);

        try (Reclaim reclaim = fx.reclaim(with(crashing))) {
            assertThatThrownBy(() -> reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null)))
                    .isInstanceOf(OutOfMemoryError.class);
        }
        int callsAtEnd = calls.get();
        Thread.sleep(300);
        assertThat(calls.get()).isEqualTo(callsAtEnd).isEqualTo(1); // the sweep stopped at the next page: no drain left

        // Whatever the sweep committed, the outbox remembers; the next run deletes it.
        List<String> pending = fx.strings("SELECT key FROM reclaim.pending_deletions");
        assertThat(pending).isNotEmpty();
        assertThat(TestS3.keys(fx.mocBucket)).containsAll(pending);

        RunReport next = run(fx.reclaim());

        assertThat(next.sweeps().get(0).failed()).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).doesNotContainAnyElementsOf(expiredFiles);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
    }

    @Test
    void aFileTwoMocsShare_shouldBeDeleted_whenTheSecondIsPurgedWhileTheDrainBesideKeepsItForTheFirst() throws Exception {
        // Found by ProcessKillIT (seed -2691973391430188090): the drain of the first MOC's page checked the shared key,
        // found the second MOC's row still holding it and kept it; the second MOC's purge, beside it, found the key
        // still in the outbox (ON CONFLICT DO NOTHING) and committed; the drain then removed the key as kept. No row
        // held it, the outbox had forgotten it, and it stayed in S3.
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "1");
        fx.env().put("RECLAIM_DB_POOL_SIZE", "4");
        List<String> mocs = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " ORDER BY id LIMIT 2");
        String second = mocs.get(1);
        String shared = fx.strings("SELECT s3_key FROM moc_files WHERE moc_id = '" + mocs.get(0) + "' ORDER BY s3_key LIMIT 1").get(0);
        fx.execute("INSERT INTO moc_files (moc_id, file_type, s3_key) VALUES ('" + second + "', 'instructions', '" + shared + "')");
        // The second MOC's delete waits for an advisory lock the test holds until the first drain has checked its keys.
        fx.execute("""
                CREATE FUNCTION hold_second() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF OLD.id = '%s' THEN PERFORM pg_advisory_lock(7770001); PERFORM pg_advisory_unlock(7770001); END IF;
                  RETURN OLD;
                END $$""".formatted(second));
        fx.execute("CREATE TRIGGER hold_second BEFORE DELETE ON moc_instructions FOR EACH ROW EXECUTE FUNCTION hold_second()");
        try (java.sql.Connection holder = java.sql.DriverManager.getConnection(fx.jdbcUrl + "&ApplicationName=holder");
             java.sql.Statement hold = holder.createStatement()) {
            hold.execute("SELECT pg_advisory_lock(7770001)");
            Store files = ReclaimFixture.stores(fx.config(), fx.env()).get("moc-files");
            Store racing = new ForwardingStore(files) {
                private boolean first = true;

                @Override
                public synchronized BatchResult delete(List<String> keys, Instant deadline) {
                    if (first) {
                        // The first MOC's drain, its reference check done (the second MOC's row held the shared key):
                        // the second MOC's purge, beside it, goes on and gets up to 5 s to commit.
                        first = false;
                        try {
                            hold.execute("SELECT pg_advisory_unlock(7770001)");
                        } catch (java.sql.SQLException e) {
                            throw new IllegalStateException(e);
                        }
                        long until = System.nanoTime() + 5_000_000_000L;
                        while (count("SELECT count(*) FROM moc_instructions WHERE id = '" + second + "'") > 0
                                && System.nanoTime() < until) {
                            sleep();
                        }
                    }
                    return super.delete(keys, deadline);
                }
            };
            try (Reclaim reclaim = fx.reclaim(with(racing))) {
                reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
                reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null)); // what the first left pending
            }
        }

        assertThat(count("SELECT count(*) FROM moc_instructions WHERE id = '" + second + "'")).isZero();
        assertThat(count("SELECT count(*) FROM moc_files WHERE s3_key = '" + shared + "'")).isZero();
        assertThat(TestS3.exists(fx.mocBucket, shared)).as("the shared file, once no row holds it").isFalse();
    }

    private long count(String sql) {
        try {
            return fx.count(sql);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The thread that made the store call: store calls wait on a call thread named after it ("caller > store call"). */
    private static String caller() {
        String name = Thread.currentThread().getName();
        int call = name.lastIndexOf(" > store call");
        return call < 0 ? name : name.substring(0, call);
    }
}
