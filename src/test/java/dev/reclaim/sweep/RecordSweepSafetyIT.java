package dev.reclaim.sweep;

import dev.reclaim.report.SweepReport;
import dev.reclaim.Reclaim;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.PrefixGuard;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What must never happen: a file deleted while its row lives, a half-purged item, a key lost after a crash. */
class RecordSweepSafetyIT {
    private static final String EXPIRED = "deleted_at < now() - interval '30 days'";
    private static final String OWNED_KEYS = """
            SELECT s3_key AS k FROM moc_files UNION ALL SELECT thumbnail_key FROM moc_instructions
            UNION ALL SELECT s3_key FROM gallery_images UNION ALL SELECT thumbnail_key FROM gallery_images""";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 0);

    private RunReport run(Reclaim reclaim) {
        try (reclaim) {
            return reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }
    }

    @Test
    void shouldDeleteFilesOnlyAfterTheCommitThatRemovedTheirRows() throws Exception {
        List<String> violations = new CopyOnWriteArrayList<>();
        List<String> seen = new CopyOnWriteArrayList<>();
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Store files = real.get("moc-files");
        Store observing = new ForwardingStore(files) {
            @Override
            public BatchResult delete(List<String> keys, java.time.Instant deadline) {
                // Seen from another connection, at the moment of the delete call: no row owns any of these keys.
                try (Connection c = fx.db.getConnection();
                     PreparedStatement ps = c.prepareStatement("SELECT k FROM (" + OWNED_KEYS + ") o WHERE k = ANY(?)")) {
                    ps.setArray(1, c.createArrayOf("text", keys.toArray()));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            violations.add(rs.getString(1));
                        }
                    }
                } catch (Exception e) {
                    violations.add("check failed: " + e);
                }
                seen.addAll(keys);
                return super.delete(keys, deadline);
            }
        };
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        stores.put("moc-files", observing);

        RunReport report = run(fx.reclaim(new Stores(stores, real)));

        assertThat(report.sweeps().get(0).purged()).isEqualTo(6);
        assertThat(seen).isNotEmpty();
        assertThat(violations).isEmpty();
    }

    @Test
    void shouldLeaveOutAnItemWaitingInTheFailureTable_whichTheFailurePipelineRetries_notTheSweepAgain() throws Exception {
        String poison = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " ORDER BY id LIMIT 1").get(0);
        fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id = '" + poison + "'");
        fx.refuseToDeletePoisonMocs();
        assertThat(run(fx.reclaim()).sweeps().get(0).failed()).isEqualTo(1);

        RunReport second = run(fx.reclaim());

        // Without a retry queue the run retries the stored failure once before its sweeps (it fails again); the sweep
        // does not spend its run on it a second time. Before issue 20 it took the item again: failed 1, eligible 1.
        SweepReport sweep = second.sweeps().get(0);
        assertThat(second.failures().retried()).isEqualTo(1);
        assertThat(second.failures().retriedOk()).isZero();
        assertThat(sweep.eligible()).isZero();
        assertThat(sweep.failed()).isZero();
        assertThat(fx.count("SELECT retry_count FROM reclaim.failures WHERE item_id = '" + poison + "'")).isEqualTo(1);

        fx.execute("DROP TRIGGER refuse_poison ON moc_instructions");
        RunReport cured = run(fx.reclaim());

        // Settled by the failure pipeline (its row leaves the table), the item is gone; nothing else was waiting.
        assertThat(cured.failures().retriedOk()).isEqualTo(1);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + poison + "'")).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures")).isZero();
    }

    @Test
    void shouldRollBackTheWholeItemWhenAStepFails_andGoOnWithTheNext() throws Exception {
        String poison = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " ORDER BY id LIMIT 1").get(0);
        fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id = '" + poison + "'");
        fx.refuseToDeletePoisonMocs();
        List<String> poisonFiles = fx.strings("SELECT s3_key FROM moc_files WHERE moc_id = '" + poison + "'");

        RunReport report = run(fx.reclaim());

        SweepReport sweep = report.sweeps().get(0);
        assertThat(report.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(sweep.failed()).isEqualTo(1);
        assertThat(sweep.purged()).isEqualTo(5);
        assertThat(sweep.failures()).singleElement().satisfies(f -> {
            assertThat(f.item()).isEqualTo(poison);
            assertThat(f.step()).isEqualTo("delete-moc");
            assertThat(f.error()).contains("refusing to delete poison MOC");
        });
        // Nothing of the poison MOC changed: its bricks are still allocated, its rows and files are all there.
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + poison + "'")).isEqualTo(1);
        assertThat(fx.count("""
                SELECT count(*) FROM moc_parts p JOIN moc_parts_lists l ON l.id = p.parts_list_id
                WHERE p.status = 'allocated' AND l.moc_id = '""" + poison + "'")).isEqualTo(5);
        assertThat(fx.count("SELECT count(*) FROM moc_files WHERE moc_id = '" + poison + "'")).isEqualTo(2);
        assertThat(TestS3.keys(fx.mocBucket)).containsAll(poisonFiles);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isEqualTo(1);
    }

    @Test
    void shouldKeepTheWholeItem_andNoKeyInTheOutbox_whenItsCommitFails() throws Exception {
        // A deferred constraint fails at COMMIT, after every step and the outbox insert ran: nothing of it may stay.
        String poison = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " ORDER BY id LIMIT 1").get(0);
        fx.execute("UPDATE moc_instructions SET title = 'poison at commit' WHERE id = '" + poison + "'");
        fx.execute("""
                CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF OLD.title = 'poison at commit' THEN RAISE EXCEPTION 'refused at commit'; END IF;
                  RETURN OLD;
                END $$;
                CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER DELETE ON moc_instructions
                  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();
                """);
        List<String> poisonFiles = fx.strings("SELECT s3_key FROM moc_files WHERE moc_id = '" + poison + "'");

        RunReport report = run(fx.reclaim());

        SweepReport sweep = report.sweeps().get(0);
        assertThat(sweep.purged()).isEqualTo(5);
        assertThat(sweep.failed()).isEqualTo(1);
        assertThat(sweep.failures()).singleElement().satisfies(f -> {
            assertThat(f.item()).isEqualTo(poison);
            assertThat(f.error()).contains("refused at commit");
        });
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + poison + "'")).isEqualTo(1);
        assertThat(fx.count("SELECT count(*) FROM moc_files WHERE moc_id = '" + poison + "'")).isEqualTo(2);
        assertThat(fx.count("""
                SELECT count(*) FROM moc_parts p JOIN moc_parts_lists l ON l.id = p.parts_list_id
                WHERE p.status = 'allocated' AND l.moc_id = '""" + poison + "'")).isEqualTo(5);
        assertThat(TestS3.keys(fx.mocBucket)).containsAll(poisonFiles);
        assertThat(fx.strings("SELECT key FROM reclaim.pending_deletions")).doesNotContainAnyElementsOf(poisonFiles);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
    }

    @Test
    void shouldSkipAnItemRestoredBetweenPagingAndPurge() throws Exception {
        String restored = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " ORDER BY id DESC LIMIT 1").get(0);
        fx.execute("UPDATE moc_instructions SET title = 'restore-me' WHERE id = '" + restored + "'");
        // The application restores the MOC right after Reclaim listed it: the listing query itself triggers it.
        fx.execute("""
                CREATE FUNCTION user_restores_moc() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
                BEGIN
                  UPDATE moc_instructions SET deleted_at = NULL WHERE title = 'restore-me' AND deleted_at IS NOT NULL;
                  RETURN true;
                END $$""");
        String yaml = Files.readString(Path.of("config/reclaim.yaml")).replace(
                "WHERE deleted_at IS NOT NULL AND deleted_at < :cutoff\n",
                "WHERE deleted_at IS NOT NULL AND deleted_at < :cutoff AND user_restores_moc()\n");
        assertThat(yaml).contains("user_restores_moc()");

        RunReport report = run(fx.reclaim(yaml));

        SweepReport sweep = report.sweeps().get(0);
        assertThat(sweep.eligible()).isEqualTo(6);
        assertThat(sweep.skipped()).isEqualTo(1);
        assertThat(sweep.purged()).isEqualTo(5);
        assertThat(sweep.failed()).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + restored + "' AND deleted_at IS NULL")).isEqualTo(1);
        assertThat(fx.count("SELECT count(*) FROM moc_files WHERE moc_id = '" + restored + "'")).isEqualTo(2);
    }

    @Test
    void shouldDeleteKeysLeftInTheOutboxByACrashedRun() throws Exception {
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> crashing = new LinkedHashMap<>(real.all());
        crashing.put("moc-files", new ForwardingStore(real.get("moc-files")) {
            @Override
            public BatchResult delete(List<String> keys, java.time.Instant deadline) {
                throw new OutOfMemoryError("simulated crash: the process dies before any file is deleted");
            }
        });
        List<String> expiredFiles = fx.strings("SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id WHERE m." + EXPIRED);

        try (Reclaim crashingRun = fx.reclaim(new Stores(crashing, real))) {
            assertThatThrownBy(() -> crashingRun.run(new RunRequest("test", false, List.of("moc-purge"), null)))
                    .isInstanceOf(OutOfMemoryError.class);
        }

        // The rows are gone (committed), the files are still there, and the outbox remembers them.
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).containsAll(expiredFiles);
        assertThat(fx.strings("SELECT key FROM reclaim.pending_deletions")).containsAll(expiredFiles);
        assertThat(fx.strings("SELECT outcome FROM reclaim.runs")).containsExactly("running");

        RunReport next = run(fx.reclaim());

        assertThat(TestS3.keys(fx.mocBucket)).doesNotContainAnyElementsOf(expiredFiles);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(next.outbox().deleted().get("moc-files")).isGreaterThanOrEqualTo(expiredFiles.size());
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(fx.strings(OWNED_KEYS));
    }

    @Test
    void shouldKeepKeysInTheOutboxWhenTheStoreIsUnreachable_andDeleteThemOnTheNextRun() throws Exception {
        fx.env().put("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1");
        List<String> expiredFiles = fx.strings("SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id WHERE m." + EXPIRED);

        RunReport first = run(fx.reclaim());

        assertThat(first.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(first.sweeps().get(0).purged()).isEqualTo(6);
        assertThat(first.sweeps().get(0).keysFailed().get("moc-files")).isPositive();
        assertThat(fx.strings("SELECT key FROM reclaim.pending_deletions")).containsAll(expiredFiles);
        assertThat(fx.count("SELECT min(attempts) FROM reclaim.pending_deletions")).isGreaterThanOrEqualTo(1);
        assertThat(fx.strings("SELECT DISTINCT last_error FROM reclaim.pending_deletions")).allSatisfy(e -> assertThat(e).isNotBlank());

        fx.env().put("AWS_ENDPOINT_URL_S3", TestS3.endpoint().toString());
        fx.execute("UPDATE reclaim.pending_deletions SET next_attempt_at = now()"); // their backoff is over
        RunReport second = run(fx.reclaim());

        assertThat(second.outbox().pending()).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(fx.strings(OWNED_KEYS));
    }

    @Test
    void shouldKeepOnlyTheKeysS3RefusedInTheOutbox() throws Exception {
        String blockedKey = fx.strings("SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id WHERE m."
                + EXPIRED + " ORDER BY f.s3_key LIMIT 1").get(0);
        RunReport first;
        try (AutoCloseable blocked = TestS3.blockDeletion(fx.mocBucket, blockedKey)) {
            first = run(fx.reclaim());
        }

        assertThat(first.sweeps().get(0).keysFailed()).containsEntry("moc-files", 1L);
        assertThat(fx.strings("SELECT key FROM reclaim.pending_deletions")).containsExactly(blockedKey);
        assertThat(fx.strings("SELECT attempts || ' ' || last_error FROM reclaim.pending_deletions").get(0))
                .startsWith("1 InternalError");
        assertThat(TestS3.keys(fx.mocBucket)).contains(blockedKey)
                .containsExactlyInAnyOrderElementsOf(concat(fx.strings(OWNED_KEYS), blockedKey));

        fx.execute("UPDATE reclaim.pending_deletions SET next_attempt_at = now()"); // its backoff is over
        RunReport second = run(fx.reclaim());

        assertThat(second.outbox().deleted()).containsEntry("moc-files", 1L);
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).doesNotContain(blockedKey);
    }

    @Test
    void shouldTryAFailedKeyOncePerRun_andKeepItInTheOutbox_whenNoRetryQueueIsConfigured() throws Exception {
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2"); // 6 expired MOCs: 3 pages, 3 drains
        String first = fx.strings("SELECT id::text FROM moc_instructions WHERE " + EXPIRED + " ORDER BY id LIMIT 1").get(0);
        String blockedKey = fx.strings("SELECT s3_key FROM moc_files WHERE moc_id = '" + first + "' ORDER BY 1 LIMIT 1").get(0);
        RunReport report;
        try (AutoCloseable blocked = TestS3.blockDeletion(fx.mocBucket, blockedKey)) {
            report = run(fx.reclaim());
        }

        assertThat(report.sweeps().get(0).purged()).isEqualTo(6);
        assertThat(report.sweeps().get(0).keysFailed()).containsEntry("moc-files", 1L);
        assertThat(fx.strings("SELECT key || ' ' || attempts FROM reclaim.pending_deletions")).containsExactly(blockedKey + " 1");
        assertThat(fx.count("SELECT count(*) FROM reclaim.failures")).isZero();
        assertThat(TestS3.keys(fx.mocBucket)).containsExactlyInAnyOrderElementsOf(concat(fx.strings(OWNED_KEYS), blockedKey));
    }

    @Test
    void shouldFailAnItemWhoseKeysFallOutsideTheStoresPrefixes_andDeleteNothingOfIt() throws Exception {
        String yaml = Files.readString(Path.of("config/reclaim.yaml"))
                .replace("allowedPrefixes: [mocs/, gallery/, uploads/tmp/]", "allowedPrefixes: [gallery/, uploads/tmp/]");
        assertThat(yaml).contains("allowedPrefixes: [gallery/, uploads/tmp/]"); // uploads/tmp/: the upload-temp sweep's glob must stay inside
        Map<String, Long> before = dev.reclaim.testing.ReferenceData.rowCounts(fx.db);
        var objects = TestS3.keys(fx.mocBucket);

        RunReport report = run(fx.reclaim(yaml));

        SweepReport sweep = report.sweeps().get(0);
        assertThat(sweep.failed()).isEqualTo(6);
        assertThat(sweep.purged()).isZero();
        assertThat(sweep.failures().get(0).error()).contains("outside the allowed prefixes of store moc-files");
        assertThat(dev.reclaim.testing.ReferenceData.rowCounts(fx.db)).isEqualTo(before);
        assertThat(TestS3.keys(fx.mocBucket)).isEqualTo(objects);
    }

    private static List<String> concat(List<String> list, String extra) {
        List<String> out = new ArrayList<>(list);
        out.add(extra);
        return out;
    }
}
