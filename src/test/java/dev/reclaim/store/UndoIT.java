package dev.reclaim.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.Reclaim;
import dev.reclaim.cli.ReclaimCli;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The undo window: every key a store confirms deleted is journaled (with the delete marker a versioned bucket made),
 * {@code reclaim restore} brings it back where the bucket keeps versions (same bytes), protects it from the next run
 * until {@code reclaim unprotect}, is a no-op the second time, and says per key why it cannot where it cannot.
 */
class UndoIT {
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private final List<String> orphans = new ArrayList<>();

    @BeforeEach
    void setUp() {
        TestS3.client().putBucketVersioning(b -> b.bucket(fx.mocBucket)
                .versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED)));
        fx.env().put("RECLAIM_UPLOAD_TEMP_RETENTION", "1ms"); // S3 sets LastModified itself: everything is "old"
        for (int i = 0; i < 5; i++) {
            String key = "uploads/tmp/u" + i + "/scan.pdf";
            orphans.add(key);
            TestS3.client().putObject(b -> b.bucket(fx.mocBucket).key(key), RequestBody.fromString("scan " + i + " ✓"));
        }
    }

    private RunReport run(String sweep) {
        try (Reclaim reclaim = fx.reclaim()) {
            return reclaim.run(new RunRequest("test", false, List.of(sweep), null));
        }
    }

    private record Cli(int code, String out, String err) {
    }

    private Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ReclaimCli.execute(args, fx.env(), new PrintWriter(out, true), new PrintWriter(err, true));
        return new Cli(code, out.toString(), err.toString());
    }

    private String content(String key) {
        return TestS3.client().getObjectAsBytes(b -> b.bucket(fx.mocBucket).key(key)).asString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldJournalEveryDeletedKey_restoreTheSameBytes_protectThemFromTheNextRun_andDoNothingTheSecondTime() throws Exception {
        RunReport deleted = run("upload-temp");
        assertThat(orphans).noneMatch(k -> TestS3.exists(fx.mocBucket, k));
        // S3 answers each key with its delete marker's version id; S3Mock leaves it out, so restore looks it up
        assertThat(fx.strings("SELECT key FROM reclaim.deleted_keys WHERE run_id = '" + deleted.runId()
                + "' AND sweep = 'upload-temp' AND store = 'moc-files' AND bytes > 0")).containsExactlyInAnyOrderElementsOf(orphans);

        Cli restored = cli("restore", "--run", deleted.runId(), "--json");

        assertThat(restored.code()).as(restored.err()).isZero();
        JsonNode report = Reports.JSON.readTree(restored.out());
        assertThat(report.path("stores").path("moc-files").path("restored").asLong()).isEqualTo(5);
        for (int i = 0; i < 5; i++) {
            assertThat(content(orphans.get(i))).as("the same bytes are back").isEqualTo("scan " + i + " ✓");
        }

        RunReport next = run("upload-temp");
        assertThat(orphans).as("a restored key is protected").allMatch(k -> TestS3.exists(fx.mocBucket, k));
        assertThat(next.sweeps().get(0).purged()).isZero();

        Cli again = cli("restore", "--run", deleted.runId(), "--json");
        JsonNode second = Reports.JSON.readTree(again.out());
        assertThat(second.path("stores").path("moc-files").path("restored").asLong()).isZero();
        assertThat(second.path("stores").path("moc-files").path("alreadyPresent").asLong()).isEqualTo(5);

        Cli lifted = cli("unprotect", "moc-files:" + orphans.get(0));
        assertThat(lifted.code()).isZero();
        assertThat(lifted.out()).contains("Unprotected 1 of 1 keys");
        run("upload-temp");
        assertThat(TestS3.exists(fx.mocBucket, orphans.get(0))).as("unprotected: deleted again").isFalse();
        assertThat(orphans.subList(1, 5)).allMatch(k -> TestS3.exists(fx.mocBucket, k));
    }

    @Test
    void shouldBringBackAPurgedMocsFiles_sameBytes_andKeepThemOnTheNextRun() throws Exception {
        fx.sampleData(20, 0);
        List<String> keys = fx.strings("""
                SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id
                WHERE m.deleted_at < now() - interval '30 days'""");
        assertThat(keys).isNotEmpty();
        Map<String, String> before = new java.util.HashMap<>();
        keys.forEach(k -> before.put(k, content(k)));

        RunReport purged = run("moc-purge");
        assertThat(keys).noneMatch(k -> TestS3.exists(fx.mocBucket, k));
        Cli restored = cli("restore", "--sweep", "moc-purge", "--since", purged.startedAt().minusSeconds(1).toString());

        assertThat(restored.code()).as(restored.err()).isZero();
        assertThat(restored.out()).containsPattern("store moc-files: restored \\d+, already present 0, not restorable 0");
        keys.forEach(k -> assertThat(content(k)).as(k).isEqualTo(before.get(k)));
        run("moc-purge");
        assertThat(keys).allMatch(k -> TestS3.exists(fx.mocBucket, k));
    }

    @Test
    void shouldSayPerKeyThatNothingCanBeRestored_whenTheBucketKeepsNoVersions() throws Exception {
        fx.sampleData(0, 9); // render outputs live in an unversioned bucket
        RunReport purged = run("render-outputs");
        assertThat(purged.sweeps().get(0).purged()).isEqualTo(3);

        Cli restore = cli("restore", "--run", purged.runId());

        assertThat(restore.code()).as(restore.err()).isZero();
        assertThat(restore.out()).contains("store render-outputs: restored 0, already present 0, not restorable 3",
                "did not keep versions", "rows are purged for good",
                "store render-outputs: deletions cannot be undone: bucket " + fx.renderBucket + " does not keep versions");
    }

    @Test
    void shouldSayTheJournalWasPruned_whenTheRunIsOlderThanItsRetention() throws Exception {
        fx.env().put("RECLAIM_JOURNAL_RETENTION", "1ms");
        RunReport deleted = run("upload-temp");
        Thread.sleep(5);

        Cli restore = cli("restore", "--run", deleted.runId());

        assertThat(restore.code()).as(restore.err()).isZero();
        assertThat(restore.out()).contains("the journal holds no deletion for this selection", "have been pruned");
        assertThat(orphans).noneMatch(k -> TestS3.exists(fx.mocBucket, k));
    }

    @Test
    void shouldRefuseAnUnknownRun_anUnknownStore_andASelectionThatIsNotExactlyOne() {
        run("upload-temp");
        Map<String[], String> refused = Map.of(
                new String[] {"restore", "--run", "00000000-0000-0000-0000-000000000042"}, "unknown run",
                new String[] {"restore", "--key", "photos:users/1/a.jpg"}, "not STORE:KEY of a configured store",
                new String[] {"restore"}, "exactly one of",
                new String[] {"restore", "--sweep", "upload-temp"}, "exactly one of",
                new String[] {"restore", "--run", "yesterday"}, "not a run id");
        refused.forEach((args, says) -> {
            Cli c = cli(args);
            assertThat(c.code()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(c.err()).contains(says);
        });
    }
}
