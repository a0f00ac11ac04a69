package dev.reclaim.run;

import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.db.Database;
import dev.reclaim.outbox.DrainState;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.Listing;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSettings;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.exception.SdkClientException;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Item 10: a run that fails, is killed or is stopped still says, in its report and its ledger row, what it did. */
class RunAccountingIT {
    private static final String EXPIRED = "deleted_at < now() - interval '30 days'";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(40, 0); // 12 expired MOCs

    @BeforeEach
    void setUp() {
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2");
    }

    @Test
    void aRunWhoseConnectionsAreTerminatedMidRun_shouldReportAndRecordWhatItPurgedUpToTheFailure() throws Exception {
        AtomicInteger killed = new AtomicInteger(-1);
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        stores.put("moc-files", new ForwardingStore(real.get("moc-files")) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                if (killed.get() < 0) {
                    killed.set(terminateReclaimConnections());
                }
                return super.delete(keys, deadline);
            }
        });

        RunReport report;
        try (Reclaim reclaim = fx.reclaim(new Stores(stores, real))) {
            report = reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }
        fx.db.getHikariPoolMXBean().softEvictConnections(); // the test's own pool lost its connections too

        long gone = 12 - fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED);
        assertThat(killed.get()).isPositive();
        assertThat(gone).isPositive();
        assertThat(report.outcome().label()).isEqualTo("failed");
        assertThat(report.sweeps()).extracting(SweepReport::name).containsExactly("moc-purge");
        assertThat(report.sweeps().get(0).purged()).isEqualTo(gone);
        assertThat(report.purged()).isEqualTo(gone);
        assertThat(report.outbox().pending()).isEqualTo(fx.count("SELECT count(*) FROM reclaim.pending_deletions"));
        JsonNode row = Reports.JSON.readTree(fx.strings("SELECT jsonb_build_object('outcome', outcome, 'purged', purged, "
                + "'report', report)::text FROM reclaim.runs WHERE id = '" + report.runId() + "'").get(0));
        assertThat(row.get("outcome").asText()).isEqualTo("failed");
        assertThat(row.get("purged").asLong()).isEqualTo(gone);
        assertThat(row.at("/report/sweeps/0/name").asText()).isEqualTo("moc-purge");
        assertThat(row.at("/report/sweeps/0/purged").asLong()).isEqualTo(gone);

        RunReport next;
        try (Reclaim reclaim = fx.reclaim()) {
            next = reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }
        assertThat(next.outcome().label()).isEqualTo("completed");
        assertThat(next.sweeps().get(0).purged()).isEqualTo(12 - gone);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
    }

    @Test
    void aRunRetryingTheFailuresItFindsStored_shouldCountTheFilesThoseRetriesDelete() throws Exception {
        // Found by RandomWorldsIT (seed 3535195788): with no retry queue a run first retries the stored failures, and a
        // record's retry drains the outbox; those deletes went to no report.
        fx.refuseToDeletePoisonMocs();
        fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id = (SELECT id FROM moc_instructions WHERE "
                + EXPIRED + " ORDER BY id LIMIT 1)");
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> crashing = new LinkedHashMap<>(real.all());
        crashing.put("moc-files", new ForwardingStore(real.get("moc-files")) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                throw new OutOfMemoryError("simulated crash: the process dies before any file is deleted");
            }
        });
        try (Reclaim reclaim = fx.reclaim(new Stores(crashing, real))) {
            reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        } catch (OutOfMemoryError expected) {
            // rows committed, their keys left in the outbox, the poison MOC's failure stored
        }
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures WHERE kind = 'record'")).isEqualTo(1);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isPositive();
        fx.execute("DROP TRIGGER refuse_poison ON moc_instructions");
        int objectsBefore = TestS3.keys(fx.mocBucket).size();

        RunReport next;
        try (Reclaim reclaim = fx.reclaim()) {
            next = reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }

        int deleted = objectsBefore - TestS3.keys(fx.mocBucket).size();
        assertThat(next.failures().retried()).isEqualTo(1);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(next.outbox().deleted().getOrDefault("moc-files", 0L)).isEqualTo(deleted);
    }

    @Test
    void aStoredFailureThatFailsAgain_shouldStillCountTheFilesItsRetrysDrainDeletes() throws Exception {
        // Found by RandomWorldsIT (seed -68): a record's retry drains the outbox even when its own item fails again, and
        // that drain deleted a key another item's purge had left after S3 refused it; no report counted that key.
        fx.refuseToDeletePoisonMocs();
        fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id = (SELECT id FROM moc_instructions WHERE "
                + EXPIRED + " ORDER BY id LIMIT 1)");
        String refused = fx.strings("SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id WHERE m."
                + EXPIRED + " AND m.title <> 'poison' AND NOT EXISTS (SELECT 1 FROM moc_files g WHERE g.s3_key = f.s3_key "
                + "AND g.moc_id <> f.moc_id) ORDER BY f.s3_key LIMIT 1").get(0);
        try (AutoCloseable refusal = TestS3.blockDeletion(fx.mocBucket, refused); Reclaim reclaim = retryingAtOnce()) {
            reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }
        assertThat(fx.strings("SELECT key FROM reclaim.pending_deletions")).containsExactly(refused);
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures WHERE kind = 'record'")).isEqualTo(1);

        RunReport next;
        try (Reclaim reclaim = retryingAtOnce()) {
            next = reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }

        assertThat(TestS3.exists(fx.mocBucket, refused)).isFalse();
        assertThat(next.failures().retried()).isEqualTo(1);
        assertThat(next.failures().retriedOk()).isZero(); // the poison MOC failed again
        assertThat(next.outbox().deleted().getOrDefault("moc-files", 0L)).isEqualTo(1);
    }

    @Test
    void aKeyPendingInTheOutbox_shouldBeDeletedAndCountedOnce_whenAnAssetsSweepListsItToo() throws Exception {
        // Found by RandomWorldsIT (seed -786721703479183241): a MOC file saved from a temp upload stays under uploads/tmp/;
        // its purge left it pending (S3 refused it), upload-temp then deleted it and the next drain deleted it again,
        // which S3 answers as deleted: two reports counted one object.
        String saved = aSavedTempUploadPendingInTheOutbox();
        Set<String> before = TestS3.keys(fx.mocBucket);

        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> drainFails = new LinkedHashMap<>(real.all());
        AtomicInteger calls = new AtomicInteger();
        drainFails.put("moc-files", new ForwardingStore(real.get("moc-files")) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                if (calls.getAndIncrement() == 0) { // the run's first drain: S3 unreachable for that one call
                    throw SdkClientException.create("Unable to execute HTTP request: Connection refused (injected)");
                }
                return super.delete(keys, deadline);
            }
        });
        List<RunReport> reports = new ArrayList<>();
        try (Reclaim reclaim = retryingAtOnce(new Stores(drainFails, real))) {
            reports.add(reclaim.run(new RunRequest("test", false, List.of("upload-temp"), null)));
        }
        assertThat(calls.get()).isPositive(); // the drain's call failed: the key stayed pending while upload-temp listed it
        try (Reclaim reclaim = retryingAtOnce()) {
            reports.add(reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null)));
        }

        Set<String> gone = new HashSet<>(before);
        gone.removeAll(TestS3.keys(fx.mocBucket));
        assertThat(gone).contains(saved);
        long reported = 0;
        for (RunReport r : reports) {
            reported += r.sweeps().stream().filter(s -> s.name().equals("upload-temp")).mapToLong(SweepReport::purged).sum()
                    + r.outbox().deleted().getOrDefault("moc-files", 0L);
        }
        assertThat(reported).as("moc-files objects the two runs report deleted").isEqualTo(gone.size());
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
    }

    @Test
    void aKeyAnotherDrainDeletesWhileAnAssetsSweepPages_shouldBeCountedOnce() throws Exception {
        // The window left open by the fix above: a drain elsewhere (the retry function's, or a run's beside asset
        // workers) deletes a pending key and commits between the sweep's listing and its outbox check. The key is no
        // longer pending, the sweep deletes it again and S3 answers "deleted": two counts for one object.
        String saved = aSavedTempUploadPendingInTheOutbox();
        Set<String> before = TestS3.keys(fx.mocBucket);

        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Outbox elsewhere = new Outbox(ReclaimFixture.stores(fx.config(), fx.env()).referenceChecked(fx.config(), fx.db),
                new dev.reclaim.failure.Failures(null), new Outbox.Policy(Duration.ZERO, Duration.ZERO, Duration.ofHours(24)));
        AtomicInteger drainedElsewhere = new AtomicInteger();
        Map<String, Store> racing = new LinkedHashMap<>(real.all());
        AtomicInteger deletes = new AtomicInteger();
        racing.put("moc-files", new ForwardingStore(real.get("moc-files")) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                if (deletes.getAndIncrement() == 0) { // the run's first drain: the key stays pending while the sweep lists
                    throw SdkClientException.create("Unable to execute HTTP request: Connection refused (injected)");
                }
                return super.delete(keys, deadline);
            }

            @Override
            public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
                Listing page = super.list(prefix, createdBefore, cursor, deadline);
                if (page.assets().stream().anyMatch(a -> a.key().equals(saved)) && drainedElsewhere.get() == 0) {
                    try (java.sql.Connection c = fx.db.getConnection()) { // the other drain, right after the listing
                        RunEvents counted = event -> {
                            if (event instanceof RunEvent.KeysDeleted d) {
                                drainedElsewhere.addAndGet(d.keys().size());
                            }
                        };
                        elsewhere.drain(c, new DrainState(), java.util.UUID.randomUUID(), counted, null);
                    } catch (java.sql.SQLException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return page;
            }
        });
        RunReport report;
        try (Reclaim reclaim = retryingAtOnce(new Stores(racing, real))) {
            report = reclaim.run(new RunRequest("test", false, List.of("upload-temp"), null));
        }

        assertThat(drainedElsewhere.get()).as("the other drain deleted the pending key").isEqualTo(1);
        Set<String> gone = new HashSet<>(before);
        gone.removeAll(TestS3.keys(fx.mocBucket));
        assertThat(gone).contains(saved);
        long reported = report.sweeps().stream().filter(s -> s.name().equals("upload-temp"))
                .mapToLong(SweepReport::purged).sum() + report.outbox().deleted().getOrDefault("moc-files", 0L);
        assertThat(reported + drainedElsewhere.get()).as("moc-files objects the run and the other drain report deleted")
                .isEqualTo(gone.size());
        assertThat(fx.count("SELECT count(*) FROM reclaim.deleted_keys WHERE key = '" + saved + "'")).isEqualTo(1);
    }

    /**
     * A MOC file saved from a temp upload (its key under upload-temp's prefix, unreferenced once the MOC is purged) that
     * the MOC's purge left pending in the outbox (S3 refused its delete); upload-temp's retention 1 ms.
     */
    private String aSavedTempUploadPendingInTheOutbox() throws Exception {
        String saved = "uploads/tmp/u1/saved from a temp upload.pdf";
        String moc = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " ORDER BY id LIMIT 1").get(0);
        fx.execute("INSERT INTO moc_files (moc_id, file_type, s3_key) VALUES ('" + moc + "', 'instructions', '" + saved + "')");
        TestS3.put(fx.mocBucket, saved);
        fx.env().put("RECLAIM_UPLOAD_TEMP_RETENTION", "1ms");
        try (AutoCloseable refusal = TestS3.blockDeletion(fx.mocBucket, saved); Reclaim reclaim = retryingAtOnce()) {
            reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }
        assertThat(fx.strings("SELECT key FROM reclaim.pending_deletions")).containsExactly(saved);
        return saved;
    }

    /** Reclaim as shipped, but a key that failed is tried again by the next run (no 15-minute backoff). */
    private Reclaim retryingAtOnce() {
        return retryingAtOnce(ReclaimFixture.stores(fx.config(), fx.env()));
    }

    /** The same, on {@code stores}. */
    private Reclaim retryingAtOnce(Stores stores) {
        HikariDataSource pool = Database.pool(TestSettings.of(fx.env()).database());
        return new Reclaim(fx.config(), pool, stores, null,
                new Outbox.Policy(Duration.ZERO, Duration.ZERO, Duration.ofHours(24)), pool, stores);
    }

    @Test
    void aRunningLedgerRowLeftByAKilledRun_shouldBecomeInterrupted_whenTheNextRunTakesTheLock() throws Exception {
        try (Reclaim reclaim = fx.reclaim()) {
            reclaim.run(new RunRequest("test", false, List.of("render-outputs"), null)); // creates Reclaim's schema
        }
        fx.execute("INSERT INTO reclaim.runs (id, trigger, started_at, outcome, purged) "
                + "VALUES ('00000000-0000-0000-0000-00000000dead', 'cli', now() - interval '2 hours', 'running', 7)");

        RunReport report;
        try (Reclaim reclaim = fx.reclaim()) {
            report = reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }

        assertThat(fx.strings("SELECT outcome || ' ' || purged FROM reclaim.runs "
                + "WHERE id = '00000000-0000-0000-0000-00000000dead'")).containsExactly("interrupted 7");
        assertThat(fx.strings("SELECT outcome FROM reclaim.runs WHERE id = '" + report.runId() + "'"))
                .containsExactly("completed");
        assertThat(fx.count("SELECT count(*) FROM reclaim.runs WHERE outcome = 'running'")).isZero();
    }

    @Test
    void aCliRunGivenSigterm_shouldFinishTheItemInHand_recordInterrupted_andPrintItsSummary() throws Exception {
        Set<String> filesBefore = new HashSet<>(ReferenceData.ownedKeys(fx.db).get("moc-files"));
        Path dir = Files.createTempDirectory("reclaim-sigterm");
        Path config = dir.resolve("slow.yaml");
        String shipped = Files.readString(Path.of("config/reclaim.yaml"));
        String slowStep = """
                    steps:
                      - name: slow-down
                        sql: SELECT pg_sleep(0.2) FROM moc_instructions WHERE id = :id
                """;
        assertThat(shipped).contains("    steps:\n");
        Files.writeString(config, shipped.replaceFirst("    steps:\n", slowStep));
        File stdout = dir.resolve("stdout").toFile();
        File stderr = dir.resolve("stderr").toFile();
        ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                "-cp", System.getProperty("java.class.path"), "-XX:TieredStopAtLevel=1", "-Xmx256m",
                "dev.reclaim.cli.ReclaimCli", "run", "--sweep", "moc-purge", "--config", config.toString())
                .redirectOutput(stdout).redirectError(stderr);
        pb.environment().clear();
        pb.environment().putAll(fx.env());

        Process child = pb.start();
        try {
            waitUntilTheLedgerShowsPurgedItems(child);
            long sent = System.nanoTime();
            child.destroy(); // SIGTERM

            assertThat(child.waitFor(15, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).isLessThan(Duration.ofSeconds(10));
        } finally {
            child.destroyForcibly();
        }

        String out = Files.readString(stdout.toPath(), StandardCharsets.UTF_8);
        long gone = 12 - fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED);
        assertThat(out).as("stdout; stderr:%n%s", Files.readString(stderr.toPath()))
                .contains("outcome: interrupted", "sweep moc-purge", "purged " + gone);
        assertThat(gone).isBetween(1L, 11L); // it stopped taking items
        assertThat(fx.strings("SELECT outcome || ' ' || purged FROM reclaim.runs"))
                .containsExactly("interrupted " + gone);
        Set<String> pending = new HashSet<>(fx.strings("SELECT key FROM reclaim.pending_deletions"));
        Set<String> orphaned = new HashSet<>(filesBefore);
        orphaned.removeAll(ReferenceData.ownedKeys(fx.db).get("moc-files"));
        assertThat(orphaned).isNotEmpty();
        List<String> forgotten = new ArrayList<>();
        for (String key : orphaned) {
            if (!pending.contains(key) && TestS3.exists(fx.mocBucket, key)) {
                forgotten.add(key);
            }
        }
        assertThat(forgotten).as("files whose rows are gone, still in S3 and not in the outbox").isEmpty();
    }

    private void waitUntilTheLedgerShowsPurgedItems(Process child) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < until) {
            assertThat(child.isAlive()).as("the run is still going").isTrue();
            try {
                if (fx.count("SELECT coalesce(max(purged), 0) FROM reclaim.runs WHERE outcome = 'running'") > 0) {
                    return;
                }
            } catch (Exception notYet) {
                // Reclaim's schema does not exist until the child has migrated it
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the ledger never showed purged items");
    }

    /** Every backend of Reclaim's pool (application_name 'reclaim'), the run lock's included. */
    private int terminateReclaimConnections() {
        return fx.terminateBackends("FROM pg_stat_activity WHERE application_name = 'reclaim' AND datname = current_database()");
    }
}
