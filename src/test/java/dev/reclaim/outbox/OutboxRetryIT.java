package dev.reclaim.outbox;

import dev.reclaim.Reclaim;
import dev.reclaim.cli.ReclaimCli;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.exception.SdkClientException;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Item 6 of the Trust issue: a file whose rows are gone is never forgotten. Attempts on a key are spaced in time and
 * never repeated within a run; without a retry queue a key never leaves the outbox until S3 confirms its delete, and
 * failed items wait in reclaim.failures for the next run (or {@code reclaim retry}) to retry them.
 */
class OutboxRetryIT {
    private static final String EXPIRED = "deleted_at < now() - interval '30 days'";
    private static final String OWNED_KEYS = """
            SELECT s3_key AS k FROM moc_files UNION ALL SELECT thumbnail_key FROM moc_instructions
            UNION ALL SELECT s3_key FROM gallery_images UNION ALL SELECT thumbnail_key FROM gallery_images""";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 0);

    @BeforeEach
    void setUp() {
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2"); // 6 expired MOCs: 3 pages, a drain after each
    }

    private RunReport run(Reclaim reclaim) {
        try (reclaim) {
            return reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }
    }

    /** Time passes: every pending key's backoff is over, and its failures began more than a day ago. */
    private void aDayLater() throws Exception {
        fx.execute("UPDATE reclaim.pending_deletions SET next_attempt_at = now() - interval '1 second', "
                + "first_failed_at = first_failed_at - interval '25 hours', last_attempt_at = last_attempt_at - interval '25 hours'");
    }

    @Test
    void shouldDeleteEveryFileOnceS3IsBack_whenS3WasDownForAWholeRun_withoutARetryQueue() throws Exception {
        List<String> expiredFiles = fx.strings("SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id WHERE m." + EXPIRED);
        Map<String, Integer> attempts = new ConcurrentHashMap<>();
        AtomicBoolean s3Down = new AtomicBoolean(true);
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        stores.put("moc-files", new ForwardingStore(real.get("moc-files")) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                keys.forEach(k -> attempts.merge(k, 1, Integer::sum));
                if (s3Down.get()) {
                    throw SdkClientException.create("Unable to execute HTTP request: Connection refused");
                }
                return super.delete(keys, deadline);
            }
        });

        RunReport down = run(fx.reclaim(new Stores(stores, real)));

        assertThat(down.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(down.sweeps().get(0).purged()).isEqualTo(6);
        assertThat(attempts).containsKeys(expiredFiles.toArray(String[]::new));
        assertThat(attempts.values()).as("never two attempts on one key within a run").containsOnly(1);
        assertThat(fx.strings("SELECT key FROM reclaim.pending_deletions")).containsAll(expiredFiles);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions WHERE next_attempt_at <= now()")).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures")).isZero();

        // A day of outage later, still down: the keys are tried once more and still stay (no queue to hand them to).
        aDayLater();
        attempts.clear();
        RunReport stillDown = run(fx.reclaim(new Stores(stores, real)));
        assertThat(stillDown.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(attempts.values()).containsOnly(1);
        assertThat(fx.strings("SELECT key FROM reclaim.pending_deletions")).containsAll(expiredFiles);
        assertThat(fx.count("SELECT min(attempts) FROM reclaim.pending_deletions")).isEqualTo(2);
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures")).isZero();

        s3Down.set(false);
        aDayLater();
        RunReport back = run(fx.reclaim(new Stores(stores, real)));

        assertThat(back.outbox().pending()).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures")).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).doesNotContainAnyElementsOf(expiredFiles)
                .containsExactlyInAnyOrderElementsOf(fx.strings(OWNED_KEYS));
    }

    @Test
    void shouldSpaceAKeysAttempts_withABackoffThatDoubles() throws Exception {
        String blockedKey = fx.strings("SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id WHERE m."
                + EXPIRED + " ORDER BY 1 LIMIT 1").get(0);
        try (AutoCloseable blocked = TestS3.blockDeletion(fx.mocBucket, blockedKey)) {
            run(fx.reclaim());
            assertThat(fx.strings("SELECT attempts || ' ' || round(extract(epoch FROM next_attempt_at - last_attempt_at) / 60) "
                    + "FROM reclaim.pending_deletions")).containsExactly("1 15");

            RunReport tooSoon = run(fx.reclaim());
            assertThat(tooSoon.outbox().failed()).isEmpty();
            assertThat(fx.count("SELECT attempts FROM reclaim.pending_deletions")).isEqualTo(1);

            fx.execute("UPDATE reclaim.pending_deletions SET next_attempt_at = now()");
            run(fx.reclaim());
            assertThat(fx.strings("SELECT attempts || ' ' || round(extract(epoch FROM next_attempt_at - last_attempt_at) / 60) "
                    + "FROM reclaim.pending_deletions")).containsExactly("2 30");
        }
        fx.execute("UPDATE reclaim.pending_deletions SET next_attempt_at = now()");
        run(fx.reclaim());
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(TestS3.exists(fx.mocBucket, blockedKey)).isFalse();
    }

    @Test
    void shouldMakeNoStoreCallAfterTheDeadline_andLeaveWhatIsLeftInTheOutbox() throws Exception {
        List<Instant> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
        dev.reclaim.run.Deadline[] deadline = new dev.reclaim.run.Deadline[1];
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        stores.put("moc-files", new ForwardingStore(real.get("moc-files")) {
            @Override
            public int maxBatch() {
                return 2; // a drain of several calls
            }

            @Override
            public BatchResult delete(List<String> keys, Instant until) {
                calls.add(Instant.now());
                BatchResult result = super.delete(keys, until);
                try {
                    // A slow S3: the first answer arrives after the run's deadline.
                    Thread.sleep(Math.max(0, java.time.Duration.between(Instant.now(), deadline[0].at()).toMillis() + 100));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return result;
            }
        });
        try (Reclaim reclaim = fx.reclaim(new Stores(stores, real))) {
            reclaim.run(new RunRequest("test", false, List.of("render-outputs"), null)); // migrations, SQL check: warm
            deadline[0] = dev.reclaim.run.Deadline.after(java.time.Duration.ofSeconds(3));
            RunReport report = reclaim.run(new RunRequest("test", false, List.of("moc-purge"), deadline[0]));

            assertThat(report.outcome()).isEqualTo(Outcome.INCOMPLETE);
            assertThat(calls).hasSize(1).allSatisfy(t -> assertThat(t).isBefore(deadline[0].at()));
            long collected = report.sweeps().get(0).keysCollected().get("moc-files");
            long deleted = report.outbox().deleted().getOrDefault("moc-files", 0L);
            assertThat(deleted).isEqualTo(2);
            assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions WHERE attempts = 0"))
                    .isEqualTo(collected - deleted).isPositive();
        }

        RunReport next = run(fx.reclaim());
        assertThat(next.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(fx.strings(OWNED_KEYS));
    }

    @Test
    void shouldRetryStoredFailuresInTheNextRun_whenNoRetryQueueIsConfigured() throws Exception {
        String poisoned = poisonOneMoc();
        RunReport first = run(fx.reclaim());
        assertThat(first.sweeps().get(0).failed()).isEqualTo(1);
        assertThat(fx.strings("SELECT item_id FROM reclaim.failures")).containsExactly(poisoned);

        // Still poisoned: the next run retries it, it fails again, and it stays where the next run finds it.
        RunReport second = run(fx.reclaim());
        assertThat(second.failures().retried()).isEqualTo(1);
        assertThat(second.failures().retriedOk()).isZero();
        assertThat(fx.strings("SELECT item_id || ' ' || retry_count FROM reclaim.failures")).containsExactly(poisoned + " 1");

        fx.execute("DROP TRIGGER refuse_poison ON moc_instructions");
        RunReport third = run(fx.reclaim());

        assertThat(third.failures().retriedOk()).isEqualTo(1);
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures")).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + poisoned + "'")).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(fx.strings(OWNED_KEYS));
    }

    @Test
    void retryCommandShouldRetryStoredFailures_withoutSqs() throws Exception {
        String poisoned = poisonOneMoc();
        run(fx.reclaim());
        fx.execute("DROP TRIGGER refuse_poison ON moc_instructions");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = ReclaimCli.execute(new String[] {"retry"}, fx.env(), new PrintWriter(out, true), new PrintWriter(err, true));

        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString()).contains("retried 1", "done 1");
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures")).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + poisoned + "'")).isZero();
    }

    private String poisonOneMoc() throws Exception {
        String id = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " ORDER BY id LIMIT 1").get(0);
        fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id = '" + id + "'");
        fx.refuseToDeletePoisonMocs();
        return id;
    }
}
